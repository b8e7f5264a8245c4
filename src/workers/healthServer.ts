import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export type ReadinessCheck = () => Promise<void>;

export interface HealthServerOptions {
  port: number;
  /** The address to listen on: loopback unless the process runs in a container (NOMALY_HEALTH_HOST). */
  host: string;
  registry: Registry;
  /** Named checks for /ready: each must resolve for the worker to count as ready. */
  checks: Record<string, ReadinessCheck>;
  /** Where the Temporal runtime's own Prometheus exporter listens, if it does. */
  sdkMetricsUrl?: string;
  logger: Logger;
}

/** /health: the process is alive. /ready: Temporal, PostgreSQL and MinIO answer. /metrics: Prometheus text. */
export async function startHealthServer(options: HealthServerOptions): Promise<{ host: string; port: number; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    void route(req.url ?? '/', options).then(
      ({ status, type, body }) => {
        res.writeHead(status, { 'content-type': type });
        res.end(body);
      },
      (err: Error) => {
        options.logger.error({ err }, 'health endpoint failed');
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(err.message);
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(options.port, options.host, resolve));
  const { address: host, port } = server.address() as AddressInfo;
  return { host, port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function route(url: string, options: HealthServerOptions): Promise<{ status: number; type: string; body: string }> {
  const path = url.split('?')[0];
  if (path === '/health') return { status: 200, type: 'application/json', body: JSON.stringify({ status: 'ok' }) };
  if (path === '/ready') {
    const results: Record<string, string> = {};
    await Promise.all(
      Object.entries(options.checks).map(async ([name, check]) => {
        results[name] = await withTimeout(check(), 3000).then(
          () => 'ok',
          (err: Error) => `error: ${err.message}`,
        );
      }),
    );
    const ready = Object.values(results).every((r) => r === 'ok');
    return { status: ready ? 200 : 503, type: 'application/json', body: JSON.stringify({ ready, checks: results }) };
  }
  if (path === '/metrics') {
    const ours = await options.registry.metrics();
    const sdk = options.sdkMetricsUrl ? await fetchText(options.sdkMetricsUrl) : '';
    return { status: 200, type: options.registry.contentType, body: `${ours}\n${sdk}` };
  }
  return { status: 404, type: 'text/plain', body: 'not found: try /health, /ready or /metrics\n' };
}

async function fetchText(url: string): Promise<string> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return response.ok ? await response.text() : '';
  } catch {
    return ''; // the SDK exporter starts lazily; our own metrics are still worth serving
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
