/*
 * Smoke test of a running Nomaly stack, local or deployed. Stops at the first failure with a
 * message saying what failed and exits 1 (2 for a usage error); prints one "ok" line per check.
 *
 *   1. health     GET <worker>/health for every worker URL → 200 {"status":"ok"}
 *   2. readiness  GET <worker>/ready → 200 (the worker reaches Temporal, PostgreSQL and MinIO)
 *   3. detection  upload a tiny generated CSV, train an Isolation Forest on it, detect with it:
 *                 every row scored, the planted outliers found; with DATABASE_URL set, the
 *                 job's anomaly rows are counted in PostgreSQL too
 *   4. backup     the newest backup's manifest in MinIO: verified and younger than
 *                 SMOKE_MAX_BACKUP_AGE_HOURS
 *
 * Configuration (environment), beside the platform's own (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * DATABASE_URL[_FILE], MINIO_ENDPOINT, MINIO_ROOT_USER[_FILE], MINIO_ROOT_PASSWORD[_FILE], ...):
 *   SMOKE_WORKER_URLS          comma-separated worker base URLs (required),
 *                              e.g. http://127.0.0.1:9464,http://127.0.0.1:9465
 *   SMOKE_TIMEOUT_SECONDS      per workflow (default 180)
 *   SMOKE_MODEL                model name it trains (default nomaly-smoke)
 *   SMOKE_MAX_BACKUP_AGE_HOURS the newest verified backup may be this old (default 26)
 *   SMOKE_REQUIRE_BACKUP       0: a stack without any backup yet passes with a warning (default 1)
 *
 * Runs from a checkout (`npm run smoke`, which compiles it first), or inside the worker image:
 *   docker compose -f infra/compose.yaml exec control-worker node dist-scripts/scripts/smoke/run.js
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { failureMessage, NomalyClient } from '../../src/client/nomalyClient';
import { loadConfig, type NomalyConfig } from '../../src/config';
import type { detectBatch } from '../../src/workflows/detectBatch';
import type { trainModel } from '../../src/workflows/trainModel';

class SmokeFailure extends Error {
  /** A usage error (bad settings) exits 2, any other failure 1. */
  usage = false;

  constructor(readonly step: string, message: string) {
    super(message);
  }
}

interface Settings {
  urls: string[];
  timeoutMs: number;
  model: string;
  maxBackupAgeHours: number;
  requireBackup: boolean;
}

function ok(step: string, message: string): void {
  console.log(`ok   ${step.padEnd(10)} ${message}`);
}

function fail(step: string, message: string): never {
  throw new SmokeFailure(step, message);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function settings(env: NodeJS.ProcessEnv): Settings {
  const urls = (env.SMOKE_WORKER_URLS || '')
    .split(',')
    .map((u) => u.trim().replace(/\/+$/, ''))
    .filter(Boolean);
  if (urls.length === 0) {
    const error = new SmokeFailure('config', 'SMOKE_WORKER_URLS is not set: give the workers\' base URLs, e.g. http://127.0.0.1:9464,http://127.0.0.1:9465');
    error.usage = true;
    throw error;
  }
  for (const url of urls) {
    if (!/^https?:\/\/[^\s/]+/.test(url)) {
      const error = new SmokeFailure('config', `SMOKE_WORKER_URLS: "${url}" is not an http(s) URL`);
      error.usage = true;
      throw error;
    }
  }
  const number = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) {
      const error = new SmokeFailure('config', `${name}=${raw} must be a positive number`);
      error.usage = true;
      throw error;
    }
    return value;
  };
  return {
    urls,
    timeoutMs: number('SMOKE_TIMEOUT_SECONDS', 180) * 1000,
    model: env.SMOKE_MODEL || 'nomaly-smoke',
    maxBackupAgeHours: number('SMOKE_MAX_BACKUP_AGE_HOURS', 26),
    requireBackup: !['0', 'false', 'no'].includes(String(env.SMOKE_REQUIRE_BACKUP || '1').toLowerCase()),
  };
}

async function get(step: string, url: string): Promise<{ status: number; body: string }> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(10000) });
  } catch (err) {
    const reason = (err as { cause?: { code?: string; message?: string } }).cause;
    const cause = reason ? ` (${reason.code || reason.message})` : '';
    fail(step, `${url} does not answer: ${errorMessage(err)}${cause}`);
  }
  const body = await response.text();
  return { status: response.status, body };
}

async function checkHealth(urls: string[]): Promise<void> {
  for (const base of urls) {
    const { status, body } = await get('health', `${base}/health`);
    if (status !== 200) fail('health', `${base}/health answered ${status}: ${body.slice(0, 200)}`);
    ok('health', `${base}/health`);
  }
}

async function checkReadiness(urls: string[]): Promise<void> {
  for (const base of urls) {
    const { status, body } = await get('readiness', `${base}/ready`);
    if (status !== 200) fail('readiness', `${base}/ready answered ${status}: ${body.slice(0, 300)}`);
    ok('readiness', `${base}/ready ${body.slice(0, 120)}`);
  }
}

/** 306 rows of 3 features near the origin, with 5 planted outliers far away (rows 51, 102, ..., 255). */
function writeTinyDataset(): { dir: string; file: string; rows: number; outliers: number[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nomaly-smoke-'));
  const file = path.join(dir, 'smoke.csv');
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const lines = ['id,a,b,c'];
  const outliers: number[] = [];
  for (let i = 0; i < 306; i++) {
    const planted = i > 0 && i % 51 === 0;
    if (planted) outliers.push(i);
    const scale = planted ? 40 : 1;
    const cell = () => ((random() - 0.5) * 2 * scale + (planted ? 60 : 0)).toFixed(4);
    lines.push(`r${i},${cell()},${cell()},${cell()}`);
  }
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return { dir, file, rows: 306, outliers };
}

function withTimeout<T>(step: string, promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SmokeFailure(step, `${what} did not finish within ${ms / 1000} s (are the workers polling?)`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function checkDetection(client: NomalyClient, config: NomalyConfig, s: Settings): Promise<void> {
  const tiny = writeTinyDataset();
  try {
    let dataset: Awaited<ReturnType<NomalyClient['uploadDataset']>>;
    try {
      dataset = await withTimeout('detection', client.uploadDataset(tiny.file, { name: 'nomaly-smoke.csv' }), s.timeoutMs, 'registering the dataset');
    } catch (err) {
      if (err instanceof SmokeFailure) throw err;
      fail('detection', `uploading the dataset failed: ${errorMessage(err)}`);
    }
    if (dataset.rows !== tiny.rows) fail('detection', `dataset ${dataset.id} has ${dataset.rows} rows, expected ${tiny.rows}`);
    ok('detection', `dataset ${dataset.id} registered (${dataset.rows} rows)`);

    const train = await client.startTraining({ datasetId: dataset.id, modelName: s.model, algorithm: 'isolation-forest', contamination: 0.02, params: { seed: 1, nTrees: 50 } });
    let trained: Awaited<ReturnType<typeof trainModel>>;
    try {
      trained = await withTimeout('detection', train.result(), s.timeoutMs, `training ${train.workflowId}`);
    } catch (err) {
      if (err instanceof SmokeFailure) throw err;
      fail('detection', `training ${train.workflowId} failed: ${failureMessage(err)}`);
    }
    ok('detection', `model ${trained.modelName}@${trained.version} trained (${train.workflowId})`);

    const detect = await client.startDetection({ model: `${trained.modelName}@${trained.version}`, datasetId: dataset.id });
    let summary: Awaited<ReturnType<typeof detectBatch>>;
    try {
      summary = await withTimeout('detection', detect.result(), s.timeoutMs, `detection ${detect.workflowId}`);
    } catch (err) {
      if (err instanceof SmokeFailure) throw err;
      fail('detection', `detection ${detect.workflowId} failed: ${failureMessage(err)}`);
    }
    if (summary.status !== 'completed') fail('detection', `detection ${detect.workflowId} ended ${summary.status}`);
    if (summary.rows !== tiny.rows) fail('detection', `detection scored ${summary.rows} rows, expected ${tiny.rows}`);
    const found = new Set(summary.topAnomalies.map((a) => a.rowIndex));
    const missed = tiny.outliers.filter((row) => !found.has(row));
    if (missed.length > 0) fail('detection', `detection ${detect.workflowId} missed the planted outlier rows ${missed.join(', ')}`);
    if (process.env.DATABASE_URL || process.env.DATABASE_URL_FILE) {
      const pg = new PgClient({ connectionString: config.databaseUrl, connectionTimeoutMillis: 10000 });
      try {
        await pg.connect();
        const { rows } = await pg.query('select count(*)::int as n from anomaly where job_id = $1', [summary.jobId]);
        if (rows[0].n !== summary.anomalies) fail('detection', `PostgreSQL holds ${rows[0].n} anomaly rows for ${summary.jobId}, the job reported ${summary.anomalies}`);
      } catch (err) {
        if (err instanceof SmokeFailure) throw err;
        fail('detection', `PostgreSQL check failed: ${errorMessage(err)}`);
      } finally {
        await pg.end().catch(() => undefined);
      }
    }
    ok('detection', `job ${summary.jobId}: ${summary.rows} rows, ${summary.anomalies} anomalies, planted outliers found`);
  } finally {
    fs.rmSync(tiny.dir, { recursive: true, force: true });
  }
}

async function checkBackup(client: NomalyClient, s: Settings): Promise<void> {
  let manifests: Awaited<ReturnType<NomalyClient['listBackups']>>;
  try {
    manifests = await client.listBackups();
  } catch (err) {
    fail('backup', `cannot read the backup catalog in MinIO: ${errorMessage(err)}`);
  }
  if (manifests.length === 0) {
    if (!s.requireBackup) {
      console.log('warn backup     no backup yet (SMOKE_REQUIRE_BACKUP=0): run `nomaly backup now --wait`');
      return;
    }
    fail('backup', 'no backup found: run `nomaly backup now --wait` or wait for the nightly schedule (SMOKE_REQUIRE_BACKUP=0 to accept)');
  }
  const newest = manifests[0];
  const finished = Date.parse(newest.finishedAt || newest.createdAt);
  const ageHours = (Date.now() - finished) / 3600000;
  if (newest.verification.status !== 'verified') {
    fail('backup', `the newest backup ${newest.id} (${newest.finishedAt}) is ${newest.verification.status}: ${newest.verification.problems.join('; ') || 'no details'}`);
  }
  if (ageHours > s.maxBackupAgeHours) {
    fail('backup', `the newest backup ${newest.id} is ${ageHours.toFixed(1)} h old, over SMOKE_MAX_BACKUP_AGE_HOURS=${s.maxBackupAgeHours}`);
  }
  ok('backup', `newest backup ${newest.id}: verified, ${ageHours.toFixed(1)} h old`);
}

async function main(): Promise<void> {
  const s = settings(process.env);
  await checkHealth(s.urls);
  await checkReadiness(s.urls);

  let config: NomalyConfig;
  try {
    config = loadConfig();
  } catch (err) {
    fail('config', errorMessage(err));
  }
  let client: NomalyClient;
  try {
    client = await NomalyClient.connect(config);
  } catch (err) {
    fail('detection', errorMessage(err));
  }
  try {
    await checkDetection(client, config, s);
    await checkBackup(client, s);
  } finally {
    await client.close();
  }
  console.log('smoke test passed');
}

main().then(
  () => process.exit(0),
  (err) => {
    if (err instanceof SmokeFailure) {
      console.error(`smoke test FAILED at ${err.step}: ${err.message}`);
      process.exit(err.usage ? 2 : 1);
    }
    console.error(`smoke test FAILED: ${err instanceof Error && err.stack ? err.stack : err}`);
    process.exit(1);
  },
);
