/**
 * Detection throughput benchmark (issue #5, "Speed and scale"). In one run:
 *   setup  a seeded BENCH_ROWS × 16 CSV (cached under BENCH_CACHE_DIR) is uploaded and registered
 *          through the platform (NomalyClient.uploadDataset → registerDataset) and an Isolation
 *          Forest is trained on it (trainModel); both are reused when the stack already has them;
 *   (a)    the raw pipeline, no Temporal: stream the object from MinIO, parse, score with the same
 *          model, write the score file — one process, one thread;
 *   (b..)  detectBatch through Temporal with N scoring worker processes (`node …/workers/scoring.js`)
 *          and one control worker process, for each N in BENCH_WORKERS: rows/s from workflow start
 *          to result, and each scoring worker's peak RSS (VmHWM from /proc/<pid>/status);
 *   (rss)  detectBatch with one scoring worker on a BENCH_RSS_ROWS dataset, to show whether a
 *          worker's peak memory follows the chunk size or the dataset size.
 * Writes bench/detect-last-run.md.
 *
 *   npm run bench:detect                                   # 10M rows, 1 and 2 scoring workers, private stack
 *   BENCH_ROWS=1000000 npm run bench:detect
 *   BENCH_WORKERS=1,2,4 TEMPORAL_ADDRESS=… DATABASE_URL=… MINIO_ENDPOINT=… MINIO_ROOT_USER=… MINIO_ROOT_PASSWORD=… npm run bench:detect
 *
 * Without TEMPORAL_ADDRESS it starts a private stack (scripts/stack-up.sh --services-only) whose
 * data folder (BENCH_DATA_DIR, default BENCH_CACHE_DIR/stack) and database (nomaly_detect_bench)
 * are kept between runs, so a rerun skips generation, upload, registration and training. With
 * TEMPORAL_ADDRESS set it uses that stack as it is and only starts its own worker processes: no
 * other worker may poll the nomaly-control / nomaly-scoring queues of that namespace meanwhile
 * (use a namespace of its own, TEMPORAL_NAMESPACE), or the worker counts mean nothing.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import type { WorkflowHandle } from '@temporalio/client';
import { BENCH_COLUMNS, ANOMALY_EVERY, ANOMALY_OFFSET, ensureBenchCsv, injectedAnomalies } from './generate';
import { repoRoot } from '../repoRoot';
import { completedActivities, spanSeconds } from '../stack/activityTimes';
import { codeState } from '../stack/codeState';
import { startPrivateStack, type PrivateStack } from '../stack/privateStack';
import { startWorker as startWorkerProcess, stopWorker, type WorkerProcess } from '../stack/workerProcesses';

const root = repoRoot;
/** The platform as compiled with this benchmark (dist-scripts/src): workers run from here. */
const builtSrc = path.resolve(__dirname, '../../src');

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw.replace(/_/g, ''));
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name}=${raw} must be a non-negative number`);
  return value;
}

const rows = Math.round(envNumber('BENCH_ROWS', 10_000_000));
const workerCounts = (process.env.BENCH_WORKERS ?? '1,2').split(',').map((s) => Number(s.trim()));
if (workerCounts.some((n) => !Number.isInteger(n) || n < 1) || workerCounts.length === 0) throw new Error(`BENCH_WORKERS=${process.env.BENCH_WORKERS} must list worker counts, e.g. 1,2,4`);
const seed = Math.round(envNumber('BENCH_SEED', 1));
const contamination = envNumber('BENCH_CONTAMINATION', 0.001);
const rssRows = Math.round(envNumber('BENCH_RSS_ROWS', 1_000_000));
const chunkRowsWanted = process.env.BENCH_CHUNK_ROWS ? Math.round(envNumber('BENCH_CHUNK_ROWS', 0)) : undefined;
const windowWanted = process.env.BENCH_WINDOW ? Math.round(envNumber('BENCH_WINDOW', 0)) : undefined;
const cacheDir = path.resolve(process.env.BENCH_CACHE_DIR ?? path.join(process.env.NOMALY_CACHE_DIR ?? path.join(os.homedir(), '.cache/nomaly'), 'detect-bench'));
const external = Boolean(process.env.TEMPORAL_ADDRESS);
const modelName = process.env.BENCH_MODEL ?? `detect-bench-c${contamination}`;

function log(message: string): void {
  console.error(`[detect-bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}


// --- worker processes (scripts/stack/workerProcesses.ts) ---------------------------------------

/** A worker as the memory readings name it. BENCH_NODE_ARGS reach the worker processes only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof". */
async function startWorker(kind: 'control' | 'scoring', name: string, env: NodeJS.ProcessEnv, logDir: string): Promise<WorkerProcess> {
  const worker = await startWorkerProcess(kind, name, env, logDir, (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean));
  roles.set(worker.pid, kind === 'control' ? 'control worker' : 'scoring worker(s)');
  return worker;
}

/** VmRSS / VmHWM of a process, in bytes (Linux). */
function procMemory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

// --- machine load ----------------------------------------------------------------------------

interface CpuSnapshot {
  at: number;
  busy: number; // jiffies, all CPUs
  total: number;
  perProcess: Map<number, { cpu: number; name: string }>;
}

const HZ = 100; // USER_HZ on Linux

function cpuSnapshot(): CpuSnapshot {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = fields[3] + (fields[4] ?? 0);
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  const perProcess = new Map<number, { cpu: number; name: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const rest = stat.slice(close + 2).split(' ');
      // After "pid (comm) ": state(0) … utime(11) stime(12)
      const cpu = Number(rest[11]) + Number(rest[12]);
      perProcess.set(Number(entry), { cpu, name: stat.slice(stat.indexOf('(') + 1, close) });
    } catch {
      // gone
    }
  }
  return { at: Date.now(), busy: total - idle, total, perProcess };
}

function commandLine(pid: number, name: string): string {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    return (cmd || name).replace(/\s+/g, ' ').slice(0, 70);
  } catch {
    return name;
  }
}

interface LoadReport {
  seconds: number;
  machineCores: number; // average cores busy, whole machine
  oursCores: number;
  othersCores: number;
  topOthers: Array<{ pid: number; cores: number; what: string }>;
  /** CPU-seconds of each of this benchmark's processes, by role. */
  oursByRole: Map<string, number>;
  loadavg: string;
}

/** What each of this benchmark's processes is, for the CPU breakdown. */
const roles = new Map<number, string>();

function loadBetween(a: CpuSnapshot, b: CpuSnapshot, ours: Set<number>): LoadReport {
  const seconds = (b.at - a.at) / 1000;
  const cpus = os.cpus().length;
  const machineCores = b.total > a.total ? ((b.busy - a.busy) / (b.total - a.total)) * cpus : 0;
  let oursJiffies = 0;
  const others: Array<{ pid: number; cores: number; what: string }> = [];
  const oursByRole = new Map<string, number>();
  for (const [pid, after] of b.perProcess) {
    const before = a.perProcess.get(pid)?.cpu ?? 0;
    const delta = after.cpu - before;
    if (delta <= 0) continue;
    if (ours.has(pid)) {
      oursJiffies += delta;
      const role = roles.get(pid) ?? `pid ${pid}`;
      oursByRole.set(role, (oursByRole.get(role) ?? 0) + delta / HZ);
    } else others.push({ pid, cores: delta / HZ / seconds, what: commandLine(pid, after.name) });
  }
  const oursCores = oursJiffies / HZ / seconds;
  others.sort((x, y) => y.cores - x.cores);
  return {
    seconds,
    machineCores,
    oursCores,
    othersCores: Math.max(0, machineCores - oursCores),
    topOthers: others.slice(0, 5),
    oursByRole,
    loadavg: os.loadavg().map((l) => l.toFixed(2)).join(' '),
  };
}

// --- detection job timings -------------------------------------------------------------------

interface JobTimings {
  planSeconds: number;
  scoringSeconds: number; // first scoreChunk scheduled → last scoreChunk completed
  finalizeSeconds: number;
  chunkSecondsMean: number;
  chunkSecondsMax: number;
  chunkAttempts: number;
  chunks: number;
  runs: number;
}

async function jobTimings(handles: WorkflowHandle[]): Promise<JobTimings> {
  const done = await completedActivities(handles);
  const of = (name: string) => done.filter((d) => d.name === name);
  const chunks = of('scoreChunk');
  const chunkSeconds = chunks.map((c) => (c.at - c.startedAt) / 1000);
  const plan = of('planDatasetChunks')[0];
  const finalize = of('finalizeDetection')[0];
  return {
    planSeconds: plan ? (plan.at - plan.startedAt) / 1000 : NaN,
    scoringSeconds: spanSeconds(chunks),
    finalizeSeconds: finalize ? (finalize.at - finalize.startedAt) / 1000 : NaN,
    chunkSecondsMean: chunkSeconds.length ? chunkSeconds.reduce((a, b) => a + b, 0) / chunkSeconds.length : NaN,
    chunkSecondsMax: chunkSeconds.length ? Math.max(...chunkSeconds) : NaN,
    chunkAttempts: chunks.reduce((n, c) => n + c.attempt, 0),
    chunks: chunks.length,
    runs: handles.length,
  };
}

// --- main ------------------------------------------------------------------------------------


async function sha256OfFileCached(file: string): Promise<string> {
  const sidecar = `${file}.sha256`;
  if (existsSync(sidecar)) return readFileSync(sidecar, 'utf8').trim();
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  const digest = hash.digest('hex');
  writeFileSync(sidecar, `${digest}\n`);
  return digest;
}

interface DetectRun {
  label: string;
  workers: number;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  chunkRows: number;
  chunks: number;
  window: number;
  startRss: number[];
  peakRss: number[]; // VmHWM per scoring worker
  rssTimeline: Array<{ t: number; rss: number }>; // max over workers, every sample
  anomalies: number;
  injectedFlagged: number;
  injected: number;
  scoresMatchRaw: boolean | null;
  timings: JobTimings;
  load: LoadReport;
  workflowId: string;
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const mib = (n: number) => (n / 2 ** 20).toFixed(0);
  const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');

  log(`dataset: ${fmtInt(rows)} × ${BENCH_COLUMNS}, seed ${seed}; cache ${cacheDir}`);
  const csv = await ensureBenchCsv(cacheDir, rows, seed, log);
  const rssCsv = rssRows > 0 && rssRows < rows ? await ensureBenchCsv(cacheDir, rssRows, seed, log) : undefined;
  const freeDisk = execFileSync('df', ['-h', '--output=avail', cacheDir]).toString().trim().split('\n').pop()?.trim();
  log(`CSV ${csv.file}: ${mib(csv.bytes)} MiB${csv.generatedSeconds === null ? ' (cached)' : `, generated in ${csv.generatedSeconds.toFixed(0)} s`}; ${freeDisk} free`);

  // --- the stack ---
  const dataDir = path.resolve(process.env.BENCH_DATA_DIR ?? path.join(cacheDir, 'stack'));
  const env: Record<string, string> = {
    LOG_LEVEL: 'warn',
    NOMALY_MAX_DATASET_BYTES: String(Math.max(Number(process.env.NOMALY_MAX_DATASET_BYTES ?? 0), csv.bytes + 1, 100 * 2 ** 20)),
  };
  const stackPids: number[] = [];
  let stack: PrivateStack | undefined;
  if (!external) {
    mkdirSync(dataDir, { recursive: true });
    log(`starting a private stack (data kept in ${dataDir})`);
    stack = await startPrivateStack({
      dataDir,
      databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/nomaly_detect_bench',
      minioUser: 'nomaly-bench',
      minioPassword: 'nomaly-bench-secret',
      settings: env,
      // A previous run that died may have left its services running on other ports.
      stopLeftovers: true,
    });
    Object.assign(env, stack.env);
    for (const name of ['temporal', 'minio']) {
      try {
        const pid = Number(readFileSync(path.join(dataDir, 'pids', `${name}.pid`), 'utf8').trim());
        stackPids.push(pid);
        roles.set(pid, name === 'temporal' ? 'Temporal server' : 'MinIO');
      } catch {
        // not ours
      }
    }
  } else {
    log(`using the running stack at TEMPORAL_ADDRESS=${process.env.TEMPORAL_ADDRESS}`);
  }
  Object.assign(process.env, env);
  const workerEnv: NodeJS.ProcessEnv = { ...process.env };
  const logDir = path.join(external ? cacheDir : dataDir, 'logs', `bench-${startedAt.toISOString().replace(/[:.]/g, '-')}`);

  // Imported after the environment is set: the config is read from it.
  const { loadConfig } = await import('../../src/config');
  const { NomalyClient } = await import('../../src/client/nomalyClient');
  const { ObjectStore } = await import('../../src/storage/objectStore');
  const { decodeModel } = await import('../../src/scoring/codec');
  const { csvBatches } = await import('../../src/data/csvStream');
  const { encodeScoresHeader, decodeScoresFile } = await import('../../src/results/scoresFile');
  const { planChunks, defaultChunkRows, CHUNK_POLICY } = await import('../../src/data/chunkPolicy');
  const DETECT_DEFAULTS = { ...(await import('../../src/api/inputs')).DETECT_DEFAULTS, ...CHUNK_POLICY };
  const { ensureCsvIndex } = await import('../../src/data/rowIndexStore');

  const config = loadConfig();
  roles.set(process.pid, 'bench process');
  const cleanup: Array<() => Promise<void>> = [];
  const running: WorkerProcess[] = [];
  cleanup.push(async () => {
    for (const w of running.splice(0)) await stopWorker(w);
  });
  let markdown = '';
  try {
    const client = await NomalyClient.connect(config);
    cleanup.unshift(() => client.close());
    const store = ObjectStore.connect(config.minio);
    const pg = new PgClient({ connectionString: config.databaseUrl });

    log('starting the control worker');
    const control = await startWorker('control', 'control', workerEnv, logDir);
    running.push(control);
    await pg.connect();
    cleanup.unshift(() => pg.end());

    // --- dataset and model: the platform's own path, reused when already there ---
    const ensureDataset = async (file: string): Promise<{ id: string; rows: number; reused: boolean; seconds: number }> => {
      const t = Date.now();
      const sha = await sha256OfFileCached(file);
      const found = await pg.query<{ id: string; rows: number; object_key: string }>('select id, rows, object_key from dataset where sha256 = $1', [sha]);
      if (found.rows[0] && (await store.stat(config.buckets.datasets, found.rows[0].object_key))?.sha256 === sha) {
        return { id: found.rows[0].id, rows: Number(found.rows[0].rows), reused: true, seconds: (Date.now() - t) / 1000 };
      }
      log(`uploading and registering ${path.basename(file)}`);
      const dataset = await client.uploadDataset(file);
      return { id: dataset.id, rows: dataset.rows, reused: false, seconds: (Date.now() - t) / 1000 };
    };
    // Registration writes a CSV's row index; a dataset registered before indexes existed gets it here, outside the measurements.
    const ensureIndex = async (ds: { id: string }) => {
      const row = (await pg.query<{ object_key: string; sha256: string }>('select object_key, sha256 from dataset where id = $1', [ds.id])).rows[0];
      const t = Date.now();
      const { built } = await ensureCsvIndex({ store, bucket: config.buckets.datasets, key: row.object_key, sha256: row.sha256 }, () => undefined);
      if (built) log(`built the row index of ${ds.id} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    };
    const dataset = await ensureDataset(csv.file);
    await ensureIndex(dataset);
    log(`dataset ${dataset.id}: ${fmtInt(dataset.rows)} rows (${dataset.reused ? 'reused' : `uploaded and registered in ${dataset.seconds.toFixed(1)} s`})`);
    if (dataset.rows !== rows) throw new Error(`dataset ${dataset.id} has ${dataset.rows} rows, expected ${rows}`);

    const findModel = async () =>
      (
        await pg.query<{ name: string; version: number; threshold: number; artifact_key: string; artifact_sha256: string }>(
          `select name, version, threshold, artifact_key, artifact_sha256 from model
            where name = $1 and dataset_id = $2 and status in ('active', 'ready') order by version desc limit 1`,
          [modelName, dataset.id],
        )
      ).rows[0];
    let model = await findModel();
    let trainSeconds: number | null = null;
    if (!model) {
      log(`training ${modelName} (isolation-forest, contamination ${contamination}) through trainModel`);
      const scorer = await startWorker('scoring', 'scoring-train', workerEnv, logDir);
      running.push(scorer);
      const t = Date.now();
      const handle = await client.startTraining({ datasetId: dataset.id, modelName, algorithm: 'isolation-forest', contamination, seed, params: { seed } });
      await handle.result();
      trainSeconds = (Date.now() - t) / 1000;
      await stopWorker(scorer);
      running.splice(running.indexOf(scorer), 1);
      model = await findModel();
      if (!model) throw new Error(`trainModel finished but no ready ${modelName} model was found`);
    }
    const modelRef = `${model.name}@${model.version}`;
    log(`model ${modelRef}: threshold ${Number(model.threshold).toFixed(4)} (${trainSeconds === null ? 'reused' : `trained in ${trainSeconds.toFixed(1)} s`})`);
    const detector = decodeModel(await store.getVerifiedBytes(config.buckets.models, model.artifact_key, model.artifact_sha256));
    const datasetRow = (await pg.query<{ object_key: string; feature_columns: string[] }>('select object_key, feature_columns from dataset where id = $1', [dataset.id])).rows[0];
    const modelColumns = (await pg.query<{ feature_columns: string[] }>('select feature_columns from model where name = $1 and version = $2', [model.name, model.version])).rows[0].feature_columns;

    if (process.env.BENCH_SETUP_ONLY === '1') {
      log('BENCH_SETUP_ONLY=1: dataset and model are ready; nothing measured');
      return;
    }
    const ours = new Set<number>([process.pid, ...stackPids, control.pid]);

    // --- (a) the raw pipeline: no Temporal, one process, one thread ---
    log('(a) raw pipeline: MinIO stream → parse → score → score file');
    let loadA = cpuSnapshot();
    const cpuA = process.cpuUsage();
    let t = Date.now();
    const object = await store.client.getObject(config.buckets.datasets, datasetRow.object_key);
    const rawScores = new Float64Array(rows);
    let scored = 0;
    for await (const batch of csvBatches(object as AsyncIterable<Buffer>, { featureColumns: modelColumns })) {
      detector.score(batch.features, rawScores.subarray(scored, scored + batch.features.rows));
      scored += batch.features.rows;
    }
    if (scored !== rows) throw new Error(`raw pipeline read ${scored} rows, expected ${rows}`);
    const rawFile = Buffer.concat([encodeScoresHeader(rows), Buffer.from(rawScores.buffer, rawScores.byteOffset, rawScores.byteLength)]);
    const rawKey = `bench/detect-raw-${process.pid}-${Date.now()}/scores.f64`;
    await store.putBytes(config.buckets.results, rawKey, rawFile);
    const rawSeconds = (Date.now() - t) / 1000;
    const rawCpu = process.cpuUsage(cpuA);
    const rawLoad = loadBetween(loadA, cpuSnapshot(), ours);
    await store.remove(config.buckets.results, rawKey);
    let rawAnomalies = 0;
    for (let i = 0; i < rows; i++) if (rawScores[i] > detector.threshold) rawAnomalies++;
    const raw = { seconds: rawSeconds, rowsPerSecond: rows / rawSeconds, cpuSeconds: (rawCpu.user + rawCpu.system) / 1e6, load: rawLoad, anomalies: rawAnomalies };
    log(`    ${rawSeconds.toFixed(1)} s → ${fmtInt(raw.rowsPerSecond)} rows/s (process CPU ${raw.cpuSeconds.toFixed(1)} s; ${rawAnomalies} rows over the threshold)`);

    // --- detectBatch with N scoring worker processes ---
    const scoringConcurrency = config.scoring.maxConcurrentActivities;
    // Every run uses the chunk size the full dataset gets by default, so the smaller memory run differs in rows only.
    const chunkRows = chunkRowsWanted ?? defaultChunkRows(rows);
    const detect = async (label: string, workers: number, ds: { id: string; rows: number }, compare: Float64Array | null): Promise<DetectRun> => {
      const chunkPlan = planChunks(ds.rows, chunkRows, DETECT_DEFAULTS.maxChunksPerJob);
      const window = windowWanted ?? Math.max(DETECT_DEFAULTS.maxConcurrentChunks, workers * scoringConcurrency);
      log(`${label}: detectBatch, ${workers} scoring worker process(es), ${fmtInt(ds.rows)} rows, chunks of ${fmtInt(chunkPlan.chunkRows)}, window ${window}`);
      const scorers: WorkerProcess[] = [];
      for (let i = 0; i < workers; i++) {
        const w = await startWorker('scoring', `scoring-${label.replace(/[^a-z0-9]+/gi, '_')}-${i + 1}`, workerEnv, logDir);
        running.push(w);
        scorers.push(w);
      }
      const startRss = scorers.map((w) => procMemory(w.pid).rss);
      const rssTimeline: Array<{ t: number; rss: number }> = [];
      const runOurs = new Set([...ours, ...scorers.map((w) => w.pid)]);
      const load0 = cpuSnapshot();
      const t0 = Date.now();
      const sampler = setInterval(() => {
        try {
          rssTimeline.push({ t: (Date.now() - t0) / 1000, rss: Math.max(...scorers.map((w) => procMemory(w.pid).rss)) });
        } catch {
          // a worker exiting
        }
      }, 250);
      let handle: WorkflowHandle;
      let result: { rows: number; anomalies: number; scoresBucket: string; scoresKey: string; reportKey: string };
      try {
        handle = await client.startDetection({ model: modelRef, datasetId: ds.id, chunkRows: chunkPlan.chunkRows, maxConcurrentChunks: window });
        result = (await handle.result()) as typeof result;
      } finally {
        clearInterval(sampler);
      }
      const seconds = (Date.now() - t0) / 1000;
      const load = loadBetween(load0, cpuSnapshot(), runOurs);
      const peakRss = scorers.map((w) => procMemory(w.pid).hwm);
      for (const w of scorers) {
        await stopWorker(w);
        running.splice(running.indexOf(w), 1);
      }
      // The first run planned, the last one finalised (a job of more than chunksPerRun chunks continues as new in between).
      const firstRunId = (handle as WorkflowHandle & { firstExecutionRunId?: string }).firstExecutionRunId;
      const handles: WorkflowHandle[] = [client.temporal.workflow.getHandle(handle.workflowId, firstRunId)];
      const latest = client.temporal.workflow.getHandle(handle.workflowId);
      if (firstRunId && (await latest.describe()).runId !== firstRunId) handles.push(latest);
      const timings = await jobTimings(handles);
      const injectedFlagged = Number(
        (await pg.query<{ n: string }>('select count(*) as n from anomaly where job_id = $1 and row_index % $2 = $3', [handle.workflowId, ANOMALY_EVERY, ANOMALY_OFFSET])).rows[0].n,
      );
      let scoresMatchRaw: boolean | null = null;
      if (compare) {
        const jobScores = decodeScoresFile(await store.getVerifiedBytes(result.scoresBucket, result.scoresKey));
        scoresMatchRaw = Buffer.from(jobScores.buffer, jobScores.byteOffset, jobScores.byteLength).equals(Buffer.from(compare.buffer, compare.byteOffset, compare.byteLength));
      }
      // The job's results are not needed after this: keep the bench's MinIO and database small.
      await store.remove(result.scoresBucket, result.scoresKey).catch(() => undefined);
      await store.remove(result.scoresBucket, result.reportKey).catch(() => undefined);
      await pg.query('delete from anomaly where job_id = $1', [handle.workflowId]);
      const run: DetectRun = {
        label,
        workers,
        rows: ds.rows,
        seconds,
        rowsPerSecond: ds.rows / seconds,
        chunkRows: chunkPlan.chunkRows,
        chunks: chunkPlan.chunks,
        window,
        startRss,
        peakRss,
        rssTimeline,
        anomalies: result.anomalies,
        injectedFlagged,
        injected: injectedAnomalies(ds.rows),
        scoresMatchRaw,
        timings,
        load,
        workflowId: handle.workflowId,
      };
      log(
        `    ${seconds.toFixed(1)} s → ${fmtInt(run.rowsPerSecond)} rows/s; plan ${timings.planSeconds.toFixed(1)} s, scoring ${timings.scoringSeconds.toFixed(1)} s, finalize ${timings.finalizeSeconds.toFixed(1)} s; ` +
          `peak RSS ${peakRss.map((b) => `${mib(b)} MiB`).join(', ')}; scores ${scoresMatchRaw === null ? 'not compared' : scoresMatchRaw ? '= raw' : 'DIFFER from raw'}`,
      );
      return run;
    };

    const runs: DetectRun[] = [];
    for (const n of workerCounts) runs.push(await detect(`${n} scoring worker${n > 1 ? 's' : ''}`, n, dataset, rawScores));
    let rssRun: DetectRun | undefined;
    let rssDataset: { id: string; rows: number; reused: boolean } | undefined;
    if (rssCsv) {
      rssDataset = await ensureDataset(rssCsv.file);
      await ensureIndex(rssDataset);
      rssRun = await detect(`1 scoring worker, ${fmtInt(rssRows)} rows`, 1, rssDataset, null);
    }

    // --- report ---
    const one = runs.find((r) => r.workers === 1);
    const two = runs.find((r) => r.workers === 2);
    const best = runs.reduce((a, b) => (b.rowsPerSecond > a.rowsPerSecond ? b : a));
    const verdict = (ok: boolean | undefined) => (ok === undefined ? 'not measured' : ok ? '**met**' : '**not met**');
    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    const cores = os.cpus().length;
    const command = `${[
      process.env.BENCH_ROWS ? `BENCH_ROWS=${process.env.BENCH_ROWS}` : '',
      process.env.BENCH_WORKERS ? `BENCH_WORKERS=${process.env.BENCH_WORKERS}` : '',
      process.env.BENCH_CHUNK_ROWS ? `BENCH_CHUNK_ROWS=${process.env.BENCH_CHUNK_ROWS}` : '',
      process.env.BENCH_WINDOW ? `BENCH_WINDOW=${process.env.BENCH_WINDOW}` : '',
      process.env.BENCH_RSS_ROWS ? `BENCH_RSS_ROWS=${process.env.BENCH_RSS_ROWS}` : '',
      external ? 'TEMPORAL_ADDRESS=… DATABASE_URL=… MINIO_ENDPOINT=…' : '',
      process.env.NOMALY_SCORING_CONCURRENCY ? `NOMALY_SCORING_CONCURRENCY=${process.env.NOMALY_SCORING_CONCURRENCY}` : '',
    ]
      .filter(Boolean)
      .join(' ')} npm run bench:detect`.trim();
    const loadText = (l: LoadReport) =>
      `${l.machineCores.toFixed(2)} of ${cores} cores busy on average; this benchmark's processes ${l.oursCores.toFixed(2)}; ` +
      `(CPU-seconds: ${[...l.oursByRole].sort((x, y) => y[1] - x[1]).map(([role, sec]) => `${role} ${sec.toFixed(1)}`).join(', ')}); ` +
      `other processes ${l.othersCores.toFixed(2)}${l.topOthers.length ? ` (top: ${l.topOthers.filter((o) => o.cores >= 0.02).map((o) => `\`${o.what}\` ${o.cores.toFixed(2)}`).join('; ') || 'none above 0.02'})` : ''}; load average ${l.loadavg}`;
    const rssMax = (r: DetectRun) => Math.max(...r.peakRss);
    const rssGrowthNote = (() => {
      if (!rssRun || !one) return 'not measured (BENCH_RSS_ROWS=0 or not smaller than BENCH_ROWS)';
      const ratio = rssMax(one) / rssMax(rssRun);
      return `peak RSS of one scoring worker: ${mib(rssMax(rssRun))} MiB at ${fmtInt(rssRun.rows)} rows vs ${mib(rssMax(one))} MiB at ${fmtInt(one.rows)} rows (${ratio.toFixed(2)}× for ${(one.rows / rssRun.rows).toFixed(0)}× the rows)`;
    })();
    const rssBounded = rssRun && one ? rssMax(one) <= rssMax(rssRun) * 1.25 : undefined;
    const chunkText = (r: DetectRun) => `${fmtInt(r.chunkRows)} rows (${mib(r.chunkRows * BENCH_COLUMNS * 8)} MiB as doubles, ~${mib((csv.bytes / rows) * r.chunkRows)} MiB of CSV)`;
    const cpuPerRow = (l: LoadReport, n: number) => ((l.oursCores * l.seconds) / n) * 1e6;
    // Ratios only between runs over the same dataset.
    const detectRow = (r: DetectRun) =>
      `| ${r.label} — detectBatch end to end | ${r.seconds.toFixed(1)} | **${fmtInt(r.rowsPerSecond)}** | ${r.rows === rows ? `${(r.rowsPerSecond / raw.rowsPerSecond).toFixed(2)}×` : '—'} | ${one && r.rows === rows ? `${(r.rowsPerSecond / one.rowsPerSecond).toFixed(2)}×` : '—'} | ${r.peakRss.map((b) => mib(b)).join(' / ')} (idle ${r.startRss.map((b) => mib(b)).join(' / ')}) | ${cpuPerRow(r.load, r.rows).toFixed(2)} |`;
    markdown = [
      '# Detection throughput benchmark — last run',
      '',
      `- Date: ${startedAt.toISOString()}`,
      `- Machine: ${os.hostname()}, ${cores} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}`,
      `- Command: \`${command}\``,
      `- Code: ${codeState()}`,
      `- Stack: ${external ? `existing stack at ${config.temporal.address} (namespace ${config.temporal.namespace})` : `private (scripts/stack-up.sh --services-only): Temporal dev server (SQLite), MinIO on one local drive, PostgreSQL ${new URL(config.databaseUrl).host}`}; worker processes \`node ${path.relative(root, builtSrc)}/workers/{control,scoring}.js\`, LOG_LEVEL=warn, ${scoringConcurrency} scoring activities at once per worker (NOMALY_SCORING_CONCURRENCY)`,
      `- Dataset: ${fmtInt(rows)} rows × ${BENCH_COLUMNS} numeric columns, CSV ${mib(csv.bytes)} MiB (seed ${seed}, ${fmtInt(injectedAnomalies(rows))} injected anomalies: every feature +6 on rows i ≡ ${ANOMALY_OFFSET} mod ${ANOMALY_EVERY}); ${dataset.id}, ${dataset.reused ? 'already registered (reused)' : `uploaded and registered through registerDataset in ${dataset.seconds.toFixed(1)} s`}${csv.generatedSeconds === null ? '; CSV from the cache' : `; CSV generated in ${csv.generatedSeconds.toFixed(0)} s`}`,
      `- Model: ${modelRef}, isolation-forest (100 trees × 256), contamination ${contamination}, threshold ${Number(model.threshold).toFixed(4)}; ${trainSeconds === null ? 'already trained (reused)' : `trained through trainModel in ${trainSeconds.toFixed(1)} s`}`,
      `- Chunk size: ${one ? chunkText(one) : chunkText(runs[0])}${chunkRowsWanted ? ' (BENCH_CHUNK_ROWS)' : ' (the default for this many rows: about 50 chunks of 50,000–200,000 rows; the memory run uses the same size)'}; ${runs[0].chunks} chunks; window (maxConcurrentChunks) ${runs.map((r) => `${r.window} with ${r.workers} worker${r.workers > 1 ? 's' : ''}`).join(', ')}`,
      '',
      '| run | seconds | rows/s | vs raw (a) | vs 1 worker | scoring worker peak RSS, MiB (VmHWM) | CPU of this benchmark\'s processes, µs per row |',
      '| --- | ---: | ---: | ---: | ---: | --- | ---: |',
      `| (a) raw pipeline: MinIO stream → parse → score → score file, one process, one thread | ${raw.seconds.toFixed(1)} | **${fmtInt(raw.rowsPerSecond)}** | 1.00× | — | — | ${cpuPerRow(raw.load, rows).toFixed(2)} (the raw process alone: ${((raw.cpuSeconds / rows) * 1e6).toFixed(2)}) |`,
      ...runs.map(detectRow),
      ...(rssRun ? [detectRow(rssRun)] : []),
      '',
      `The last column is CPU time, not wall time: on a shared machine it moves far less with other people's load than rows/s does. ` +
        `It counts every process of this benchmark (bench, workers${external ? '' : ', Temporal server, MinIO'}; not PostgreSQL). ` +
        `At that cost, ${cores} otherwise idle cores would allow at most ${fmtInt(cores / (cpuPerRow(runs[runs.length - 1].load, runs[runs.length - 1].rows) / 1e6))} rows/s for "${runs[runs.length - 1].label}" — a ceiling from CPU alone (it ignores the phases that cannot overlap), not a measurement; the goals below are judged on the measured rows/s only.`,
      '',
      '## Goals',
      '',
      '| goal | measured | verdict |',
      '| --- | --- | --- |',
      `| end to end ≥ 300,000 rows/s on this ${cores}-core machine | best ${fmtInt(best.rowsPerSecond)} rows/s (${best.label})${one && best !== one ? `; ${fmtInt(one.rowsPerSecond)} with 1 worker` : ''} | ${verdict(best.rowsPerSecond >= 300_000)} |`,
      `| one worker ≥ 50% of the raw pipeline, (b)/(a) | ${one ? `${((one.rowsPerSecond / raw.rowsPerSecond) * 100).toFixed(0)}%` : 'n/a'} | ${verdict(one ? one.rowsPerSecond >= 0.5 * raw.rowsPerSecond : undefined)} |`,
      `| two workers ≥ 1.5× one, (c)/(b) | ${one && two ? `${(two.rowsPerSecond / one.rowsPerSecond).toFixed(2)}×${one.load.oursCores > 0 ? ` (with one worker this benchmark's processes already kept ${one.load.oursCores.toFixed(2)} of the ${cores} cores busy, so ${(cores / one.load.oursCores).toFixed(2)}× is the most a second worker could add on this machine)` : ''}` : 'n/a'} | ${verdict(one && two ? two.rowsPerSecond >= 1.5 * one.rowsPerSecond : undefined)} |`,
      `| per-worker peak memory bounded by chunk size, not dataset size | ${rssGrowthNote} | ${verdict(rssBounded)} |`,
      '',
      '## Where the time goes',
      '',
      '| run | plan (chunk offsets from the row index) s | chunks scheduled → last done s | finalize (join scores, report) s | chunk mean / max s | chunk attempts / chunks |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      ...[...runs, ...(rssRun ? [rssRun] : [])].map(
        (r) => `| ${r.label} | ${r.timings.planSeconds.toFixed(1)} | ${r.timings.scoringSeconds.toFixed(1)} | ${r.timings.finalizeSeconds.toFixed(1)} | ${r.timings.chunkSecondsMean.toFixed(2)} / ${r.timings.chunkSecondsMax.toFixed(2)} | ${r.timings.chunkAttempts} / ${r.timings.chunks}${r.timings.runs > 1 ? ` (${r.timings.runs} runs fetched)` : ''} |`,
      ),
      '',
      '## Correctness',
      '',
      `- Raw pipeline: ${fmtInt(raw.anomalies)} rows over the threshold.`,
      ...runs.map(
        (r) =>
          `- ${r.label}: ${fmtInt(r.anomalies)} anomalies stored; ${r.injectedFlagged} of ${r.injected} injected anomalies among them; score file ${r.scoresMatchRaw === null ? 'not compared' : r.scoresMatchRaw ? 'byte-identical to the raw pipeline\'s' : '**differs** from the raw pipeline\'s'}.`,
      ),
      ...(rssRun ? [`- ${rssRun.label}: ${fmtInt(rssRun.anomalies)} anomalies; ${rssRun.injectedFlagged} of ${rssRun.injected} injected anomalies among them.`] : []),
      '',
      '## Machine load during each measurement',
      '',
      'From /proc/stat and every process\'s CPU time between the start and the end of each measurement. "This benchmark\'s processes" are the bench process itself, its worker processes, and (private stack) its Temporal server and MinIO; PostgreSQL is a shared server and counts under "other processes".',
      '',
      `- (a) raw: ${loadText(raw.load)}; the raw pipeline process itself used ${raw.cpuSeconds.toFixed(1)} CPU-seconds in ${raw.seconds.toFixed(1)} s.`,
      ...[...runs, ...(rssRun ? [rssRun] : [])].map((r) => `- ${r.label}: ${loadText(r.load)}`),
      '',
      '## Memory over time (largest scoring worker RSS, MiB)',
      '',
      ...[...runs, ...(rssRun ? [rssRun] : [])].map((r) => {
        const marks = [0.1, 0.25, 0.5, 0.75, 1].map((f) => r.rssTimeline[Math.min(r.rssTimeline.length - 1, Math.floor(f * (r.rssTimeline.length - 1)))]).filter(Boolean);
        return `- ${r.label}: ${marks.map((m) => `${m.t.toFixed(0)} s ${mib(m.rss)}`).join(', ')}`;
      }),
      '',
      'Notes: end to end = from `startDetection` to the workflow result, so it includes planning (chunk offsets from the dataset row index, which registration wrote; this benchmark builds it first for a dataset registered before indexes existed), every chunk (byte-range read checked against the CRC-32s of the index, parse, score, score file, anomaly upsert), and finalising (joining the chunk score files into one, the HTML report, the summary). The raw pipeline verifies no checksum and writes no anomalies to PostgreSQL. ' +
        `Every worker process is started fresh before its run, so VmHWM is that run's peak. Parameters: BENCH_ROWS, BENCH_WORKERS, BENCH_CHUNK_ROWS, BENCH_WINDOW, BENCH_RSS_ROWS, BENCH_SEED, BENCH_CONTAMINATION, BENCH_CACHE_DIR, BENCH_DATA_DIR; TEMPORAL_ADDRESS (+ DATABASE_URL, MINIO_*) to use a running stack.`,
      '',
    ].join('\n');
    console.log(markdown);
    mkdirSync(path.join(root, 'bench'), { recursive: true });
    writeFileSync(path.join(root, 'bench/detect-last-run.md'), markdown);
    log('wrote bench/detect-last-run.md');
  } finally {
    for (const step of cleanup) await step().catch((err: Error) => log(`cleanup: ${err.message}`));
    if (stack) {
      log('stopping the private stack (its data is kept for the next run)');
      stack.stop();
    }
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
