/**
 * The connections a benchmark's workers read sources through (NOMALY_CONNECTIONS_FILE): the
 * private stack's own MinIO as "lake" and, when given, a database on the PostgreSQL server as
 * "warehouse". Secrets go in files of their own (mode 600), as the platform requires.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { loadConfig } from '../../src/config';

/** Writes the connections file under `dir` and returns its path. */
export function writeBenchConnections(dir: string, config: ReturnType<typeof loadConfig>, warehouseUrl?: URL): string {
  mkdirSync(dir, { recursive: true });
  const secretFile = (name: string, value: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, value, { mode: 0o600 });
    return file;
  };
  const connectionsFile = path.join(dir, 'connections.json');
  writeFileSync(
    connectionsFile,
    JSON.stringify({
      lake: {
        kind: 's3',
        endpoint: `${config.minio.useSSL ? 'https' : 'http'}://${config.minio.endPoint}:${config.minio.port}`,
        accessKeyFile: secretFile('lake-access-key', config.minio.accessKey),
        secretKeyFile: secretFile('lake-secret-key', config.minio.secretKey),
      },
      // The server's own user (trust authentication on the local server): the benchmark measures reading, not roles.
      ...(warehouseUrl ? { warehouse: { kind: 'postgres', url: warehouseUrl.toString(), statementTimeoutMs: 3_600_000 } } : {}),
    }),
    { mode: 0o600 },
  );
  return connectionsFile;
}
