/**
 * The column-types benchmark's dataset: the detection benchmark's seeded N × 16 numeric rows
 * (scripts/detect-bench/generate.ts) with 4 category and 2 timestamp columns appended to each
 * line, so the numeric part is the same bytes in both files and only the added columns differ.
 *
 *   country   30 levels, skewed (one-hot in the model)
 *   channel   4 levels
 *   device    12 levels
 *   store     2,000 levels (beyond the one-hot limit: frequency-encoded)
 *   created_at, shipped_at   ISO 8601 instants over 30 days, shipped 1–72 hours after created
 *
 * Written once into the cache folder next to the numeric file and reused.
 */
import { createReadStream, createWriteStream, existsSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ensureBenchCsv } from '../detect-bench/generate';

export const ADDED_COLUMNS = ['country', 'channel', 'device', 'store', 'created_at', 'shipped_at'];
export const ADDED_CATEGORIES = 4;
export const ADDED_TIMESTAMPS = 2;

const COUNTRIES = ['US', 'DE', 'FR', 'GB', 'JP', 'BR', 'IN', 'CA', 'ES', 'IT', 'NL', 'SE', 'PL', 'MX', 'AU', 'KR', 'CH', 'BE', 'AT', 'NO', 'DK', 'FI', 'IE', 'PT', 'CZ', 'NZ', 'SG', 'ZA', 'AR', 'CL'];
const CHANNELS = ['web', 'app', 'store', 'phone'];
const DEVICES = Array.from({ length: 12 }, (_, i) => `device-${i}`);
const START = Date.UTC(2026, 10, 1);
const DAY = 86_400_000;

/** A cheap seeded hash of the row number (the added columns need determinism, not statistics). */
function mix(i: number, salt: number): number {
  let x = Math.imul(i ^ salt, 0x9e3779b1) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return ((x ^ (x >>> 16)) >>> 0) / 4294967296;
}

function addedCells(i: number): string {
  const country = COUNTRIES[Math.floor(COUNTRIES.length * mix(i, 1) ** 2)];
  const channel = CHANNELS[Math.floor(CHANNELS.length * mix(i, 2))];
  const device = DEVICES[Math.floor(DEVICES.length * mix(i, 3))];
  const store = `store-${Math.floor(2000 * mix(i, 4))}`;
  const created = START + Math.floor(30 * DAY * mix(i, 5));
  const shipped = created + Math.floor((1 + 71 * mix(i, 6)) * 3_600_000);
  return `${country},${channel},${device},${store},${new Date(created).toISOString()},${new Date(shipped).toISOString()}`;
}

export async function ensureMixedCsv(
  cacheDir: string,
  rows: number,
  seed: number,
  log: (message: string) => void,
): Promise<{ file: string; bytes: number }> {
  const numeric = await ensureBenchCsv(cacheDir, rows, seed, log);
  const file = path.join(cacheDir, `${path.basename(numeric.file, '.csv')}-mixed6.csv`);
  if (existsSync(file)) return { file, bytes: statSync(file).size };
  log(`appending ${ADDED_COLUMNS.length} columns → ${file}`);
  const partial = `${file}.partial-${process.pid}`;
  const out = createWriteStream(partial, { highWaterMark: 4 << 20 });
  const write = (text: string) => (out.write(text) ? Promise.resolve() : new Promise<void>((resolve) => out.once('drain', () => resolve())));
  let row = -1; // the header is line 0
  let lines: string[] = [];
  for await (const line of createInterface({ input: createReadStream(numeric.file, { highWaterMark: 4 << 20 }), crlfDelay: Infinity })) {
    if (line === '') continue;
    lines.push(row < 0 ? `${line},${ADDED_COLUMNS.join(',')}` : `${line},${addedCells(row)}`);
    row++;
    if (lines.length === 20_000) {
      await write(`${lines.join('\n')}\n`);
      lines = [];
    }
  }
  if (lines.length > 0) await write(`${lines.join('\n')}\n`);
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  renameSync(partial, file);
  return { file, bytes: statSync(file).size };
}
