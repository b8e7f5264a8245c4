import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as Minio from 'minio';
import { Client } from 'pg';
import { EXAMPLE_CSV } from '../support/testPlatform';
import { freePort } from '../../src/workers/freePorts';

/**
 * Issue #7 end to end, with real PostgreSQL, MinIO and Temporal: least-privilege PostgreSQL
 * roles (scripts/provision-roles.sh) and MinIO keys per role (scripts/provision-minio-users.sh),
 * every secret given to real worker and CLI processes through *_FILE, the workers logging at
 * debug; a full job (upload, train, detect, backup) runs, and then every captured log line is
 * searched for every secret value.
 */
const root = path.resolve(__dirname, '../..');
const run = promisify(execFile);
const stamp = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
const dbName = `nomaly_sec_${stamp}`;
const prefix = `nsec-${stamp}`;
const distinctive = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;
const secrets = {
  appPassword: distinctive('AppPw'),
  backupPassword: distinctive('BackupPw'),
  restorePassword: distinctive('RestorePw'),
  controlAccessKey: distinctive('CtrlAK'),
  controlSecretKey: distinctive('CtrlSK'),
  scoringAccessKey: distinctive('ScoreAK'),
  scoringSecretKey: distinctive('ScoreSK'),
  backupKey: randomBytes(32).toString('hex'),
};

describe('security: least privilege, secrets from files, and no secret in any log', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nomaly-security-'));
  const logs = path.join(dir, 'logs');
  const children: ChildProcess[] = [];
  const baseUrl = new URL(process.env.DATABASE_URL!);
  const adminUrl = urlFor('postgres', undefined, 'postgres');
  let controlEnv: NodeJS.ProcessEnv;
  let scoringEnv: NodeJS.ProcessEnv;
  let admin: Client;

  function urlFor(user: string, password: string | undefined, database = dbName): string {
    const url = new URL(baseUrl.toString());
    url.username = user;
    url.password = password ? encodeURIComponent(password) : '';
    url.pathname = `/${database}`;
    return url.toString();
  }
  function secretFile(name: string, value: string): string {
    const file = path.join(dir, 'secrets', name);
    writeFileSync(file, `${value}\n`, { mode: 0o600 });
    return file;
  }
  /** The process environment without any credential of the test stack: only what we hand over. */
  function baseEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'debug', NOMALY_BUCKET_PREFIX: prefix };
    for (const name of ['DATABASE_URL', 'MINIO_ROOT_USER', 'MINIO_ROOT_PASSWORD', 'MINIO_ACCESS_KEY', 'MINIO_SECRET_KEY', 'PGPASSWORD']) delete env[name];
    return env;
  }
  async function cli(name: string, args: string[], env: NodeJS.ProcessEnv = controlEnv): Promise<{ code: number; stdout: string; stderr: string }> {
    const options = { env, cwd: root, maxBuffer: 64 * 1024 * 1024, timeout: 240_000 };
    const result = await run(process.execPath, [path.join(root, 'dist/client/cli.js'), ...args], options).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (err: { code?: number; stdout?: string; stderr?: string }) => ({ code: err.code ?? 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' }),
    );
    writeFileSync(path.join(logs, `cli-${name}.out`), result.stdout);
    writeFileSync(path.join(logs, `cli-${name}.err`), result.stderr);
    return result;
  }
  async function startWorker(kind: 'control' | 'scoring', env: NodeJS.ProcessEnv, label: string): Promise<ChildProcess> {
    const port = await freePort();
    const out = openSync(path.join(logs, `${label}.log`), 'w');
    const child = spawn(process.execPath, [path.join(root, `dist/workers/${kind}.js`)], {
      env: { ...env, NOMALY_HTTP_PORT: String(port) },
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    children.push(child);
    for (let i = 0; i < 240; i++) {
      if (await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.ok, () => false)) return child;
      if (child.exitCode !== null) throw new Error(`${label} exited with ${child.exitCode}: ${readFileSync(path.join(logs, `${label}.log`), 'utf8').slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`${label} did not become ready`);
  }

  beforeAll(async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(logs);
    mkdirSync(path.join(dir, 'secrets'), { mode: 0o700 });
    // Least-privilege PostgreSQL roles on a fresh platform database.
    await run(path.join(root, 'scripts/provision-roles.sh'), [], {
      env: {
        ...process.env,
        PROVISION_ADMIN_URL: adminUrl,
        NOMALY_DB_NAME: dbName,
        NOMALY_APP_PASSWORD_FILE: secretFile('app-pw', secrets.appPassword),
        NOMALY_BACKUP_PASSWORD_FILE: secretFile('backup-pw', secrets.backupPassword),
        NOMALY_RESTORE_PASSWORD_FILE: secretFile('restore-pw', secrets.restorePassword),
      },
    });
    // MinIO users and policies per role, through the admin API (pinned mc).
    await run(path.join(root, 'scripts/provision-minio-users.sh'), [], {
      env: {
        ...process.env,
        NOMALY_BUCKET_PREFIX: prefix,
        NOMALY_CONTROL_ACCESS_KEY_FILE: secretFile('control-ak', secrets.controlAccessKey),
        NOMALY_CONTROL_SECRET_KEY_FILE: secretFile('control-sk', secrets.controlSecretKey),
        NOMALY_SCORING_ACCESS_KEY_FILE: secretFile('scoring-ak', secrets.scoringAccessKey),
        NOMALY_SCORING_SECRET_KEY_FILE: secretFile('scoring-sk', secrets.scoringSecretKey),
      },
      timeout: 15 * 60_000, // builds mc once when it is not cached yet
    });
    const database = {
      DATABASE_URL_FILE: secretFile('database-url', urlFor('nomaly_app', secrets.appPassword)),
      BACKUP_DATABASE_URL_FILE: secretFile('backup-database-url', urlFor('nomaly_backup', secrets.backupPassword)),
      RESTORE_DATABASE_URL_FILE: secretFile('restore-database-url', urlFor('nomaly_restore', secrets.restorePassword)),
      NOMALY_BACKUP_KEY_FILE: secretFile('backup-key', secrets.backupKey),
    };
    controlEnv = {
      ...baseEnv(),
      ...database,
      MINIO_ACCESS_KEY_FILE: secretFile('minio-control-ak', secrets.controlAccessKey),
      MINIO_SECRET_KEY_FILE: secretFile('minio-control-sk', secrets.controlSecretKey),
    };
    scoringEnv = {
      ...baseEnv(),
      DATABASE_URL_FILE: database.DATABASE_URL_FILE,
      MINIO_ACCESS_KEY_FILE: secretFile('minio-scoring-ak', secrets.scoringAccessKey),
      MINIO_SECRET_KEY_FILE: secretFile('minio-scoring-sk', secrets.scoringSecretKey),
    };
    admin = new Client({ connectionString: adminUrl });
    await admin.connect();
  }, 20 * 60_000);

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    if (admin) {
      const { rows } = await admin.query<{ datname: string }>('select datname from pg_database where datname like $1', [`${dbName}%`]);
      for (const { datname } of rows) await admin.query(`drop database if exists "${datname}" with (force)`);
      await admin.end();
    }
  });

  it('runs upload → train → detect → backup with workers as nomaly_app and the backup as nomaly_backup', async () => {
    // The control worker first: it creates the buckets the scoring key may use but not create.
    await startWorker('control', controlEnv, 'control-worker');
    await startWorker('scoring', scoringEnv, 'scoring-worker');

    const upload = await cli('upload', ['datasets', 'upload', EXAMPLE_CSV]);
    expect(upload).toMatchObject({ code: 0 });
    const datasetId = /ds_[0-9a-f]{16}/.exec(upload.stdout)?.[0];
    expect(datasetId).toBeDefined();
    const train = await cli('train', ['train', '--dataset', datasetId!, '--model', 'sec', '--param', 'seed=1', '--wait']);
    expect(train.code).toBe(0);
    expect(train.stdout).toMatch(/model sec@1 .* is (ready|active)/);
    const detect = await cli('detect', ['detect', '--model', 'sec', '--dataset', datasetId!, '--wait']);
    expect(detect.code).toBe(0);
    expect(detect.stdout).toMatch(/detection job .* completed/);
    const backup = await cli('backup', ['backup', 'now', '--wait']);
    expect(backup.code).toBe(0);
    expect(backup.stdout).toMatch(/backup \S+ verified/);

    // Every session the workers hold on the platform database is a non-superuser platform role.
    const { rows: sessions } = await admin.query<{ usename: string; usesuper: boolean }>(
      'select distinct a.usename, u.usesuper from pg_stat_activity a join pg_user u on u.usename = a.usename where a.datname = $1',
      [dbName],
    );
    expect(sessions.map((s) => s.usename)).toContain('nomaly_app');
    for (const s of sessions) {
      expect(['nomaly_app', 'nomaly_backup', 'nomaly_restore']).toContain(s.usename);
      expect(s.usesuper).toBe(false);
    }
    // Migrations ran as nomaly_app: it owns every table. It may not create databases, so the
    // verified backup (restored into a scratch database) was necessarily made by nomaly_backup.
    const platform = new Client({ connectionString: urlFor('postgres', undefined) });
    await platform.connect();
    try {
      const { rows: tableOwners } = await platform.query<{ tableowner: string; n: string }>(
        `select tableowner, count(*) as n from pg_tables where schemaname = 'public' group by tableowner`,
      );
      expect(tableOwners.map((r) => r.tableowner)).toEqual(['nomaly_app']);
      expect(Number(tableOwners[0].n)).toBeGreaterThanOrEqual(5);
    } finally {
      await platform.end();
    }
    const { rows: roles } = await admin.query<{ rolname: string; rolsuper: boolean; rolcreatedb: boolean; rolcreaterole: boolean }>(
      `select rolname, rolsuper, rolcreatedb, rolcreaterole from pg_roles where rolname in ('nomaly_app', 'nomaly_backup', 'nomaly_restore') order by rolname`,
    );
    expect(roles).toEqual([
      { rolname: 'nomaly_app', rolsuper: false, rolcreatedb: false, rolcreaterole: false },
      { rolname: 'nomaly_backup', rolsuper: false, rolcreatedb: true, rolcreaterole: false },
      { rolname: 'nomaly_restore', rolsuper: false, rolcreatedb: true, rolcreaterole: false },
    ]);
  });

  it('lets the backup role read but never write, and the app role not create databases', async () => {
    const asBackup = new Client({ connectionString: urlFor('nomaly_backup', secrets.backupPassword) });
    await asBackup.connect();
    try {
      const { rows } = await asBackup.query<{ n: string }>('select count(*) as n from model');
      expect(Number(rows[0].n)).toBe(1);
      await expect(asBackup.query(`update model set name = 'x'`)).rejects.toThrow(/permission denied/);
      await expect(asBackup.query('delete from anomaly')).rejects.toThrow(/permission denied/);
    } finally {
      await asBackup.end();
    }
    const asApp = new Client({ connectionString: urlFor('nomaly_app', secrets.appPassword) });
    await asApp.connect();
    try {
      await expect(asApp.query(`create database "${dbName}_x"`)).rejects.toThrow(/permission denied/);
    } finally {
      await asApp.end();
    }
  });

  it('denies the scoring key the backups bucket (read, list, delete) while the control key reads it', async () => {
    const endpoint = new URL(process.env.MINIO_ENDPOINT!);
    const client = (accessKey: string, secretKey: string) =>
      new Minio.Client({ endPoint: endpoint.hostname, port: Number(endpoint.port), useSSL: false, accessKey, secretKey });
    const control = client(secrets.controlAccessKey, secrets.controlSecretKey);
    const scoring = client(secrets.scoringAccessKey, secrets.scoringSecretKey);
    const bucket = `${prefix}-backups`;
    const keys: string[] = await new Promise((resolve, reject) => {
      const found: string[] = [];
      const stream = control.listObjectsV2(bucket, 'backups/', true);
      stream.on('data', (o) => o.name && found.push(o.name));
      stream.on('end', () => resolve(found));
      stream.on('error', reject);
    });
    const manifest = keys.find((k) => /manifest\.json(\.enc)?$/.test(k));
    expect(manifest).toBeDefined();
    expect((await control.statObject(bucket, manifest!)).size).toBeGreaterThan(0);

    const denied = async (work: () => Promise<unknown>) => expect(await work().then(() => 'allowed', (err: { code?: string }) => err.code)).toBe('AccessDenied');
    await denied(() => scoring.getObject(bucket, manifest!));
    await denied(() => scoring.statObject(bucket, manifest!));
    await denied(() => scoring.removeObject(bucket, manifest!));
    await denied(() => scoring.putObject(bucket, manifest!, Buffer.from('overwrite')));
    await denied(
      () =>
        new Promise((resolve, reject) => {
          const stream = scoring.listObjectsV2(bucket, '', true);
          stream.on('data', () => undefined);
          stream.on('end', resolve);
          stream.on('error', reject);
        }),
    );
    expect((await control.statObject(bucket, manifest!)).size).toBeGreaterThan(0); // still there, untouched
    // The scoring key does what scoring needs: read the models its job trained.
    const models: string[] = await new Promise((resolve, reject) => {
      const found: string[] = [];
      const stream = scoring.listObjectsV2(`${prefix}-models`, '', true);
      stream.on('data', (o) => o.name && found.push(o.name));
      stream.on('end', () => resolve(found));
      stream.on('error', reject);
    });
    expect(models.length).toBe(1);
  });

  it('restores as nomaly_restore: the restored database belongs to nomaly_app, jobs go on, the next backup verifies', async () => {
    const restore = await cli('restore', ['restore', '--scope', 'database', '--wait']);
    expect(restore.stderr).not.toMatch(/awaiting-operator/);
    expect(restore.code).toBe(0);
    expect(restore.stdout).toMatch(/recovered from \S+ \(database\)/);
    const { rows: dbs } = await admin.query<{ datname: string; owner: string }>(
      'select datname, pg_get_userbyid(datdba) as owner from pg_database where datname like $1 order by datname',
      [`${dbName}%`],
    );
    expect(dbs.map((d) => d.owner)).toEqual(dbs.map(() => 'nomaly_app')); // the restored one and the one kept aside
    expect(dbs.some((d) => d.datname === dbName)).toBe(true);
    const platform = new Client({ connectionString: urlFor('postgres', undefined) });
    await platform.connect();
    try {
      const { rows } = await platform.query<{ tableowner: string }>(`select distinct tableowner from pg_tables where schemaname = 'public'`);
      expect(rows.map((r) => r.tableowner)).toEqual(['nomaly_app']);
    } finally {
      await platform.end();
    }
    // The workers reconnect as nomaly_app; the backup role can still read everything it must dump.
    const datasetId = /ds_[0-9a-f]{16}/.exec(readFileSync(path.join(logs, 'cli-upload.out'), 'utf8'))![0];
    const detect = await cli('detect-after-restore', ['detect', '--model', 'sec', '--dataset', datasetId, '--wait']);
    expect(detect.stdout).toMatch(/detection job .* completed/);
    const backup = await cli('backup-after-restore', ['backup', 'now', '--wait']);
    expect(backup.stdout).toMatch(/backup \S+ verified/);
  });

  it('keeps the database password out of error messages', async () => {
    // Nothing listens on port 1: the CLI and a worker fail to connect and say so.
    const badUrl = secretFile('bad-database-url', urlFor('nomaly_app', secrets.appPassword).replace(/:\d+\//, ':1/'));
    const failed = await cli('bad-db', ['models', 'list'], { ...controlEnv, DATABASE_URL_FILE: badUrl });
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toMatch(/ECONNREFUSED|does not answer|connect/i);
    const worker = await startWorker('scoring', { ...scoringEnv, DATABASE_URL_FILE: badUrl }, 'scoring-worker-bad-db').then(
      () => 'started',
      (err: Error) => err.message,
    );
    expect(worker).toMatch(/exited with 1/);
  });

  it('never writes a secret into any worker or CLI log (workers at debug)', () => {
    const files = readdirSync(logs);
    expect(files).toEqual(expect.arrayContaining(['control-worker.log', 'scoring-worker.log', 'cli-backup.out', 'cli-bad-db.err']));
    // One exception, by design of S3: a signed link the CLI prints for the user (the report) names
    // the access key id in X-Amz-Credential (the secret key only signs it). Nothing else may.
    const signedLinkCredential = /X-Amz-Credential=[^&%\s]+(%2F|\/)/g;
    const text = files
      .map((f) => {
        const content = readFileSync(path.join(logs, f), 'utf8');
        return f.startsWith('cli-') && f.endsWith('.out') ? content.replace(signedLinkCredential, 'X-Amz-Credential=$1') : content;
      })
      .join('\n');
    // The logs are real and at debug level, so the search below has something to search.
    expect(text.split('\n').filter((l) => l.includes('"level":20')).length).toBeGreaterThan(0);
    expect(text).toContain('worker started');
    expect(text).toContain('X-Amz-Credential='); // the detect --wait output with its report link was searched too
    const leaks = Object.entries(secrets)
      .flatMap(([name, value]) => [[name, value], [`${name} (percent-encoded)`, encodeURIComponent(value)]])
      .filter(([, value]) => text.includes(value))
      .map(([name]) => name);
    expect(leaks).toEqual([]);
  });
});

