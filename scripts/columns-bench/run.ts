/**
 * What category and timestamp columns cost a detection job (issue #15): the same seeded N × 16
 * numeric rows scored end to end, once as they are and once with 4 category and 2 timestamp
 * columns appended (scripts/columns-bench/generate.ts), each by an Isolation Forest trained on the
 * first 100,000 rows of its own file. Registration infers the added columns' types; the model's
 * encoder turns them into features (one-hot, frequency, hour/day cycles). Jobs alternate
 * numeric, mixed, mixed, numeric on one private stack, so drift in the machine's load falls on
 * both alike. Goal: the mixed file's rows/s ≥ 70% of the numeric file's. Writes
 * bench/columns-last-run.md.
 *
 *   npm run bench:columns                      # 10,000,000 rows
 *   npm run bench:columns -- --rows 1000000
 */
import path from 'node:path';
import { BENCH_COLUMNS, ensureBenchCsv } from '../detect-bench/generate';
import { completedActivities, spanSeconds } from '../stack/activityTimes';
import { withBenchSession } from '../stack/benchSession';
import { benchCacheDir, commandLine, fmtInt, intOption, loadavg, machineLine, profileOption, writeBenchReport } from '../stack/benchReport';
import { codeState } from '../stack/codeState';
import { cpuSeconds } from '../stack/workerProcesses';
import { ADDED_CATEGORIES, ADDED_TIMESTAMPS, ensureMixedCsv } from './generate';


const rows = intOption('rows', 10_000_000);
const sampleRows = 100_000;
const seed = 1;
const contamination = 0.01;
const ORDER: Kind[] = ['numeric', 'mixed', 'mixed', 'numeric'];
type Kind = 'numeric' | 'mixed';
const cacheDir = benchCacheDir();
const pgServer = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/nomaly_columns_bench');

const log = (message: string) => console.error(`[columns-bench ${new Date().toISOString().slice(11, 19)}] ${message}`);

interface Run {
  kind: Kind;
  seconds: number;
  chunkSeconds: number;
  anomalies: number;
  scoringCpu: number;
  load: string;
}

async function main(): Promise<void> {
  const startedAt = new Date();
  log(`${fmtInt(rows)} rows; cache ${cacheDir}`);
  const files = {
    numeric: await ensureBenchCsv(cacheDir, rows, seed, log),
    mixed: await ensureMixedCsv(cacheDir, rows, seed, log),
  };
  const samples = {
    numeric: await ensureBenchCsv(cacheDir, sampleRows, seed, log),
    mixed: await ensureMixedCsv(cacheDir, sampleRows, seed, log),
  };
  const dataDir = path.resolve(process.env.BENCH_DATA_DIR ?? path.join(cacheDir, '..', 'columns-bench', 'stack'));
  await withBenchSession({ profileDir: profileOption(), dataDir, databaseUrl: pgServer.toString(), maxDatasetBytes: files.mixed.bytes + 1, log }, async ({ client, scoring }) => {
    const datasets = {} as Record<Kind, string>;
    const features = {} as Record<Kind, number>;
    for (const kind of ['numeric', 'mixed'] as const) {
      const sample = await client.uploadDataset(samples[kind].file, { name: `columns-sample-${kind}` });
      const model = `columns-bench-${kind}`;
      await (await client.startTraining({ datasetId: sample.id, modelName: model, algorithm: 'isolation-forest', contamination, seed })).result();
      features[kind] = sample.columnCount;
      log(`model ${model} trained on the first ${fmtInt(sampleRows)} rows (${features[kind]} columns)`);
      const t = Date.now();
      datasets[kind] = (await client.uploadDataset(files[kind].file, { name: `columns-${kind}` })).id;
      log(`${kind} CSV (${fmtInt(files[kind].bytes / 2 ** 20)} MiB) uploaded and registered in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    }
    const runs: Run[] = [];
    for (const kind of ORDER) {
      const load = loadavg();
      const cpuBefore = cpuSeconds(scoring.pid);
      const t = Date.now();
      const handle = await client.startDetection({ model: `columns-bench-${kind}`, datasetId: datasets[kind] });
      const summary = (await handle.result()) as { anomalies: number };
      const seconds = (Date.now() - t) / 1000;
      const activities = await completedActivities([handle]);
      runs.push({
        kind,
        seconds,
        chunkSeconds: spanSeconds(activities.filter((a) => a.name === 'scoreChunk')),
        anomalies: summary.anomalies,
        scoringCpu: cpuSeconds(scoring.pid) - cpuBefore,
        load,
      });
      log(`${kind}: ${seconds.toFixed(1)} s (${fmtInt(rows / seconds)} rows/s), ${fmtInt(summary.anomalies)} anomalies`);
    }
    writeReport(runs, features, files.mixed.bytes / files.numeric.bytes, startedAt);
  });
}

function writeReport(runs: Run[], features: Record<Kind, number>, sizeRatio: number, startedAt: Date): void {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const meanOf = (kind: Kind, pick: (r: Run) => number) => mean(runs.filter((r) => r.kind === kind).map(pick));
  const ratio = meanOf('numeric', (r) => r.seconds) / meanOf('mixed', (r) => r.seconds);
  const lines = [
    '# Column types benchmark (what category and timestamp columns cost a detection job) — last run',
    '',
    `- Date: ${startedAt.toISOString()}`,
    `- Machine: ${machineLine()}; shared with other work (load average at each start below)`,
    `- Command: \`${commandLine('bench:columns')}\``,
    `- Code: ${codeState()}`,
    `- Rows: ${fmtInt(rows)}; numeric: ${BENCH_COLUMNS} numeric columns (scripts/detect-bench/generate.ts); mixed: the same plus ${ADDED_CATEGORIES} category and ${ADDED_TIMESTAMPS} timestamp columns (scripts/columns-bench/generate.ts; the file is ${sizeRatio.toFixed(2)}× the numeric one's bytes). Isolation Forest, contamination ${contamination}, seed ${seed}, trained on the first ${fmtInt(sampleRows)} rows of each; dataset columns: numeric ${features.numeric}, mixed ${features.mixed}`,
    '- Stack: private (Temporal dev server, MinIO, PostgreSQL 127.0.0.1:5432), one control and one scoring worker process, default chunking; each job timed from start to result',
    '',
    '| file | seconds, end to end | rows/s | chunks scheduled → last done, s | scoring worker CPU s | anomalies | load average at start |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...runs.map((r) => `| ${r.kind} | ${r.seconds.toFixed(1)} | ${fmtInt(rows / r.seconds)} | ${r.chunkSeconds.toFixed(1)} | ${r.scoringCpu.toFixed(1)} | ${fmtInt(r.anomalies)} | ${r.load} |`),
    '',
    `Mixed rows/s ÷ numeric rows/s (means of two jobs each): **${(100 * ratio).toFixed(1)}%** (goal ≥ 70%: ${ratio >= 0.7 ? 'met' : '**not met**'}); scoring worker CPU per job: numeric ${meanOf('numeric', (r) => r.scoringCpu).toFixed(1)} s, mixed ${meanOf('mixed', (r) => r.scoringCpu).toFixed(1)} s.`,
    '',
  ];
  writeBenchReport('columns', lines.join('\n'), log);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
