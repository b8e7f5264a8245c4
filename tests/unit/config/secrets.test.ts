import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { ConfigError, loadConfig, temporalConnectionOptions } from '../../../src/config';
import { redactSecrets, redactUrl } from '../../../src/config/redaction';
import { createLogger } from '../../../src/observability/logging';

const dir = mkdtempSync(path.join(os.tmpdir(), 'nomaly-config-'));
function file(name: string, content: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}

describe('secrets from NAME or NAME_FILE', () => {
  it('reads every secret from its _FILE with the trailing newline dropped', () => {
    const config = loadConfig({
      DATABASE_URL_FILE: file('db', 'postgres://nomaly_app:db%20pass@db.example:5432/nomaly\n'),
      BACKUP_DATABASE_URL_FILE: file('bdb', 'postgres://nomaly_backup:bk-pass@db.example:5432/nomaly\r\n'),
      RESTORE_DATABASE_URL_FILE: file('rdb', 'postgres://nomaly_restore:rs-pass@db.example:5432/nomaly'),
      MINIO_ACCESS_KEY_FILE: file('ak', 'scoring-key\n'),
      MINIO_SECRET_KEY_FILE: file('sk', ' secret with spaces \n\n'),
    });
    expect(config.databaseUrl).toBe('postgres://nomaly_app:db%20pass@db.example:5432/nomaly');
    expect(config.backupDatabaseUrl).toBe('postgres://nomaly_backup:bk-pass@db.example:5432/nomaly');
    expect(config.restoreDatabaseUrl).toBe('postgres://nomaly_restore:rs-pass@db.example:5432/nomaly');
    expect(config.minio.accessKey).toBe('scoring-key');
    expect(config.minio.secretKey).toBe(' secret with spaces '); // only newlines are trimmed
  });

  it('backup and restore URLs default to DATABASE_URL; MINIO_ROOT_* remain the fallback key', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://u:p@h/d', MINIO_ROOT_USER: 'root', MINIO_ROOT_PASSWORD_FILE: file('rp', 'rootpw\n') });
    expect(config.backupDatabaseUrl).toBe('postgres://u:p@h/d');
    expect(config.restoreDatabaseUrl).toBe('postgres://u:p@h/d');
    expect(config.minio).toMatchObject({ accessKey: 'root', secretKey: 'rootpw' });
  });

  it('refuses NAME and NAME_FILE together, naming both and not the value', () => {
    const env = { DATABASE_URL: 'postgres://u:hunter2-very-secret@h/d', DATABASE_URL_FILE: file('db2', 'postgres://u:p@h/d') };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow('both DATABASE_URL and DATABASE_URL_FILE are set');
    expect(() => loadConfig(env)).not.toThrow(/hunter2/);
    expect(() => loadConfig({ MINIO_SECRET_KEY: 'a', MINIO_SECRET_KEY_FILE: 'b', MINIO_ACCESS_KEY: 'c' })).toThrow(
      'both MINIO_SECRET_KEY and MINIO_SECRET_KEY_FILE are set',
    );
  });

  it('names an unreadable or empty file', () => {
    expect(() => loadConfig({ DATABASE_URL_FILE: path.join(dir, 'missing') })).toThrow(/DATABASE_URL_FILE=.*missing cannot be read \(ENOENT\)/);
    expect(() => loadConfig({ MINIO_SECRET_KEY_FILE: dir, MINIO_ACCESS_KEY: 'x' })).toThrow(/MINIO_SECRET_KEY_FILE=.* cannot be read \(EISDIR\)/);
    expect(() => loadConfig({ BACKUP_DATABASE_URL_FILE: file('empty', '\n') })).toThrow(/BACKUP_DATABASE_URL_FILE=.*empty is empty/);
  });

  it('wants both halves of a MinIO key pair, and a postgres URL without echoing it', () => {
    expect(() => loadConfig({ MINIO_ACCESS_KEY: 'only-access' })).toThrow('MINIO_ACCESS_KEY and MINIO_SECRET_KEY');
    expect(() => loadConfig({ DATABASE_URL: 'mysql://u:pw-do-not-echo@h/d' })).toThrow(/DATABASE_URL must start with postgres:\/\//);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://u:pw-do-not-echo@h/d' })).not.toThrow(/pw-do-not-echo/);
    expect(() => loadConfig({ NOMALY_BACKUP_KEY: 'k' })).toThrow(/NOMALY_BACKUP_KEY_FILE/);
  });
});

describe('Temporal TLS settings', () => {
  it('is plain TCP without settings', () => {
    expect(temporalConnectionOptions(loadConfig({ TEMPORAL_ADDRESS: 'temporal:7233' }))).toEqual({ address: 'temporal:7233' });
  });

  it('TEMPORAL_TLS=true alone is TLS with the system CAs', () => {
    expect(temporalConnectionOptions(loadConfig({ TEMPORAL_ADDRESS: 't:7233', TEMPORAL_TLS: 'true' }))).toEqual({ address: 't:7233', tls: {} });
    expect(() => loadConfig({ TEMPORAL_TLS: 'maybe' })).toThrow('TEMPORAL_TLS=maybe must be true or false');
  });

  it('passes CA, server name and the client pair (mTLS) to the connection', () => {
    const config = loadConfig({
      TEMPORAL_ADDRESS: 'temporal.example:7233',
      TEMPORAL_TLS_CA_FILE: file('ca.pem', 'CA PEM'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
      TEMPORAL_TLS_CERT_FILE: file('client.pem', 'CERT PEM'),
      TEMPORAL_TLS_KEY_FILE: file('client.key', 'KEY PEM\n'),
    });
    const options = temporalConnectionOptions(config);
    expect(options.address).toBe('temporal.example:7233');
    expect(options.tls?.serverNameOverride).toBe('temporal.internal');
    expect(options.tls?.serverRootCACertificate?.toString()).toBe('CA PEM');
    expect(options.tls?.clientCertPair?.crt.toString()).toBe('CERT PEM');
    expect(options.tls?.clientCertPair?.key.toString()).toBe('KEY PEM');
  });

  it('refuses half an mTLS pair and unreadable files', () => {
    expect(() => loadConfig({ TEMPORAL_TLS_CERT_FILE: file('c2.pem', 'x') })).toThrow('without TEMPORAL_TLS_KEY_FILE');
    expect(() => loadConfig({ TEMPORAL_TLS_KEY_FILE: file('k2.pem', 'x') })).toThrow('without TEMPORAL_TLS_CERT_FILE');
    expect(() => loadConfig({ TEMPORAL_TLS_CA_FILE: path.join(dir, 'nope.pem') })).toThrow(/TEMPORAL_TLS_CA_FILE=.*nope.pem cannot be read/);
  });
});

describe('redaction', () => {
  it('scrubs URL passwords', () => {
    expect(redactUrl('connect postgres://app:s3cr%40t@db:5432/x failed')).toBe('connect postgres://app:***@db:5432/x failed');
    expect(redactUrl('postgresql://app@db/x and http://h/p')).toBe('postgresql://app@db/x and http://h/p');
    expect(redactUrl('set DATABASE_URL=postgres://USER[:PASSWORD]@HOST:PORT/DATABASE')).toBe('set DATABASE_URL=postgres://USER[:PASSWORD]@HOST:PORT/DATABASE');
  });

  it('scrubs every configured secret value from log lines, messages, metadata and errors', () => {
    loadConfig({
      DATABASE_URL: 'postgres://nomaly_app:Pw-Unit-7d1e@h/d',
      MINIO_ACCESS_KEY: 'acc',
      MINIO_SECRET_KEY_FILE: file('sk2', 'Minio-Unit-Secret-99\n'),
    });
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const logger = createLogger('debug', 'unit', sink);
    logger.info({ minio: { secretKey: 'Minio-Unit-Secret-99' }, detail: 'key Minio-Unit-Secret-99 here' }, 'url postgres://x:Pw-Unit-7d1e@h/d');
    logger.error({ err: new Error('auth failed for Minio-Unit-Secret-99 at postgres://nomaly_app:Pw-Unit-7d1e@h/d') }, 'boom');
    logger.debug({ config: loadConfig({ DATABASE_URL: 'postgres://nomaly_app:Pw-Unit-7d1e@h/d' }) }, 'config');
    logger.warn('plain Pw-Unit-7d1e');
    const out = lines.join('');
    expect(lines).toHaveLength(4);
    expect(out).not.toContain('Pw-Unit-7d1e');
    expect(out).not.toContain('Minio-Unit-Secret-99');
    expect(out).toContain('auth failed for [redacted]');
    expect(redactSecrets('the key is Minio-Unit-Secret-99')).toBe('the key is [redacted]');
  });
});
