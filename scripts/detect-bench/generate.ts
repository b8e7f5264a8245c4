/**
 * The detection benchmark's dataset: `rows` × 16 numeric features as CSV, seeded, with a few
 * injected anomalies. Written once into a cache folder and reused by later runs (the file name
 * carries rows, columns and seed, and a file only takes its final name once complete).
 */
import { createWriteStream, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';

export const BENCH_COLUMNS = 16;

/** Row i (0-based data row) is an injected anomaly when i % ANOMALY_EVERY === ANOMALY_OFFSET: about 1 row in 10,007. */
export const ANOMALY_EVERY = 10_007;
export const ANOMALY_OFFSET = 5_003;
/** Injected rows have every feature shifted by this many units (the normal features span about ±1.5). */
export const ANOMALY_SHIFT = 6;

export function isInjectedAnomaly(row: number): boolean {
  return row % ANOMALY_EVERY === ANOMALY_OFFSET;
}

export function injectedAnomalies(rows: number): number {
  return rows > ANOMALY_OFFSET ? Math.floor((rows - 1 - ANOMALY_OFFSET) / ANOMALY_EVERY) + 1 : 0;
}

export function benchCsvPath(cacheDir: string, rows: number, seed: number): string {
  return path.join(cacheDir, `detect-${rows}x${BENCH_COLUMNS}-seed${seed}.csv`);
}

/** mulberry32: a small, fast, seeded 32-bit generator (determinism, not statistics, is what matters here). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Row `row`'s BENCH_COLUMNS values into `out`, drawing from `rand` (rows must be drawn in order). */
export function benchRow(rand: () => number, row: number, out: Float64Array): void {
  const shift = isInjectedAnomaly(row) ? ANOMALY_SHIFT : 0;
  let first = 0;
  for (let j = 0; j < BENCH_COLUMNS; j++) {
    // A bell shape from three uniforms; a few columns correlate with the first so the data has some structure.
    const base = rand() + rand() + rand() - 1.5;
    const value = j % 4 === 1 ? 0.5 * base + 0.5 * first : base;
    if (j === 0) first = value;
    out[j] = shift + value;
  }
}

/** Writes the CSV unless the cache already has it; returns its path, size and whether it was generated now. */
export async function ensureBenchCsv(
  cacheDir: string,
  rows: number,
  seed: number,
  log: (message: string) => void,
): Promise<{ file: string; bytes: number; generatedSeconds: number | null }> {
  const file = benchCsvPath(cacheDir, rows, seed);
  if (existsSync(file)) return { file, bytes: statSync(file).size, generatedSeconds: null };
  mkdirSync(cacheDir, { recursive: true });
  const partial = `${file}.partial-${process.pid}`;
  const started = Date.now();
  log(`generating ${rows.toLocaleString('en-US')} × ${BENCH_COLUMNS} CSV → ${file}`);
  const out = createWriteStream(partial, { highWaterMark: 4 << 20 });
  const write = (text: string) => (out.write(text) ? Promise.resolve() : new Promise<void>((resolve) => out.once('drain', () => resolve())));
  await write(`${Array.from({ length: BENCH_COLUMNS }, (_, j) => `f${j}`).join(',')}\n`);
  const rand = mulberry32(seed);
  const values = new Float64Array(BENCH_COLUMNS);
  const cells = new Array<string>(BENCH_COLUMNS);
  let lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    benchRow(rand, i, values);
    for (let j = 0; j < BENCH_COLUMNS; j++) cells[j] = values[j].toFixed(5);
    lines.push(cells.join(','));
    if (lines.length === 20_000) {
      await write(`${lines.join('\n')}\n`);
      lines = [];
      if (i % 1_000_000 === 999_999) log(`  ${(i + 1).toLocaleString('en-US')} rows`);
    }
  }
  if (lines.length > 0) await write(`${lines.join('\n')}\n`);
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  renameSync(partial, file);
  return { file, bytes: statSync(file).size, generatedSeconds: (Date.now() - started) / 1000 };
}
