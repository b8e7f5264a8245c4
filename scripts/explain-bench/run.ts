/**
 * What explanations cost a detection job (issue #16): the same seeded N × 16 rows
 * (scripts/detect-bench/generate.ts) scored end to end by detectBatch with each model twice with
 * explanations off (`explain: 0`) and twice on (the default, 5 top features per anomaly), in
 * alternating order, on one private stack with one control and one scoring worker process.
 * Models: Isolation Forest and ECOD trained on the first rows with contamination 0.01, so about
 * 1% of the rows are flagged, each explained (and stored with its p-value) when explanations are on.
 * Goal: explanations add at most 20% to the job's time. Writes bench/explain-last-run.md.
 *
 *   npm run bench:explain                      # 10,000,000 rows
 *   npm run bench:explain -- --rows 1000000
 *
 * The private stack and its database (nomaly_explain_bench) are purged at the end; the CSV stays
 * cached (BENCH_CACHE_DIR, shared with bench:detect and bench:sources).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { BENCH_COLUMNS, ensureBenchCsv } from '../detect-bench/generate';
import { repoRoot } from '../repoRoot';
import { completedActivities, spanSeconds } from '../stack/activityTimes';
import { codeState } from '../stack/codeState';
import { startPrivateStack } from '../stack/privateStack';
import { cpuSeconds, startWorker, stopWorker, type WorkerProcess } from '../stack/workerProcesses';
import { intOption } from '../stack/benchReport';


const rows = intOption('rows', 10_000_000);
const sampleRows = 100_000;
const seed = 1;
const contamination = 0.01;
const models = [
  { name: 'explain-bench-if', algorithm: 'isolation-forest' },
  { name: 'explain-bench-ecod', algorithm: 'ecod' },
];
/** Alternating order, so drift in the machine's load falls on both settings alike. */
const ORDER = [0, 5, 5, 0];
const cacheDir = path.resolve(process.env.BENCH_CACHE_DIR ?? path.join(process.env.NOMALY_CACHE_DIR ?? path.join(os.homedir(), '.cache/nomaly'), 'detect-bench'));
const pgServer = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/nomaly_explain_bench');

const log = (message: string) => console.error(`[explain-bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

interface Run {
  model: string;
  explain: number;
  seconds: number;
  chunkSeconds: number;
  finalizeSeconds: number;
  anomalies: number;
  /** CPU seconds the scoring worker and the control worker used in the run: less sensitive to other work on the machine than wall time. */
  scoringCpu: number;
  controlCpu: number;
  load: string;
}

async function main(): Promise<void> {
  const startedAt = new Date();
  log(`${fmtInt(rows)} × ${BENCH_COLUMNS} rows; cache ${cacheDir}`);
  const csv = await ensureBenchCsv(cacheDir, rows, seed, log);
  const sampleCsv = await ensureBenchCsv(cacheDir, sampleRows, seed, log);
  const dataDir = path.resolve(process.env.BENCH_DATA_DIR ?? path.join(cacheDir, '..', 'explain-bench', 'stack'));
  mkdirSync(dataDir, { recursive: true });
  const stack = await startPrivateStack({
    dataDir,
    databaseUrl: pgServer.toString(),
    minioUser: 'nomaly-bench',
    minioPassword: 'nomaly-bench-secret',
    settings: { LOG_LEVEL: 'warn', NOMALY_MAX_DATASET_BYTES: String(Math.max(csv.bytes + 1, 100 * 2 ** 20)) },
    stopLeftovers: true,
  });
  Object.assign(process.env, stack.env);
  // Imported after the environment is set: the config is read from it.
  const { loadConfig } = await import('../../src/config');
  const { NomalyClient } = await import('../../src/client/nomalyClient');
  const client = await NomalyClient.connect(loadConfig());
  const logDir = path.join(dataDir, 'logs', `bench-${startedAt.toISOString().replace(/[:.]/g, '-')}`);
  const workers: WorkerProcess[] = [];
  try {
    const workerEnv = { ...stack.processEnv, LOG_LEVEL: 'warn' };
    workers.push(await startWorker('control', 'control', workerEnv, logDir), await startWorker('scoring', 'scoring', workerEnv, logDir));
    const sample = await client.uploadDataset(sampleCsv.file, { name: `sample-${sampleRows}` });
    for (const m of models) {
      await (await client.startTraining({ datasetId: sample.id, modelName: m.name, algorithm: m.algorithm, contamination, seed })).result();
      log(`model ${m.name} (${m.algorithm}, contamination ${contamination}) trained on the first ${fmtInt(sampleRows)} rows`);
    }
    let t = Date.now();
    const dataset = await client.uploadDataset(csv.file);
    log(`CSV uploaded and registered as ${dataset.id} in ${((Date.now() - t) / 1000).toFixed(1)} s`);

    const runs: Run[] = [];
    for (const m of models) {
      for (const explain of ORDER) {
        const load = loadavg();
        const [control, scoring] = workers;
        const cpuBefore = [cpuSeconds(scoring.pid), cpuSeconds(control.pid)];
        t = Date.now();
        const handle: WorkflowHandle = await client.startDetection({ model: m.name, datasetId: dataset.id, explain });
        const summary = (await handle.result()) as { anomalies: number; rows: number };
        const seconds = (Date.now() - t) / 1000;
        const activities = await completedActivities([handle]);
        const run: Run = {
          model: m.algorithm,
          explain,
          seconds,
          chunkSeconds: spanSeconds(activities.filter((a) => a.name === 'scoreChunk')),
          finalizeSeconds: spanSeconds(activities.filter((a) => a.name === 'finalizeDetection')),
          anomalies: summary.anomalies,
          scoringCpu: cpuSeconds(scoring.pid) - cpuBefore[0],
          controlCpu: cpuSeconds(control.pid) - cpuBefore[1],
          load,
        };
        runs.push(run);
        log(`${m.algorithm}, explain ${explain}: ${seconds.toFixed(1)} s (${fmtInt(rows / seconds)} rows/s), ${fmtInt(summary.anomalies)} anomalies`);
      }
    }
    writeReport(runs, startedAt);
  } finally {
    for (const w of workers.splice(0)) await stopWorker(w).catch(() => undefined);
    await client.close().catch(() => undefined);
    log('stopping and purging the private stack');
    stack.stop({ purge: true });
  }
}

function writeReport(runs: Run[], startedAt: Date): void {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const lines = [
    '# Explanations benchmark (what top features per anomaly cost a job) — last run',
    '',
    `- Date: ${startedAt.toISOString()}`,
    `- Machine: ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}; shared with other work (load average at each start below)`,
    `- Command: \`npm run bench:explain${rows === 10_000_000 ? '' : ` -- --rows ${rows}`}\``,
    `- Code: ${codeState()}`,
    `- Rows: ${fmtInt(rows)} × ${BENCH_COLUMNS} (seeded, scripts/detect-bench/generate.ts), one uploaded CSV; models trained on its first ${fmtInt(sampleRows)} rows with contamination ${contamination}, seed ${seed}`,
    '- Stack: private (Temporal dev server, MinIO, PostgreSQL 127.0.0.1:5432), one control and one scoring worker process, default chunking; each job started by the client, timed from start to result',
    '',
    '| model | explain (top features) | seconds, end to end | rows/s | chunks scheduled → last done, s | finalize, s | scoring worker CPU s | control worker CPU s | anomalies stored | load average at start |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...runs.map((r) => `| ${r.model} | ${r.explain} | ${r.seconds.toFixed(1)} | ${fmtInt(rows / r.seconds)} | ${r.chunkSeconds.toFixed(1)} | ${r.finalizeSeconds.toFixed(1)} | ${r.scoringCpu.toFixed(1)} | ${r.controlCpu.toFixed(1)} | ${fmtInt(r.anomalies)} | ${r.load} |`),
    '',
    '| model | mean seconds, explain 0 | mean seconds, explain 5 | anomaly rate | explanations add (wall) | scoring worker CPU added | goal ≤ 20% (wall) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const algorithm of [...new Set(runs.map((r) => r.model))]) {
    const off = mean(runs.filter((r) => r.model === algorithm && r.explain === 0).map((r) => r.seconds));
    const on = mean(runs.filter((r) => r.model === algorithm && r.explain > 0).map((r) => r.seconds));
    const anomalies = runs.find((r) => r.model === algorithm)!.anomalies;
    const added = on / off - 1;
    const cpuOff = mean(runs.filter((r) => r.model === algorithm && r.explain === 0).map((r) => r.scoringCpu));
    const cpuOn = mean(runs.filter((r) => r.model === algorithm && r.explain > 0).map((r) => r.scoringCpu));
    lines.push(`| ${algorithm} | ${off.toFixed(1)} | ${on.toFixed(1)} | ${((100 * anomalies) / rows).toFixed(2)}% | ${(100 * added).toFixed(1)}% | ${(100 * (cpuOn / cpuOff - 1)).toFixed(1)}% | ${added <= 0.2 ? 'met' : '**not met**'} |`);
  }
  lines.push('', 'Each job stores the same anomalies either way (p-values included); with explanations on, each anomaly also gets its top 5 features (name, value, contribution, training percentile), computed by the chunk that found it. CPU seconds are the worker processes\' own (/proc/PID/stat); PostgreSQL\'s work storing the rows is in the wall time only.', '');
  const markdown = lines.join('\n');
  console.log(markdown);
  mkdirSync(path.join(repoRoot, 'bench'), { recursive: true });
  writeFileSync(path.join(repoRoot, 'bench/explain-last-run.md'), markdown);
  log('wrote bench/explain-last-run.md');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
