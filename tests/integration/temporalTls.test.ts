import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig, temporalConnectionOptions } from '../../src/config';

/**
 * The TEMPORAL_TLS_* settings against a real Temporal server behind a real mutual-TLS endpoint:
 * the dev server has no TLS of its own, so a TLS terminator (Node's tls server, HTTP/2 via ALPN,
 * client certificates required and checked against our CA) forwards the bytes to it.
 */
describe('Temporal over mutual TLS', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nomaly-tls-'));
  const file = (name: string) => path.join(dir, name);
  let server: tls.Server;
  let address: string;
  const handshakes: Array<{ authorized: boolean; subject?: string }> = [];

  beforeAll(async () => {
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=nomaly test CA');
    for (const [name, cn, ext] of [
      ['server', 'temporal.test', 'subjectAltName=DNS:temporal.test\nextendedKeyUsage=serverAuth'],
      ['client', 'nomaly-worker', 'extendedKeyUsage=clientAuth'],
      ['rogue', 'rogue-worker', 'extendedKeyUsage=clientAuth'],
    ]) {
      writeFileSync(file(`${name}.ext`), `${ext}\n`);
      ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
      if (name === 'rogue') {
        // Self-signed: not issued by our CA.
        ssl('x509', '-req', '-in', `${name}.csr`, '-signkey', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`);
      } else {
        ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`);
      }
    }
    const [backendHost, backendPort] = process.env.TEMPORAL_ADDRESS!.split(':');
    server = tls.createServer(
      {
        key: readFileSync(file('server.key')),
        cert: readFileSync(file('server.pem')),
        ca: readFileSync(file('ca.pem')),
        requestCert: true,
        rejectUnauthorized: true,
        ALPNProtocols: ['h2'],
      },
      (socket) => {
        handshakes.push({ authorized: socket.authorized, subject: socket.getPeerCertificate()?.subject?.CN as string | undefined });
        const backend = net.connect(Number(backendPort), backendHost);
        socket.pipe(backend).pipe(socket);
        socket.on('error', () => backend.destroy());
        backend.on('error', () => socket.destroy());
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
  });

  const mtlsEnv = () => ({
    TEMPORAL_ADDRESS: address,
    TEMPORAL_TLS_CA_FILE: file('ca.pem'),
    TEMPORAL_TLS_SERVER_NAME: 'temporal.test',
    TEMPORAL_TLS_CERT_FILE: file('client.pem'),
    TEMPORAL_TLS_KEY_FILE: file('client.key'),
  });

  it('connects the worker (NativeConnection) and the client (Connection) with the configured CA, server name and client certificate', async () => {
    const options = temporalConnectionOptions(loadConfig(mtlsEnv()));
    const native = await NativeConnection.connect(options);
    try {
      const info = await native.workflowService.getSystemInfo({});
      expect(info.serverVersion).toBeTruthy();
    } finally {
      await native.close();
    }
    const connection = await Connection.connect(options);
    try {
      const info = await connection.workflowService.getSystemInfo({});
      expect(info.serverVersion).toBeTruthy();
    } finally {
      await connection.close();
    }
    expect(handshakes.length).toBeGreaterThanOrEqual(2);
    expect(handshakes.every((h) => h.authorized && h.subject === 'nomaly-worker')).toBe(true);
  });

  const refused = (env: Record<string, string>) => {
    const options = temporalConnectionOptions(loadConfig(env));
    return Connection.connect({ ...options, connectTimeout: '5s' }).then(
      async (c) => {
        // grpc-js connects lazily: make a call to find out.
        try {
          await c.workflowService.getSystemInfo({}, {});
          return 'connected';
        } finally {
          await c.close();
        }
      },
      (err: Error) => err.message,
    );
  };

  it('is refused without a client certificate, with one from another CA, or with the wrong server name', async () => {
    const { TEMPORAL_TLS_CERT_FILE: _c, TEMPORAL_TLS_KEY_FILE: _k, ...noClientCert } = mtlsEnv();
    expect(await refused(noClientCert)).not.toBe('connected');
    expect(await refused({ ...mtlsEnv(), TEMPORAL_TLS_CERT_FILE: file('rogue.pem'), TEMPORAL_TLS_KEY_FILE: file('rogue.key') })).not.toBe('connected');
    expect(await refused({ ...mtlsEnv(), TEMPORAL_TLS_SERVER_NAME: 'someone-else.test' })).not.toBe('connected');
    const { TEMPORAL_TLS_CA_FILE: _ca, ...systemRoots } = mtlsEnv();
    expect(await refused(systemRoots)).not.toBe('connected'); // our CA is not a system root
  });
});
