import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { NomalyClient } from '../../src/client/nomalyClient';
import { Client } from 'pg';
import { dropDatabasesLike, isolatedEnv, startControlProcess, type WorkerProcess } from './backupFixtures';
import { startScoringProcess } from '../support/scoringProcess';
import { freePort } from '../../src/workers/freePorts';

const root = path.resolve(__dirname, '../..');
/** scripts/smoke/run.ts as compiled by `npm run build:scripts` (scripts/install.sh runs it before the suite). */
const smoke = path.join(root, 'dist-scripts/scripts/smoke/run.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runSmoke(env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [smoke], { env: { ...process.env, ...env }, timeout: 300_000 }, (err, stdout, stderr) => {
      const code: unknown = err ? (err as unknown as { code?: unknown }).code : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

async function metricsOf(worker: WorkerProcess): Promise<string> {
  return (await fetch(`http://127.0.0.1:${worker.port}/metrics`)).text();
}

/**
 * The smoke test (scripts/smoke/run.ts) against the real private stack, with real control and scoring worker processes
 * (dist/workers/*.js) on a database and buckets of their own.
 */
describe('the smoke test against a running stack', () => {
  const env = isolatedEnv('smoke');
  const workers: WorkerProcess[] = [];
  let control: WorkerProcess;
  let scoring: WorkerProcess;
  let client: NomalyClient;

  beforeAll(async () => {
    if (!existsSync(smoke)) throw new Error(`${smoke} is missing: run \`npm run build:scripts\` first`);
    control = await startControlProcess(env);
    scoring = await startScoringProcess({ ...env });
    workers.push(control, scoring);
    client = await NomalyClient.connect(loadConfig({ ...process.env, ...env }));
  });
  afterAll(async () => {
    await client?.close();
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await dropDatabasesLike(env.DATABASE_URL);
  });

  const smokeEnv = () => ({
    ...env,
    SMOKE_WORKER_URLS: `http://127.0.0.1:${control.port},http://127.0.0.1:${scoring.port}/`,
    SMOKE_TIMEOUT_SECONDS: '120',
  });

  it('fails at the backup check while the stack has no backup yet, after health, readiness and a detection job', async () => {
    const run = await runSmoke(smokeEnv());
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^ok {3}health {5}http:\/\/127\.0\.0\.1:\d+\/health$/m);
    expect(run.stdout).toMatch(/^ok {3}readiness .*"ready":true/m);
    expect(run.stdout).toMatch(/^ok {3}detection +job detect-\S+: 306 rows, \d+ anomalies, planted outliers found$/m);
    expect(run.stderr).toMatch(/smoke test FAILED at backup: no backup found: run `nomaly backup now --wait`/);
    expect(run.stdout).not.toMatch(/smoke test passed/);
  });

  it('passes once a verified backup exists; a restarted worker still reports that backup', async () => {
    const backup = await (await client.startBackup({ scope: 'full' })).result();
    expect(backup.status).toBe('verified');

    // A restarted control worker reads the newest verified backup's time from the catalog.
    control.child.kill('SIGTERM');
    expect(await control.exited).toBe(0);
    control = await startControlProcess(env);
    workers.push(control);
    const [{ finished }] = await query<{ finished: string }>("select extract(epoch from max(finished_at))::text as finished from backup where status = 'verified'");
    const gauge = (await metricsOf(control)).match(/^nomaly_backup_last_verified_timestamp_seconds (\S+)$/m);
    expect(gauge).not.toBeNull();
    expect(Number(gauge![1])).toBeCloseTo(Number(finished), 2);
    expect(Date.now() / 1000 - Number(gauge![1])).toBeLessThan(600);

    const run = await runSmoke(smokeEnv());
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^ok {3}backup {5}newest backup ${backup.backupId}: verified, 0\\.0 h old$`, 'm'));
    expect(run.stdout.trim().split('\n').at(-1)).toBe('smoke test passed');

    // The detection it ran is counted by the control worker that finished it.
    expect(await metricsOf(control)).toMatch(/^nomaly_detection_jobs_total\{status="completed"\} 1$/m);
    // The Temporal SDK metrics infra/prometheus and infra/grafana use, under the names the workers really export.
    const exported = `${await metricsOf(control)}\n${await metricsOf(scoring)}`;
    for (const name of ['temporal_workflow_completed', 'temporal_activity_execution_latency_bucket', 'temporal_activity_execution_latency_count', 'temporal_num_pollers', 'temporal_worker_task_slots_used', 'nomaly_predictions_total', 'nomaly_model_latency_seconds_bucket', 'nomaly_anomaly_rate']) {
      expect([name, new RegExp(`^${name}(\\{|\\s)`, 'm').test(exported)]).toEqual([name, true]);
    }
  });

  it('stops at the first failure: a wrong health URL exits non-zero naming the URL, before any job', async () => {
    const port = await freePort(); // nothing listens there
    const jobsBefore = await jobCount();
    const run = await runSmoke({ ...smokeEnv(), SMOKE_WORKER_URLS: `http://127.0.0.1:${control.port},http://127.0.0.1:${port}` });
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toMatch(new RegExp(`^smoke test FAILED at health: http://127\\.0\\.0\\.1:${port}/health does not answer: fetch failed \\(ECONNREFUSED\\)$`));
    expect(run.stdout).toMatch(new RegExp(`^ok {3}health {5}http://127\\.0\\.0\\.1:${control.port}/health$`, 'm'));
    expect(run.stdout).not.toMatch(/readiness|detection/);
    expect(await jobCount()).toBe(jobsBefore);
  });

  it('fails when the newest backup is older than allowed, and on a missing SMOKE_WORKER_URLS', async () => {
    const old = await runSmoke({ ...smokeEnv(), SMOKE_MAX_BACKUP_AGE_HOURS: '0.0001' });
    expect(old.code).toBe(1);
    expect(old.stderr).toMatch(/smoke test FAILED at backup: the newest backup \S+ is \d+\.\d h old, over SMOKE_MAX_BACKUP_AGE_HOURS=0\.0001/);

    const unset = await runSmoke({ ...smokeEnv(), SMOKE_WORKER_URLS: '' });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toMatch(/smoke test FAILED at config: SMOKE_WORKER_URLS is not set/);
  });

  async function query<T extends object>(sql: string): Promise<T[]> {
    const db = new Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    try {
      return (await db.query(sql)).rows as T[];
    } finally {
      await db.end();
    }
  }

  async function jobCount(): Promise<number> {
    const [{ n }] = await query<{ n: string }>('select count(*) as n from detection_job');
    return Number(n);
  }
});
