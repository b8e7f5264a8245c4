/**
 * Test fixtures for the "lake" source: deterministic daily order events (dayRows), written as
 * Parquet, CSV or JSON lines, seeded into a MinIO bucket as Hive-style daily partitions
 * (events/dt=YYYY-MM-DD/part-NNNNN.<ext>), and the connections file that names that MinIO.
 *
 * Every value is rounded to a few decimals, so its shortest text form is a plain decimal that
 * every reader parses back to exactly the same double: tests may compare features with toEqual.
 */
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { SourceSpec } from '../../src/api/sourceInput';
import type { JobWindow } from '../../src/api/window';
import type { NomalyConfig } from '../../src/config';
import type { ChunkRead } from '../../src/data/formats';
import type { ObjectStore } from '../../src/storage/objectStore';
import { SeededRandom } from '../../src/scoring/random';
import { decodeModel } from '../../src/scoring/codec';
import type { Detector } from '../../src/scoring/detector';
import { Matrix } from '../../src/scoring/matrix';
import type { TestPlatform } from './testPlatform';

export const LAKE_COLUMNS = ['amount', 'n_items', 'latency_ms', 'discount'] as const;
export type LakeFormat = 'parquet' | 'csv' | 'jsonl';

export interface DayRows {
  day: string;
  ids: string[];
  /** Row-major, rows × 4, in LAKE_COLUMNS order. */
  features: Float64Array;
  columns: ['amount', 'n_items', 'latency_ms', 'discount'];
  /** The injected far-out rows, in row order. */
  anomalyIds: string[];
  /** ISO timestamps spread evenly inside the day (UTC), increasing with the row. */
  createdAt: string[];
}

const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;
const WIDTH = LAKE_COLUMNS.length;

/** Milliseconds at 00:00 UTC of a YYYY-MM-DD day; a RangeError names a malformed or impossible day. */
export function dayStartMs(day: string): number {
  const ms = Date.parse(`${day}T00:00:00Z`);
  if (!DAY_PATTERN.test(day) || !Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== day) {
    throw new RangeError(`day must be a date like 2026-12-01, got "${day}"`);
  }
  return ms;
}

/** The timestamp of row `row` of `rows` in a day: evenly spread, never on the next day. */
export function rowTime(day: string, row: number, rows: number): Date {
  return new Date(dayStartMs(day) + Math.floor(((row + 0.5) * DAY_MS) / rows));
}

/** FNV-1a of the day mixed with the seed: each (day, seed) pair gets its own stream. */
function daySeed(day: string, seed: number): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < day.length; i++) h = Math.imul(h ^ day.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function gaussian(random: SeededRandom): number {
  // Box-Muller; 1 - next() keeps the logarithm's argument in (0, 1].
  return Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
}

function rounded(value: number, decimals: number): number {
  const scale = 10 ** decimals;
  return Math.round(value * scale) / scale;
}

/**
 * One day of order events: inliers roughly Gaussian around everyday values, plus `anomalies`
 * rows (default one per 1,000 rows, at least one) pushed far out on every feature, e.g. an
 * amount 20 times the usual. The same day, row count and options always give the same rows.
 */
export function dayRows(day: string, rows: number, options: { anomalies?: number; seed?: number } = {}): DayRows {
  dayStartMs(day);
  if (!Number.isInteger(rows) || rows < 0 || rows > 999_999) throw new RangeError(`rows must be an integer from 0 to 999999, got ${rows}`);
  const anomalies = options.anomalies ?? (rows === 0 ? 0 : Math.max(1, Math.round(rows / 1000)));
  if (!Number.isInteger(anomalies) || anomalies < 0 || anomalies > rows) throw new RangeError(`anomalies must be an integer from 0 to rows (${rows}), got ${anomalies}`);
  const random = new SeededRandom(daySeed(day, options.seed ?? 0));

  // Which rows are anomalous: the first `anomalies` entries of a partial Fisher-Yates shuffle.
  const order = Array.from({ length: rows }, (_, i) => i);
  for (let i = 0; i < anomalies; i++) {
    const j = i + random.nextInt(rows - i);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const anomalous = new Set(order.slice(0, anomalies));

  const ids: string[] = new Array(rows);
  const createdAt: string[] = new Array(rows);
  const features = new Float64Array(rows * WIDTH);
  const anomalyIds: string[] = [];
  for (let row = 0; row < rows; row++) {
    const id = `${day}-${String(row).padStart(6, '0')}`;
    ids[row] = id;
    createdAt[row] = rowTime(day, row, rows).toISOString();
    let amount = Math.max(1, 80 + 25 * gaussian(random));
    let items = Math.max(1, Math.round(3 + 1.2 * gaussian(random)));
    let latency = Math.max(5, 120 + 30 * gaussian(random));
    let discount = Math.min(0.5, Math.max(0, 0.1 + 0.05 * gaussian(random)));
    if (anomalous.has(row)) {
      anomalyIds.push(id);
      // From at least the mean, so even an anomaly drawn from a low inlier lands far out.
      amount = Math.max(amount, 80) * 20;
      items += 40;
      latency = Math.max(latency, 120) * 15;
      discount = 0.9;
    }
    const at = row * WIDTH;
    features[at] = rounded(amount, 2);
    features[at + 1] = items;
    features[at + 2] = rounded(latency, 1);
    features[at + 3] = rounded(discount, 3);
  }
  return { day, ids, features, columns: [...LAKE_COLUMNS], anomalyIds, createdAt };
}

/** Rows [start, end) of a day, as their own DayRows (for splitting a day into parts). */
export function sliceDayRows(rows: DayRows, start: number, end: number): DayRows {
  const kept = new Set(rows.ids.slice(start, end));
  return {
    day: rows.day,
    ids: rows.ids.slice(start, end),
    features: rows.features.slice(start * WIDTH, end * WIDTH),
    columns: rows.columns,
    anomalyIds: rows.anomalyIds.filter((id) => kept.has(id)),
    createdAt: rows.createdAt.slice(start, end),
  };
}

function column(rows: DayRows, c: number): Float64Array {
  const out = new Float64Array(rows.ids.length);
  for (let r = 0; r < out.length; r++) out[r] = rows.features[r * WIDTH + c];
  return out;
}

/** Snappy Parquet: id and created_at STRING, the four features DOUBLE, `rowGroupRows` rows per row group. */
export function writeDayParquet(rows: DayRows, { rowGroupRows }: { rowGroupRows: number }): Buffer {
  if (!Number.isInteger(rowGroupRows) || rowGroupRows < 1) throw new RangeError(`rowGroupRows must be a positive integer, got ${rowGroupRows}`);
  const columnData: Parameters<typeof parquetWriteBuffer>[0]['columnData'] = [{ name: 'id', data: rows.ids, type: 'STRING', nullable: false }];
  LAKE_COLUMNS.forEach((name, c) => columnData.push({ name, data: column(rows, c), type: 'DOUBLE', nullable: false }));
  columnData.push({ name: 'created_at', data: rows.createdAt, type: 'STRING', nullable: false });
  return Buffer.from(parquetWriteBuffer({ columnData, rowGroupSize: rowGroupRows }));
}

/** The columns of every format, in file order. */
export const LAKE_HEADER = ['id', ...LAKE_COLUMNS, 'created_at'];

/** CSV with a header line; numbers in their shortest exact form, no quoting needed. */
export function writeDayCsv(rows: DayRows): Buffer {
  const lines = [LAKE_HEADER.join(',')];
  for (let r = 0; r < rows.ids.length; r++) {
    const at = r * WIDTH;
    lines.push([rows.ids[r], ...rows.features.subarray(at, at + WIDTH), rows.createdAt[r]].join(','));
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

/** One JSON object per line, keys in LAKE_HEADER order, features as JSON numbers. */
export function writeDayJsonLines(rows: DayRows): Buffer {
  const lines: string[] = [];
  for (let r = 0; r < rows.ids.length; r++) {
    const at = r * WIDTH;
    const object: Record<string, string | number> = { id: rows.ids[r] };
    LAKE_COLUMNS.forEach((name, c) => (object[name] = rows.features[at + c]));
    object.created_at = rows.createdAt[r];
    lines.push(JSON.stringify(object));
  }
  return Buffer.from(lines.length ? `${lines.join('\n')}\n` : '');
}

const EXTENSIONS: Record<LakeFormat, { ext: string; contentType: string }> = {
  parquet: { ext: 'parquet', contentType: 'application/vnd.apache.parquet' },
  csv: { ext: 'csv', contentType: 'text/csv' },
  jsonl: { ext: 'jsonl', contentType: 'application/x-ndjson' },
};

/** The key prefix of one day's partition. */
export function dayPrefix(day: string): string {
  return `events/dt=${day}/`;
}

export interface SeededDay {
  keys: string[];
  rows: number;
  anomalyIds: string[];
}

/**
 * Writes each day's dayRows(day, rowsPerDay, { seed }) under events/dt=DAY/ in `partsPerDay`
 * objects (default 1; rows split in order, as evenly as they go), creating the bucket if it is
 * missing. Days in `skipDays` get no objects at all (the "no data that day" case).
 */
export async function seedLake(
  store: ObjectStore,
  bucket: string,
  days: string[],
  options: { rowsPerDay: number; format: LakeFormat; rowGroupRows?: number; partsPerDay?: number; skipDays?: string[]; seed?: number },
): Promise<Record<string, SeededDay>> {
  const parts = options.partsPerDay ?? 1;
  if (!Number.isInteger(parts) || parts < 1 || parts > options.rowsPerDay) {
    throw new RangeError(`partsPerDay must be an integer from 1 to rowsPerDay (${options.rowsPerDay}), got ${parts}`);
  }
  const { ext, contentType } = EXTENSIONS[options.format];
  const skip = new Set(options.skipDays ?? []);
  await store.ensureBuckets([bucket]);
  const seeded: Record<string, SeededDay> = {};
  for (const day of days) {
    if (skip.has(day)) {
      seeded[day] = { keys: [], rows: 0, anomalyIds: [] };
      continue;
    }
    const all = dayRows(day, options.rowsPerDay, { seed: options.seed });
    const keys: string[] = [];
    for (let p = 0; p < parts; p++) {
      const part = sliceDayRows(all, Math.floor((p * all.ids.length) / parts), Math.floor(((p + 1) * all.ids.length) / parts));
      const bytes =
        options.format === 'parquet'
          ? writeDayParquet(part, { rowGroupRows: options.rowGroupRows ?? 10_000 })
          : options.format === 'csv'
            ? writeDayCsv(part)
            : writeDayJsonLines(part);
      const key = `${dayPrefix(day)}part-${String(p).padStart(5, '0')}.${ext}`;
      await store.putBytes(bucket, key, bytes, contentType);
      keys.push(key);
    }
    seeded[day] = { keys, rows: all.ids.length, anomalyIds: all.anomalyIds };
  }
  return seeded;
}

/** Removes every object in the bucket, then the bucket: what a test calls when it is done with its lake. */
export async function dropLake(store: ObjectStore, bucket: string): Promise<void> {
  if (!(await store.client.bucketExists(bucket))) return;
  await store.removeMany(bucket, await store.listKeys(bucket, ''));
  await store.client.removeBucket(bucket);
}

/**
 * Writes connections.json for NOMALY_CONNECTIONS_FILE into `dir`: a "lake" entry for the
 * platform's own MinIO (its endpoint and credentials from `config`), with the keys in their own
 * files beside it (mode 0600, as a real secret file would be), plus any `extras` entries (e.g.
 * the warehouse's). Returns the JSON file's path.
 */
export function lakeConnectionFile(dir: string, config: Pick<NomalyConfig, 'minio'>, extras: Record<string, object> = {}): string {
  mkdirSync(dir, { recursive: true });
  const secretFile = (name: string, value: string): string => {
    const file = path.join(dir, name);
    writeFileSync(file, value, { mode: 0o600 });
    chmodSync(file, 0o600); // mode applies only when the file is created
    return file;
  };
  const { endPoint, port, useSSL, accessKey, secretKey } = config.minio;
  const lake = {
    kind: 's3',
    endpoint: `${useSSL ? 'https' : 'http'}://${endPoint}:${port}`,
    accessKeyFile: secretFile('lake-access-key', accessKey),
    secretKeyFile: secretFile('lake-secret-key', secretKey),
  };
  const file = path.join(dir, 'connections.json');
  writeFileSync(file, `${JSON.stringify({ lake, ...extras }, null, 2)}\n`, { mode: 0o600 });
  return file;
}

/**
 * A model trained through trainModel on an uploaded day of the lake's shape, as numbers only
 * (id and LAKE_COLUMNS: uploads take no text column like created_at); returns it decoded.
 */
export async function trainLakeModel(p: Pick<TestPlatform, 'client' | 'platform' | 'config'>, modelName: string, rows = 5000): Promise<Detector> {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'nomaly-lake-train-')), 'orders.csv');
  const history = dayRows('2026-10-31', rows, { anomalies: 0 });
  const lines = history.ids.map((id, r) => [id, ...LAKE_COLUMNS.map((_, c) => history.features[r * LAKE_COLUMNS.length + c])].join(','));
  writeFileSync(file, `id,${LAKE_COLUMNS.join(',')}\n${lines.join('\n')}\n`);
  const dataset = await p.client.uploadDataset(file);
  const trained = await (await p.client.startTraining({ datasetId: dataset.id, modelName, featureColumns: [...LAKE_COLUMNS], contamination: 0.01 })).result();
  return decodeModel(await p.platform.store.getVerifiedBytes(p.config.buckets.models, trained.artifactKey, trained.artifactSha256));
}

/** The ids of a day's rows that `model` flags when scored here: what a job over that day must store. */
export function locallyFlagged(model: Detector, day: string, rows: number, seed?: number): string[] {
  const data = dayRows(day, rows, { seed });
  const scores = model.score(new Matrix(rows, LAKE_COLUMNS.length, data.features));
  return data.ids.filter((_, i) => scores[i] > model.threshold).sort();
}

/**
 * A source's window pinned and cut into chunks as a job does it (pinSource, then the snapshot
 * format's plan), with a reader of one chunk's blocks: for tests that read chunks directly.
 */
export async function pinnedChunks(p: Pick<TestPlatform, 'platform' | 'config'>, source: SourceSpec, window: JobWindow, chunkRows: number) {
  const { pinSource } = await import('../../src/sources/pinSource');
  const { sourceStores } = await import('../../src/sources/stores');
  const { datasetFormat } = await import('../../src/data/formats');
  const { BufferPool } = await import('../../src/data/bufferPool');
  const { LruCache } = await import('../../src/data/lruCache');
  const store = p.platform.store;
  const storeOf = sourceStores(p.config, store);
  const pinned = await pinSource({ config: p.config, store, storeOf }, source, window, 'UTC', () => undefined);
  const snapshot = { store, bucket: p.config.buckets.datasets, key: pinned.snapshotKey, sha256: pinned.snapshotSha256, storeOf, indexes: { store, bucket: p.config.buckets.datasets } };
  const format = datasetFormat('snapshot');
  const list = await format.planChunks(snapshot, pinned.rows, chunkRows, () => undefined);
  const caches = { indexes: new LruCache<never>(4), heads: new LruCache<unknown>(16), buffers: new BufferPool(1) };
  const spec = (c: number) => ({ rowStart: list.rowBounds[c], rowEnd: list.rowBounds[c + 1], from: list.bounds[c], to: list.bounds[c + 1], shared: list.shared });
  return { pinned, list, read: (chunk: number, read: ChunkRead) => format.readChunk(snapshot, spec(chunk), read, caches) };
}
