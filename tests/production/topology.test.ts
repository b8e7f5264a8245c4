import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { Client } from 'pg';
import { NomalyClient } from '../../src/client/nomalyClient';
import { loadConfig } from '../../src/config';
import { readCsv } from '../../src/data/csv';
import { decodeScoresFile } from '../../src/results/scoresFile';
import { decodeModel } from '../../src/scoring/codec';
import { ObjectStore } from '../../src/storage';
import { writeSyntheticCsv } from '../support/generatedData';
import { freePort } from '../../src/workers/freePorts';
import { quietLogger } from '../../scripts/stack/quietLogger';
import { startPrivateStack, type PrivateStack } from '../../scripts/stack/privateStack';

/**
 * The production topology, proven by running it: the Temporal server (go.temporal.io/server on
 * PostgreSQL, brought up by scripts/prod-stack-up.sh exactly as an operator does), MinIO, and
 * two control and two scoring workers as separate OS processes (node dist/workers/*.js). A
 * training, a 40-chunk detection job during which the control worker holding the workflow and
 * a scoring worker running a chunk are SIGKILLed, and a verified backup — with exact results.
 */
const root = path.resolve(__dirname, '../..');
const ROWS = 200_000;
const CHUNK_ROWS = 5_000;

interface WorkerProcess {
  kind: 'control' | 'scoring';
  child: ChildProcess;
  port: number;
  exited: Promise<number | null>;
}

describe('the production topology (Temporal server on PostgreSQL, workers as processes)', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'nomaly-prod-'));
  const stamp = `${Date.now()}_${process.pid}`;
  const base = new URL(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const appDb = new URL(base.toString());
  appDb.pathname = `/nomaly_prod_${stamp}`;
  let stack: PrivateStack | undefined;
  let stackEnv: NodeJS.ProcessEnv = {};
  let client: NomalyClient | undefined;
  const workers: WorkerProcess[] = [];
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    let started = Date.now();
    // Builds the server binaries first if they are not cached yet (minutes, once). Whatever the
    // integration project's set-up left in process.env (its dev server's address) stays out.
    stack = await startPrivateStack({
      topology: 'production',
      dataDir,
      databaseUrl: appDb.toString(),
      minioUser: 'nomaly-prod-test',
      minioPassword: 'nomaly-prod-test-secret',
      settings: { TEMPORAL_DB: `nomaly_prod_${stamp}_temporal`, TEMPORAL_VISIBILITY_DB: `nomaly_prod_${stamp}_visibility` },
      verbose: true,
    });
    timings.stackUpSeconds = (Date.now() - started) / 1000;
    stackEnv = stack.processEnv;

    started = Date.now();
    const bundle = path.join(dataDir, 'workflow-bundle.js');
    const { code } = await bundleWorkflowCode({ workflowsPath: path.join(root, 'src/workflows/index.ts'), logger: quietLogger });
    writeFileSync(bundle, code);
    stackEnv.NOMALY_WORKFLOW_BUNDLE = bundle;
    // The first worker creates the database and runs the migrations; the others then start together.
    workers.push(await startWorker('control', stackEnv, dataDir));
    workers.push(...(await Promise.all([
      startWorker('control', stackEnv, dataDir),
      startWorker('scoring', stackEnv, dataDir),
      startWorker('scoring', stackEnv, dataDir),
    ])));
    timings.workersReadySeconds = (Date.now() - started) / 1000;
    client = await NomalyClient.connect(loadConfig(stackEnv));
  }, 30 * 60_000);

  afterAll(async () => {
    await client?.close();
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
    console.log(`production topology timings: ${JSON.stringify(timings)}`);
    if (process.env.KEEP_TEST_STACK === '1') return;
    stack?.stop({ purge: true });
  }, 120_000);

  it('trains, detects through a SIGKILLed control and scoring worker, and backs up, exactly', async () => {
    const c = client!;
    const file = path.join(dataDir, 'synthetic.csv');
    writeSyntheticCsv(file, ROWS, 8, 2027);
    const dataset = await c.uploadDataset(file);
    expect(dataset.rows).toBe(ROWS);

    // --- training -----------------------------------------------------------------------------
    let started = Date.now();
    const training = await c.startTraining({ datasetId: dataset.id, modelName: 'topology', contamination: 0.02, params: { seed: 7 } });
    const trained = await training.result();
    timings.trainingSeconds = (Date.now() - started) / 1000;
    const store = ObjectStore.connect(loadConfig(stackEnv).minio);
    const model = decodeModel(await store.getVerifiedBytes(loadConfig(stackEnv).buckets.models, trained.artifactKey, trained.artifactSha256));
    const expectedScores = model.score(readCsv(readFileSync(file), { featureColumns: dataset.featureColumns }).features);
    const expectedAnomalies = expectedScores.reduce((n, s) => (s > model.threshold ? n + 1 : n), 0);
    expect(expectedAnomalies).toBeGreaterThan(0);

    // --- detection, with a control and a scoring worker SIGKILLed mid-job ----------------------
    started = Date.now();
    const detection = await c.startDetection({ model: 'topology', datasetId: dataset.id, chunkRows: CHUNK_ROWS, maxConcurrentChunks: 4 });
    const byPid = new Map(workers.map((w) => [w.child.pid!, w]));
    let killedScoring: WorkerProcess | undefined;
    let killedChunk: string | undefined;
    for (let i = 0; !killedScoring; i++) {
      if (i > 6000) throw new Error('no scoring activity seen running on a scoring worker');
      const progress = await c.progress(detection.workflowId);
      if (progress.chunksDone >= 3) {
        const description = await detection.describe();
        const running = (description.raw.pendingActivities ?? []).find((a) =>
          a.activityType?.name === 'scoreChunk' && Number(a.state) === 2 /* PENDING_ACTIVITY_STATE_STARTED */ &&
          byPid.get(pidOf(a.lastWorkerIdentity))?.kind === 'scoring');
        if (running) {
          killedScoring = byPid.get(pidOf(running.lastWorkerIdentity))!;
          killedChunk = running.activityId ?? undefined;
        }
      }
      if (!killedScoring) await new Promise((r) => setTimeout(r, 10));
    }
    // The control worker that completed the latest workflow task holds the workflow in its cache.
    const history = await detection.fetchHistory();
    const lastTask = [...(history.events ?? [])].reverse().find((e) => e.workflowTaskCompletedEventAttributes?.identity);
    const holder = byPid.get(pidOf(lastTask?.workflowTaskCompletedEventAttributes?.identity));
    const killedControl = holder?.kind === 'control' ? holder : workers.find((w) => w.kind === 'control')!;
    killedScoring.child.kill('SIGKILL');
    killedControl.child.kill('SIGKILL');
    await Promise.all([killedScoring.exited, killedControl.exited]);
    const atKill = await c.progress(detection.workflowId);
    timings.killedAtChunk = atKill.chunksDone;

    const summary = await detection.result();
    timings.detectionSeconds = (Date.now() - started) / 1000;
    expect(atKill.chunksDone).toBeLessThan(ROWS / CHUNK_ROWS); // the kills really were mid-job
    expect(summary).toMatchObject({ status: 'completed', rows: ROWS, anomalies: expectedAnomalies });
    const stored = decodeScoresFile(await store.getVerifiedBytes(summary.scoresBucket, summary.scoresKey));
    expect(stored.length).toBe(ROWS); // every row scored, once, in order, to the bit
    expect(Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength).equals(Buffer.from(expectedScores.buffer, expectedScores.byteOffset, expectedScores.byteLength))).toBe(true);

    const db = new Client({ connectionString: stackEnv.DATABASE_URL });
    await db.connect();
    try {
      const { rows: [anomalies] } = await db.query(
        'select count(*)::int as total, count(distinct row_index)::int as distinct_rows from anomaly where job_id = $1', [detection.workflowId]);
      expect(anomalies).toEqual({ total: expectedAnomalies, distinct_rows: expectedAnomalies });
      const { rows: models } = await db.query('select version, status, artifact_sha256 from model where name = $1', ['topology']);
      expect(models).toEqual([{ version: 1, status: 'active', artifact_sha256: trained.artifactSha256 }]);
      const { rows: datasets } = await db.query('select count(*)::int as n from dataset');
      expect(datasets[0].n).toBe(1);
    } finally {
      await db.end();
    }
    const events = (await detection.fetchHistory()).events ?? [];
    const redone = events.filter((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1).length;
    timings.activitiesRedone = redone;
    timings.killedChunk = Number(killedChunk ?? -1);
    // Each kill costs at most what the killed workers were running (a scoring worker runs two).
    expect(redone).toBeLessThanOrEqual(4);

    // --- backup on the surviving workers ------------------------------------------------------
    started = Date.now();
    const backup = await (await c.startBackup({ scope: 'full', retention: false })).result();
    timings.backupSeconds = (Date.now() - started) / 1000;
    expect(backup).toMatchObject({ status: 'verified', scope: 'full', problems: [] });
    expect(backup.verification).toMatchObject({ status: 'verified', rowCountsMatch: true, problems: [] });
    expect(backup.verification!.objectsChecked).toBeGreaterThanOrEqual(2); // the dump and the model
  }, 15 * 60_000);
});

function pidOf(identity: string | null | undefined): number {
  return Number((identity ?? '').split('@')[0]);
}

/** A real worker process, as production runs it: node dist/workers/<kind>.js with the stack's environment. */
async function startWorker(kind: 'control' | 'scoring', env: NodeJS.ProcessEnv, dataDir: string): Promise<WorkerProcess> {
  const port = await freePort();
  mkdirSync(path.join(dataDir, 'logs'), { recursive: true });
  const log = openSync(path.join(dataDir, 'logs', `${kind}-worker-${port}.log`), 'a');
  const child = spawn(process.execPath, [path.join(root, `dist/workers/${kind}.js`)], {
    env: { ...env, NOMALY_HTTP_PORT: String(port), NOMALY_SCORING_CONCURRENCY: '2' },
    stdio: ['ignore', log, log],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  for (let i = 0; i < 480; i++) {
    const ready = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.ok, () => false);
    if (ready) return { kind, child, port, exited };
    if (child.exitCode !== null) throw new Error(`${kind} worker exited with ${child.exitCode}; see ${dataDir}/logs`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${kind} worker did not become ready`);
}

