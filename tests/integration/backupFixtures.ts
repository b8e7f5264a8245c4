import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Client } from 'pg';
import { startTestPlatform } from '../support/testPlatform';
import { freePort } from '../../src/workers/freePorts';

/**
 * Backup and recovery tests swap and wipe the platform database and empty buckets: they run
 * against a database and bucket prefix of their own, so the other test files are unaffected.
 */

export const root = path.resolve(__dirname, '../..');

export interface IsolatedEnv {
  DATABASE_URL: string;
  NOMALY_BUCKET_PREFIX: string;
}

export function isolatedEnv(tag: string): IsolatedEnv {
  const url = new URL(process.env.DATABASE_URL!);
  const suffix = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  url.pathname = `/nomaly_${tag}_${suffix}`;
  return { DATABASE_URL: url.toString(), NOMALY_BUCKET_PREFIX: `nb-${tag}-${suffix}`.toLowerCase() };
}

/** startTestPlatform with the isolated database and buckets (process.env is restored afterwards). */
export async function startIsolatedPlatform(env: IsolatedEnv, kinds: Array<'control' | 'scoring'>) {
  const saved = { DATABASE_URL: process.env.DATABASE_URL, NOMALY_BUCKET_PREFIX: process.env.NOMALY_BUCKET_PREFIX };
  Object.assign(process.env, env);
  try {
    return await startTestPlatform(kinds);
  } finally {
    process.env.DATABASE_URL = saved.DATABASE_URL;
    if (saved.NOMALY_BUCKET_PREFIX === undefined) delete process.env.NOMALY_BUCKET_PREFIX;
    else process.env.NOMALY_BUCKET_PREFIX = saved.NOMALY_BUCKET_PREFIX;
  }
}

export async function admin<T>(databaseUrl: string, work: (client: Client) => Promise<T>): Promise<T> {
  const url = new URL(databaseUrl);
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Databases whose name starts with the isolated database's name (kept-aside and staging ones included). */
export async function databasesLike(databaseUrl: string): Promise<string[]> {
  const name = new URL(databaseUrl).pathname.slice(1);
  return admin(databaseUrl, async (c) =>
    (await c.query<{ datname: string }>('select datname from pg_database where datname like $1 order by datname', [`${name.slice(0, 40)}%`])).rows.map(
      (r) => r.datname,
    ),
  );
}

export async function dropDatabasesLike(databaseUrl: string): Promise<void> {
  for (const name of await databasesLike(databaseUrl)) {
    await admin(databaseUrl, (c) => c.query(`drop database if exists "${name}" with (force)`));
  }
}

/** Per-table checksums of ordered rows: equal checksums, equal contents. */
export async function tableChecksums(databaseUrl: string, exclude: string[] = []): Promise<Record<string, string>> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const tables = (await client.query<{ tablename: string }>("select tablename from pg_tables where schemaname = 'public' order by tablename")).rows
      .map((r) => r.tablename)
      .filter((t) => !exclude.includes(t));
    const sums: Record<string, string> = {};
    for (const table of tables) {
      const { rows } = await client.query<{ n: string; sum: string | null }>(
        `select count(*) as n, md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) as sum from "${table}" t`,
      );
      sums[table] = `${rows[0].n}:${rows[0].sum}`;
    }
    return sums;
  } finally {
    await client.end();
  }
}

export interface WorkerProcess {
  child: ChildProcess;
  port: number;
  exited: Promise<number | null>;
}


/** A real control worker process (dist/workers/control.js) on the isolated database and buckets. */
export async function startControlProcess(env: IsolatedEnv): Promise<WorkerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(root, 'dist/workers/control.js')], {
    env: { ...process.env, ...env, NOMALY_HTTP_PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  for (let i = 0; i < 240; i++) {
    const ready = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.ok, () => false);
    if (ready) return { child, port, exited };
    if (child.exitCode !== null) throw new Error(`control worker exited with ${child.exitCode}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('control worker did not become ready');
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function restartServices(): void {
  execFileSync(path.join(root, 'scripts/stack-up.sh'), ['--services-only'], { env: process.env, stdio: 'ignore' });
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Fills the anomaly table with generated rows, so dumps and restores take a few seconds. */
export async function addBulkRows(databaseUrl: string, rows: number): Promise<void> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`insert into dataset (id, name, sha256, object_key, format, size_bytes, rows, columns, feature_columns)
      values ('ds_bulk000000000000', 'bulk', repeat('b', 64), 'bulk.csv', 'csv', 1, $1, '["x"]', '["x"]') on conflict do nothing`, [rows]);
    await client.query(`insert into model (name, version, status, algorithm, params, feature_columns, dataset_id, dataset_sha256, artifact_key, training_workflow_id)
      values ('bulk', 1, 'failed', 'hbos', '{}', '["x"]', 'ds_bulk000000000000', repeat('b', 64), 'bulk/v1.nmly', 'bulk-train') on conflict do nothing`);
    const { rows: [model] } = await client.query<{ id: number }>("select id from model where name = 'bulk'");
    await client.query(`insert into detection_job (id, model_id, dataset_id, status, rows, scores_prefix)
      values ('bulk-job', $1, 'ds_bulk000000000000', 'completed', $2, 'jobs/bulk-job/scores/') on conflict do nothing`, [model.id, rows]);
    await client.query(
      `insert into anomaly (job_id, row_index, score, row_id)
       select 'bulk-job', i, sin(i) * 1000, 'row-' || md5(i::text) from generate_series(1, $1) as i on conflict do nothing`,
      [rows],
    );
  } finally {
    await client.end();
  }
}

/** Activities a workflow run scheduled with no maximum of attempts (Temporal's default: retry for ever). */
export async function activitiesRetriedWithoutEnd(handle: { fetchHistory(): Promise<{ events?: Array<{ activityTaskScheduledEventAttributes?: unknown }> | null }> }): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? [])
    .map((e) => e.activityTaskScheduledEventAttributes as { activityType?: { name?: string }; retryPolicy?: { maximumAttempts?: number } } | undefined)
    .filter((a): a is NonNullable<typeof a> => a != null && !(a.retryPolicy?.maximumAttempts && a.retryPolicy.maximumAttempts > 0))
    .map((a) => a.activityType?.name ?? '?');
}
