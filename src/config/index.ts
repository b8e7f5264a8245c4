import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ConfigError } from './configError';
import { loadConnections, type Connection } from './connections';
import { registerSecret, registerUrlSecret } from './redaction';

/** Everything the platform reads from the environment, validated once at start. */
export interface NomalyConfig {
  dataDir: string;
  temporal: { address: string; namespace: string; uiUrl: string; tls?: TemporalTlsConfig };
  /** The application role's connection (workers, CLI): DATABASE_URL or DATABASE_URL_FILE. */
  databaseUrl: string;
  /**
   * The backup role's connection, used by the backup and recovery activities for pg_dump,
   * pg_restore and the scratch/staging databases (BACKUP_DATABASE_URL or _FILE; default DATABASE_URL).
   * Its database name is ignored: backups always target DATABASE_URL's database.
   */
  backupDatabaseUrl: string;
  /**
   * The restore role's connection, used by the disasterRecovery activities to create the staging
   * database, pg_restore into it as the application role, and swap it in
   * (RESTORE_DATABASE_URL or _FILE; default BACKUP_DATABASE_URL).
   */
  restoreDatabaseUrl: string;
  minio: { endPoint: string; port: number; useSSL: boolean; accessKey: string; secretKey: string };
  buckets: { datasets: string; models: string; results: string; backups: string };
  backup: {
    /** AES-256-GCM key file (32 raw bytes, 64 hex digits or base64); without it backups are not encrypted. */
    keyFile?: string;
    retentionDays: number;
    modelBackupsKeep: number;
    /**
     * pg_restore --jobs for recoveries and backup verification (NOMALY_RESTORE_JOBS, default 2):
     * the dump is downloaded and checksummed to a private temp file first; 1 restores in a
     * single transaction instead.
     */
    restoreJobs: number;
  };
  /**
   * Largest dataset file accepted, in bytes (NOMALY_MAX_DATASET_BYTES, default 8 GiB). Uploads
   * are streamed and registration holds one batch at a time (Parquet: one row group, by range
   * reads), so the limit is about disk and time, not memory.
   */
  datasets: { maxBytes: number };
  logLevel: string;
  httpPort: number;
  /**
   * Where the health/readiness/metrics port listens (NOMALY_HEALTH_HOST, default 127.0.0.1, like
   * every other port of the local stack); containers set 0.0.0.0 so probes and Prometheus reach it.
   */
  healthHost: string;
  /** Where detection alerts are POSTed (JSON); without it alerts are only logged. */
  alertWebhookUrl?: string;
  scoring: { maxConcurrentActivities: number; modelCacheSize: number };
  /** Named data sources (object stores, PostgreSQL) jobs may read from: NOMALY_CONNECTIONS_FILE. */
  connections: Record<string, Connection>;
}

/** TLS for the Temporal frontend: server CA, server name override and an optional client certificate (mTLS). */
export interface TemporalTlsConfig {
  serverNameOverride?: string;
  serverRootCACertificate?: Buffer;
  clientCertPair?: { crt: Buffer; key: Buffer };
}

export { ConfigError };

type Env = Record<string, string | undefined>;

/**
 * A secret may come from NAME or from the file named by NAME_FILE (Docker/Kubernetes secrets);
 * the file's trailing newline(s) are dropped. Setting both is an error, and no message ever
 * contains the secret itself.
 */
export function secret(env: Env, name: string): string | undefined;
export function secret(env: Env, name: string, fallback: string): string;
export function secret(env: Env, name: string, fallback?: string): string | undefined {
  const value = settingOrFile(env, name);
  registerSecret(value);
  return value || fallback;
}

/** NAME or the content of NAME_FILE, for values that are not secret themselves (a MinIO access key id). */
function settingOrFile(env: Env, name: string): string | undefined {
  const file = env[`${name}_FILE`];
  const direct = env[name];
  if (file && direct) throw new ConfigError(`both ${name} and ${name}_FILE are set: set only one of them`);
  if (!file) return direct || undefined;
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${name}_FILE=${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const value = content.replace(/[\r\n]+$/, '');
  if (!value) throw new ConfigError(`${name}_FILE=${file} is empty`);
  return value;
}

/** A file that must exist (certificates, keys): its bytes, or a ConfigError naming the variable. */
function fileBytes(env: Env, name: string): Buffer | undefined {
  const file = env[name];
  if (!file) return undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigError(`${name}=${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

function flag(env: Env, name: string): boolean {
  const raw = (env[name] ?? '').toLowerCase();
  if (raw === '' || raw === '0' || raw === 'false' || raw === 'no') return false;
  if (raw === '1' || raw === 'true' || raw === 'yes') return true;
  throw new ConfigError(`${name}=${env[name]} must be true or false`);
}

/**
 * TEMPORAL_TLS=true (system CAs), or any of TEMPORAL_TLS_CA_FILE, TEMPORAL_TLS_SERVER_NAME,
 * TEMPORAL_TLS_CERT_FILE + TEMPORAL_TLS_KEY_FILE (the key may also be given inline as
 * TEMPORAL_TLS_KEY), turns TLS on; a client certificate and key make it mutual TLS.
 */
export function temporalTls(env: Env): TemporalTlsConfig | undefined {
  const ca = fileBytes(env, 'TEMPORAL_TLS_CA_FILE');
  const crt = fileBytes(env, 'TEMPORAL_TLS_CERT_FILE');
  const key = secret(env, 'TEMPORAL_TLS_KEY');
  const serverName = env.TEMPORAL_TLS_SERVER_NAME || undefined;
  if (crt && !key) throw new ConfigError('TEMPORAL_TLS_CERT_FILE is set without TEMPORAL_TLS_KEY_FILE: mutual TLS needs both');
  if (key && !crt) throw new ConfigError('TEMPORAL_TLS_KEY_FILE is set without TEMPORAL_TLS_CERT_FILE: mutual TLS needs both');
  const enabled = flag(env, 'TEMPORAL_TLS') || Boolean(ca || crt || serverName);
  if (!enabled) return undefined;
  return {
    ...(serverName ? { serverNameOverride: serverName } : {}),
    ...(ca ? { serverRootCACertificate: ca } : {}),
    ...(crt && key ? { clientCertPair: { crt, key: Buffer.from(key) } } : {}),
  };
}

/** What NativeConnection.connect (workers) and Connection.connect (client, CLI) are given. */
export function temporalConnectionOptions(config: Pick<NomalyConfig, 'temporal'>): { address: string; tls?: TemporalTlsConfig } {
  return { address: config.temporal.address, ...(config.temporal.tls ? { tls: config.temporal.tls } : {}) };
}

/** A role's own key (MINIO_ACCESS_KEY + MINIO_SECRET_KEY) wins over the root credentials the local MinIO starts with. */
function minioCredentials(env: Env): { accessKey: string; secretKey: string } {
  const accessKey = settingOrFile(env, 'MINIO_ACCESS_KEY');
  const secretKey = secret(env, 'MINIO_SECRET_KEY');
  if (accessKey && secretKey) return { accessKey, secretKey };
  if (accessKey || secretKey) throw new ConfigError('MINIO_ACCESS_KEY and MINIO_SECRET_KEY (or their _FILE forms) go together: set both or neither');
  return { accessKey: settingOrFile(env, 'MINIO_ROOT_USER') ?? 'nomaly', secretKey: secret(env, 'MINIO_ROOT_PASSWORD', 'nomaly-dev-secret') };
}

function databaseUrlSetting(env: Env, name: string, fallback: string): string {
  const url = secret(env, name, fallback);
  registerUrlSecret(url);
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new ConfigError(`${name} must start with postgres:// (e.g. postgres://nomaly_app:PASSWORD@127.0.0.1:5432/nomaly)`);
  }
  try {
    new URL(url);
  } catch {
    throw new ConfigError(`${name} is not a valid URL (a password with special characters must be percent-encoded)`);
  }
  return url;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name}=${raw} must be an integer from ${min} to ${max}`);
  }
  return value;
}

function parseMinioEndpoint(raw: string): { endPoint: string; port: number; useSSL: boolean } {
  let url: URL;
  try {
    url = new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    throw new ConfigError(`MINIO_ENDPOINT=${raw} is not a URL like http://127.0.0.1:9000`);
  }
  const useSSL = url.protocol === 'https:';
  const port = url.port ? Number(url.port) : useSSL ? 443 : 80;
  return { endPoint: url.hostname, port, useSSL };
}

function webhookUrl(raw: string): string | undefined {
  if (!raw) return undefined;
  if (!/^https?:\/\/[^\s]+$/.test(raw)) throw new ConfigError('NOMALY_ALERT_WEBHOOK_URL must be an http(s) URL');
  return raw;
}

/** An IP address to listen on (v4 or v6), so a typo fails at start rather than as a DNS lookup inside listen(). */
function listenHost(env: Env, name: string, fallback: string): string {
  const raw = env[name] || fallback;
  if (net.isIP(raw) === 0) throw new ConfigError(`${name}=${raw} must be an IP address to listen on, e.g. 127.0.0.1 (loopback only) or 0.0.0.0 (every interface, for containers)`);
  return raw;
}

export function loadConfig(env: Env = process.env): NomalyConfig {
  const dataDir = path.resolve(env.NOMALY_DATA_DIR ?? path.join(process.cwd(), '.nomaly'));
  const bucketPrefix = env.NOMALY_BUCKET_PREFIX ?? 'nomaly';
  if (!/^[a-z0-9][a-z0-9-]{1,40}$/.test(bucketPrefix)) {
    throw new ConfigError(`NOMALY_BUCKET_PREFIX=${bucketPrefix} must be 2-41 lowercase letters, digits or dashes`);
  }
  const databaseUrl = databaseUrlSetting(env, 'DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/nomaly');
  const backupDatabaseUrl = databaseUrlSetting(env, 'BACKUP_DATABASE_URL', databaseUrl);
  const restoreDatabaseUrl = databaseUrlSetting(env, 'RESTORE_DATABASE_URL', backupDatabaseUrl);
  if (env.NOMALY_BACKUP_KEY) throw new ConfigError('NOMALY_BACKUP_KEY is not read: put the key in a file and set NOMALY_BACKUP_KEY_FILE');
  return {
    dataDir,
    temporal: {
      address: env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
      namespace: env.TEMPORAL_NAMESPACE ?? 'default',
      uiUrl: (env.TEMPORAL_UI_URL ?? 'http://127.0.0.1:8233').replace(/\/$/, ''),
      tls: temporalTls(env),
    },
    databaseUrl,
    backupDatabaseUrl,
    restoreDatabaseUrl,
    minio: { ...parseMinioEndpoint(env.MINIO_ENDPOINT ?? 'http://127.0.0.1:9000'), ...minioCredentials(env) },
    buckets: {
      datasets: `${bucketPrefix}-datasets`,
      models: `${bucketPrefix}-models`,
      results: `${bucketPrefix}-results`,
      backups: `${bucketPrefix}-backups`,
    },
    backup: {
      keyFile: env.NOMALY_BACKUP_KEY_FILE ? path.resolve(env.NOMALY_BACKUP_KEY_FILE) : undefined,
      retentionDays: integer(env, 'NOMALY_BACKUP_RETENTION_DAYS', 30, 1, 36500),
      modelBackupsKeep: integer(env, 'NOMALY_MODEL_BACKUPS_KEEP', 7, 1, 10000),
      restoreJobs: integer(env, 'NOMALY_RESTORE_JOBS', 2, 1, 64),
    },
    datasets: { maxBytes: integer(env, 'NOMALY_MAX_DATASET_BYTES', 8 * 1024 ** 3, 1, Number.MAX_SAFE_INTEGER) },
    logLevel: env.LOG_LEVEL ?? 'info',
    httpPort: integer(env, 'NOMALY_HTTP_PORT', 0, 0, 65535),
    healthHost: listenHost(env, 'NOMALY_HEALTH_HOST', '127.0.0.1'),
    alertWebhookUrl: webhookUrl(secret(env, 'NOMALY_ALERT_WEBHOOK_URL', '')),
    scoring: {
      maxConcurrentActivities: integer(env, 'NOMALY_SCORING_CONCURRENCY', 2, 1, 256),
      modelCacheSize: integer(env, 'NOMALY_MODEL_CACHE_SIZE', 10, 1, 10000),
    },
    connections: loadConnections(env),
  };
}

export { TASK_QUEUES } from './taskQueues';
export { redactSecrets, redactUrl } from './redaction';
