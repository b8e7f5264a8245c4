import net from 'node:net';
import os from 'node:os';
import pino from 'pino';
import { Registry } from 'prom-client';
import { ConfigError, loadConfig } from '../../../src/config';
import { startHealthServer } from '../../../src/workers/healthServer';

/** The first address of this machine that is not loopback (the CI container has one on eth0). */
function externalIPv4(): string | undefined {
  return Object.values(os.networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 2000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

describe('worker health/metrics port', () => {
  const options = { port: 0, registry: new Registry(), checks: {}, logger: pino({ level: 'silent' }) };

  it('listens on loopback only by default: reachable at 127.0.0.1, not at the machine\'s own address', async () => {
    const config = loadConfig({});
    expect(config.healthHost).toBe('127.0.0.1');
    const server = await startHealthServer({ ...options, host: config.healthHost });
    try {
      expect(server.host).toBe('127.0.0.1');
      expect(await connects('127.0.0.1', server.port)).toBe(true);
      // Where the machine has another address (here: eth0), the port does not answer on it.
      const external = externalIPv4();
      if (external) expect(await connects(external, server.port)).toBe(false);
    } finally {
      await server.close();
    }
  });

  it('listens on every interface when NOMALY_HEALTH_HOST=0.0.0.0 (containers)', async () => {
    const config = loadConfig({ NOMALY_HEALTH_HOST: '0.0.0.0' });
    const server = await startHealthServer({ ...options, host: config.healthHost });
    try {
      expect(server.host).toBe('0.0.0.0');
      const external = externalIPv4();
      if (external) expect(await connects(external, server.port)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('refuses a host that is not an IP address, naming the setting', () => {
    expect(() => loadConfig({ NOMALY_HEALTH_HOST: 'localhost:9464' })).toThrow(ConfigError);
    expect(() => loadConfig({ NOMALY_HEALTH_HOST: 'localhost:9464' })).toThrow(/NOMALY_HEALTH_HOST=localhost:9464 must be an IP address/);
  });
});
