/**
 * Backfill benchmark (issue #14): do two scoring workers stay busy through a backfill of many
 * windows? A "lake" bucket on a private stack gets one Parquet object a day (seeded N × 16 rows,
 * scripts/detect-bench/generate.ts, 128k-row groups) under `events/dt=YYYY-MM-DD/`; one
 * detectBackfill over the days then scores each day's window as one detectBatch job, with the
 * platform's default window concurrency unless --windows says otherwise. Measured: wall time,
 * rows/s, and each scoring worker's CPU seconds over the backfill's wall time (its busy share).
 * Goal: both scoring workers ≥ 80% busy. Writes bench/backfill-last-run.md.
 *
 *   npm run bench:backfill                                   # 30 days of 1,000,000 rows
 *   npm run bench:backfill -- --days 6 --rows-per-day 200000 --windows 3
 */
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ParquetWriter, schemaFromColumnData } from 'hyparquet-writer';
import { BENCH_COLUMNS, benchRow, ensureBenchCsv, mulberry32 } from '../detect-bench/generate';
import type { BackfillReport } from '../../src/client/nomalyClient';
import { withBenchSession } from '../stack/benchSession';
import { benchCacheDir, commandLine, coresBusy, cpuTicks, fmtInt, intOption, loadavg, machineLine, profileOption, writeBenchReport } from '../stack/benchReport';
import { codeState } from '../stack/codeState';
import { FileByteWriter } from '../stack/parquetFile';
import { cpuSeconds, cpuSecondsByProgram } from '../stack/workerProcesses';


const days = intOption('days', 30);
const rowsPerDay = intOption('rows-per-day', 1_000_000);
const windowsAtOnce = process.argv.includes('--windows') ? intOption('windows', 2) : undefined;
const sampleRows = 100_000;
const ROW_GROUP_ROWS = 128 * 1024;
const FIRST_DAY = Date.UTC(2026, 9, 1);
const LAKE_BUCKET = 'backfill-bench-lake';
const contamination = 0.001;
const cacheDir = benchCacheDir();
const pgServer = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/nomaly_backfill_bench');
const features = Array.from({ length: BENCH_COLUMNS }, (_, j) => `f${j}`);

const log = (message: string) => console.error(`[backfill-bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
const dayText = (d: number) => new Date(FIRST_DAY + d * 86_400_000).toISOString().slice(0, 10);

/** Day d's rows as one Parquet file of ROW_GROUP_ROWS-row groups, seeded by the day. */
function writeDay(d: number, file: string): void {
  const schema = schemaFromColumnData({ columnData: features.map((name) => ({ name, data: [], type: 'DOUBLE' as const, nullable: false })) });
  const writer = new ParquetWriter({ writer: new FileByteWriter(file), schema });
  const rand = mulberry32(1000 + d);
  const row = new Float64Array(BENCH_COLUMNS);
  for (let start = 0; start < rowsPerDay; start += ROW_GROUP_ROWS) {
    const n = Math.min(ROW_GROUP_ROWS, rowsPerDay - start);
    const columns = features.map(() => new Float64Array(n));
    for (let r = 0; r < n; r++) {
      benchRow(rand, start + r, row);
      for (let c = 0; c < BENCH_COLUMNS; c++) columns[c][r] = row[c];
    }
    void writer.write({ columnData: features.map((name, c) => ({ name, data: columns[c], type: 'DOUBLE' as const })), rowGroupSize: n });
  }
  writer.finish();
}

type WindowRow = BackfillReport['windows'][number];

/** The stack's programs whose CPU the report shows beside the workers' (process name prefixes). */
const STACK_PROGRAMS = ['temporal', 'minio', 'postgres'];

async function main(): Promise<void> {
  const startedAt = new Date();
  log(`${days} days × ${fmtInt(rowsPerDay)} rows × ${BENCH_COLUMNS}; cache ${cacheDir}`);
  const sampleCsv = await ensureBenchCsv(cacheDir, sampleRows, 1, log);
  const dataDir = path.resolve(process.env.BENCH_DATA_DIR ?? path.join(cacheDir, '..', 'backfill-bench', 'stack'));
  await withBenchSession({ profileDir: profileOption(), dataDir, databaseUrl: pgServer.toString(), maxDatasetBytes: 0, log, scoringWorkers: 2, lake: true }, async ({ client, config, control, scoringWorkers }) => {
    const { ObjectStore } = await import('../../src/storage/objectStore');
    const store = ObjectStore.connect(config.minio);
    await store.ensureBuckets([LAKE_BUCKET]);
    const scratch = path.join(dataDir, 'day.parquet');
    let t = Date.now();
    for (let d = 0; d < days; d++) {
      writeDay(d, scratch);
      await store.putFile(LAKE_BUCKET, `events/dt=${dayText(d)}/part-00000.parquet`, scratch);
    }
    rmSync(scratch, { force: true });
    const setupSeconds = (Date.now() - t) / 1000;
    log(`${days} day objects written and put in ${setupSeconds.toFixed(1)} s`);
    const sample = await client.uploadDataset(sampleCsv.file, { name: 'backfill-sample' });
    await (await client.startTraining({ datasetId: sample.id, modelName: 'backfill-bench', algorithm: 'isolation-forest', contamination, seed: 1 })).result();

    const load = loadavg();
    const before = scoringWorkers.map((w) => cpuSeconds(w.pid));
    const controlBefore = cpuSeconds(control.pid);
    const stackBefore = cpuSecondsByProgram(STACK_PROGRAMS);
    const ticks = cpuTicks();
    t = Date.now();
    const handle = await client.startBackfill({
      model: 'backfill-bench',
      source: { kind: 'objects', connection: 'lake', bucket: LAKE_BUCKET, prefix: 'events/dt={date}/', format: 'parquet' },
      from: dayText(0),
      to: dayText(days),
      ...(windowsAtOnce ? { maxConcurrentWindows: windowsAtOnce } : {}),
    });
    const report = (await handle.result()) as BackfillReport;
    const wall = (Date.now() - t) / 1000;
    const busy = scoringWorkers.map((w, i) => (cpuSeconds(w.pid) - before[i]) / wall);
    const controlCpu = cpuSeconds(control.pid) - controlBefore;
    const machineBusy = coresBusy(ticks, cpuTicks());
    const stackAfter = cpuSecondsByProgram(STACK_PROGRAMS);
    const stackCpu = Object.fromEntries(STACK_PROGRAMS.map((name) => [name, stackAfter[name] - stackBefore[name]]));
    const scored = report.windows.filter((w) => w.status === 'scored');
    const rowsScored = scored.reduce((a, w) => a + w.rows, 0);
    log(`backfill: ${wall.toFixed(1)} s, ${scored.length}/${days} windows scored, ${fmtInt(rowsScored / wall)} rows/s, scoring workers busy ${busy.map((b) => `${(100 * b).toFixed(0)}%`).join(', ')}`);
    writeReport({ startedAt, wall, busy, controlCpu, stackCpu, machineBusy, rowsScored, load, endLoad: loadavg(), windows: report.windows, setupSeconds });
  });
}

function writeReport(r: { startedAt: Date; wall: number; busy: number[]; controlCpu: number; stackCpu: Record<string, number>; machineBusy: number; rowsScored: number; load: string; endLoad: string; windows: WindowRow[]; setupSeconds: number }): void {
  const met = r.busy.every((b) => b >= 0.8);
  const statuses = new Map<string, number>();
  for (const w of r.windows) statuses.set(w.status, (statuses.get(w.status) ?? 0) + 1);
  const lines = [
    '# Backfill benchmark (are two scoring workers kept busy through many windows?) — last run',
    '',
    `- Date: ${r.startedAt.toISOString()}`,
    `- Machine: ${machineLine()}; shared with other work (load average ${r.load} at the start, ${r.endLoad} at the end)`,
    `- Command: \`${commandLine('bench:backfill')}\``,
    `- Code: ${codeState()}`,
    `- Data: ${days} days × ${fmtInt(rowsPerDay)} rows × ${BENCH_COLUMNS} (seeded per day), one Parquet object a day (${fmtInt(ROW_GROUP_ROWS)}-row groups) under \`events/dt=YYYY-MM-DD/\` of a lake bucket on the stack's MinIO (written and put in ${r.setupSeconds.toFixed(0)} s, not timed below); Isolation Forest trained on ${fmtInt(sampleRows)} rows, contamination ${contamination}`,
    `- Stack: private (Temporal dev server, MinIO, PostgreSQL 127.0.0.1:5432), one control and two scoring worker processes; detectBackfill with ${windowsAtOnce ?? 'the default number of'} windows at once, default chunking`,
    '',
    '| windows | statuses | wall, s | rows scored | rows/s | scoring worker 1 busy | scoring worker 2 busy | control worker CPU s | machine cores busy | goal: both ≥ 80% |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    `| ${r.windows.length} | ${[...statuses].map(([s, n]) => `${s} ${n}`).join(', ')} | ${r.wall.toFixed(1)} | ${fmtInt(r.rowsScored)} | ${fmtInt(r.rowsScored / r.wall)} | ${(100 * r.busy[0]).toFixed(0)}% | ${(100 * r.busy[1]).toFixed(0)}% | ${r.controlCpu.toFixed(1)} | ${r.machineBusy.toFixed(2)} of ${os.cpus().length} | ${met ? 'met' : '**not met**'} |`,
    '',
    'Busy = the worker process\'s own CPU seconds (/proc/PID/stat) over the backfill\'s wall time, from its start by the client to its result.',
    `Where the rest of the machine went over the same wall time, CPU seconds: ${STACK_PROGRAMS.map((name) => `${name} ${r.stackCpu[name].toFixed(1)} (${((100 * r.stackCpu[name]) / r.wall).toFixed(0)}% of a core)`).join(', ')}; control worker ${r.controlCpu.toFixed(1)} (${((100 * r.controlCpu) / r.wall).toFixed(0)}%). PostgreSQL is the machine's shared server (every backend counted).`,
    ...r.windows.filter((w) => w.status !== 'scored').map((w) => `- ${w.window.start}: ${w.status}${w.error ? ` (${w.error})` : ''}`),
    '',
  ];
  writeBenchReport('backfill', lines.join('\n'), log);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
