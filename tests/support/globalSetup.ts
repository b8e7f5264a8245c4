import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

/**
 * Brings up a private, real stack for the integration tests: a Temporal dev server (SQLite
 * file), a MinIO server on a fresh data folder, and a fresh PostgreSQL database, all on free
 * ports, through the same scripts/stack-up.sh a user runs. Workers run inside the tests.
 */
export default async function globalSetup(): Promise<void> {
  const root = path.resolve(__dirname, '../..');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'nomaly-test-'));
  const [temporalPort, uiPort, minioPort, consolePort] = await freePorts(4);
  const baseUrl = new URL(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  baseUrl.pathname = `/nomaly_test_${Date.now()}_${process.pid}`;

  const env: Record<string, string> = {
    NOMALY_DATA_DIR: dataDir,
    TEMPORAL_PORT: String(temporalPort),
    TEMPORAL_UI_PORT: String(uiPort),
    TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
    TEMPORAL_UI_URL: `http://127.0.0.1:${uiPort}`,
    MINIO_PORT: String(minioPort),
    MINIO_CONSOLE_PORT: String(consolePort),
    MINIO_ENDPOINT: `http://127.0.0.1:${minioPort}`,
    MINIO_ROOT_USER: 'nomaly-test',
    MINIO_ROOT_PASSWORD: 'nomaly-test-secret',
    DATABASE_URL: baseUrl.toString(),
    NOMALY_PRIVATE_PG_PORT: String(await freePorts(1).then(([p]) => p)),
    LOG_LEVEL: 'warn',
  };
  execFileSync(path.join(root, 'scripts/stack-up.sh'), ['--services-only'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });

  // One workflow bundle for every test worker, instead of a webpack run per test file.
  const bundlePath = path.join(dataDir, 'workflow-bundle.js');
  const { code } = await bundleWorkflowCode({ workflowsPath: path.join(root, 'src/workflows/index.ts'), logger: quietLogger });
  writeFileSync(bundlePath, code);
  env.NOMALY_WORKFLOW_BUNDLE = bundlePath;

  Object.assign(process.env, env); // inherited by the jest workers started after this
  writeFileSync(path.join(dataDir, 'test-env.json'), JSON.stringify(env));
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};

async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<net.Server>((resolve) => {
      const server = net.createServer();
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}
