import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ApplicationFailure } from '@temporalio/common';
import { createHash } from 'node:crypto';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { BufferPool } from '../../src/data/bufferPool';
import { categoryCode } from '../../src/data/cellValues';
import { datasetFormat, type ChunkReadCaches, type StoredDataset } from '../../src/data/formats';
import { LruCache } from '../../src/data/lruCache';
import { datasetKey } from '../../src/storage/keys';
import { chunkAt } from '../../src/workflows/chunkPlan';
import { SeededRandom } from '../../src/scoring/random';
import { startTestPlatform, type TestPlatform } from '../support/testPlatform';

const ROWS = 3000;
const COUNTRIES = ['DE', 'FR', 'US', 'GB', 'IT', 'ES', 'NL', 'PL', 'SE', 'AT'];
const SIZE_LIMIT = 4 * 1024 * 1024;

interface Order {
  id: string;
  country: string | null;
  amount: number | null;
  items: number;
  is_gift: boolean | null;
  created_at: string | null;
  note: string;
}

/** An orders table as it comes: a country category, a boolean, a timestamp, free text, about 5% nulls in every feature. */
function orderRows(): Order[] {
  const rng = new SeededRandom(7);
  const maybe = <T>(value: T): T | null => (rng.next() < 0.05 ? null : value);
  return Array.from({ length: ROWS }, (_, r) => ({
    id: `o${r}`,
    // Skewed: the first countries are the frequent ones.
    country: maybe(COUNTRIES[Math.floor(rng.next() ** 2 * COUNTRIES.length)]),
    amount: maybe(Number((20 + rng.next() * 80).toFixed(2))),
    items: 1 + (r % 7),
    is_gift: maybe(rng.next() < 0.2),
    created_at: maybe(new Date(Date.UTC(2026, 2, 1) + Math.floor(rng.next() * 30 * 86_400_000)).toISOString()),
    note: `customer note ${r}, please ${rng.next() < 0.5 ? 'wrap' : 'hurry'}`,
  }));
}

/** The orders as CSV, each kind of null written another way. */
function ordersCsv(orders: Order[]): string {
  const cell = (v: unknown, nullText: string) => (v === null ? nullText : String(v));
  const lines = ['id,country,amount,items,is_gift,created_at,note'];
  for (const o of orders) lines.push([o.id, cell(o.country, ''), cell(o.amount, 'NA'), o.items, cell(o.is_gift, ''), cell(o.created_at, 'null'), `"${o.note}"`].join(','));
  return `${lines.join('\n')}\n`;
}

function ordersParquet(orders: Order[]): Buffer {
  return Buffer.from(
    parquetWriteBuffer({
      columnData: [
        { name: 'id', data: orders.map((o) => o.id), type: 'STRING' },
        { name: 'country', data: orders.map((o) => o.country), type: 'STRING', nullable: true, encoding: 'RLE_DICTIONARY' },
        { name: 'amount', data: orders.map((o) => o.amount), type: 'DOUBLE', nullable: true },
        { name: 'items', data: Int32Array.from(orders, (o) => o.items), type: 'INT32' },
        { name: 'is_gift', data: orders.map((o) => o.is_gift), type: 'BOOLEAN', nullable: true },
        { name: 'created_at', data: orders.map((o) => (o.created_at === null ? null : new Date(o.created_at))), type: 'TIMESTAMP', nullable: true },
        { name: 'note', data: orders.map((o) => o.note), type: 'STRING' },
      ],
      rowGroupSize: 700,
    }),
  );
}

function nullsOf(orders: Order[], column: keyof Order): number {
  return orders.filter((o) => o[column] === null).length;
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Registration on the real stack: the schema inferred and stored, and gzip uploads stored decompressed. */
describe('dataset schema and gzip uploads on the real stack', () => {
  let p: TestPlatform;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nomaly-schema-'));
  const orders = orderRows();
  const plain = Buffer.from(ordersCsv(orders));
  const savedLimit = process.env.NOMALY_MAX_DATASET_BYTES;

  beforeAll(async () => {
    process.env.NOMALY_MAX_DATASET_BYTES = String(SIZE_LIMIT);
    p = await startTestPlatform(['control']);
  });
  afterAll(async () => {
    if (savedLimit === undefined) delete process.env.NOMALY_MAX_DATASET_BYTES;
    else process.env.NOMALY_MAX_DATASET_BYTES = savedLimit;
    await p?.stop();
  });

  async function objects(): Promise<string[]> {
    await p.platform.store.ensureBuckets([p.config.buckets.datasets]);
    return (await p.platform.store.listKeys(p.config.buckets.datasets, '')).sort();
  }

  it('an orders .csv.gz is stored decompressed with its schema; the plain CSV and the .gz again are the same dataset', async () => {
    const gzFile = path.join(dir, 'orders.csv.gz');
    const gz = gzipSync(plain);
    writeFileSync(gzFile, gz);
    const before = await objects();
    const [{ count: datasetsBefore }] = await p.sql<{ count: string }>('select count(*) from dataset');
    const uploaded = await p.client.uploadDataset(gzFile);
    expect(uploaded).toMatchObject({ sha256: sha256(plain), sourceSha256: sha256(gz), format: 'csv', rows: ROWS, sizeBytes: plain.length, idColumn: 'id' });
    expect(uploaded.featureColumns).toEqual(['country', 'amount', 'items', 'is_gift', 'created_at']);
    expect(uploaded.cellTypes).toEqual({ country: 'category', created_at: 'timestamp' });

    const shown = await p.client.reads.showDataset(uploaded.id);
    const byName = Object.fromEntries(shown.columnProfiles.map((c) => [c.name, c]));
    const counts = new Map<string, number>();
    for (const o of orders) if (o.country !== null) counts.set(o.country, (counts.get(o.country) ?? 0) + 1);
    const top = [...counts].sort((a, b) => b[1] - a[1]);
    expect(byName.country).toMatchObject({ role: 'feature', type: 'category', nullCount: nullsOf(orders, 'country'), cardinality: COUNTRIES.length });
    expect(byName.country.topValues!.slice(0, 3)).toEqual(top.slice(0, 3).map(([value, count]) => ({ value, count })));
    expect(nullsOf(orders, 'country')).toBeGreaterThan(100);
    expect(byName.amount).toMatchObject({ role: 'feature', type: 'number', nullCount: nullsOf(orders, 'amount') });
    expect(byName.items).toMatchObject({ role: 'feature', type: 'integer', nullCount: 0, min: 1, max: 7 });
    expect(byName.is_gift).toMatchObject({ role: 'feature', type: 'boolean', nullCount: nullsOf(orders, 'is_gift'), min: 0, max: 1 });
    expect(byName.created_at).toMatchObject({ role: 'feature', type: 'timestamp', nullCount: nullsOf(orders, 'created_at') });
    expect(byName.created_at.minTime! >= '2026-03-01T00:00:00.000Z' && byName.created_at.maxTime! < '2026-03-31T00:00:00.000Z').toBe(true);
    expect(byName.note).toMatchObject({ role: 'excluded', type: 'text', nullCount: 0, cardinality: ROWS });
    expect(byName.id).toMatchObject({ role: 'id', type: 'text' });

    // Only the plain file and its row index are kept: no compressed upload, nothing staged.
    const plainKey = `sha256/${sha256(plain).slice(0, 2)}/${sha256(plain)}.csv`;
    const kept = [...before, plainKey, `${plainKey}.index`].sort();
    expect(await objects()).toEqual(kept);

    const csvFile = path.join(dir, 'orders.csv');
    writeFileSync(csvFile, plain);
    expect((await p.client.uploadDataset(csvFile)).id).toBe(uploaded.id);
    expect((await p.client.uploadDataset(gzFile)).id).toBe(uploaded.id);
    expect(await objects()).toEqual(kept);
    const [{ count }] = await p.sql<{ count: string }>('select count(*) from dataset');
    expect(Number(count)).toBe(Number(datasetsBefore) + 1);
  });

  it('a .jsonl.gz registers as JSON lines with the same types', async () => {
    const rows = orders.slice(0, 399).map((o, r) => ({ id: o.id, country: COUNTRIES[r % 3], amount: o.amount, at: `2026-03-0${1 + (r % 9)}` }));
    const file = path.join(dir, 'small.jsonl.gz');
    writeFileSync(file, gzipSync(rows.map((r) => JSON.stringify(r)).join('\n')));
    const uploaded = await p.client.uploadDataset(file);
    expect(uploaded).toMatchObject({ format: 'jsonl', rows: 399, cellTypes: { country: 'category', at: 'timestamp' } });
  });

  it('the orders as CSV, JSON lines and Parquet: the same schema, and their chunks read with its cell types give the same numbers', async () => {
    const files = { csv: plain, jsonl: Buffer.from(orders.map((o) => JSON.stringify(o)).join('\n')), parquet: ordersParquet(orders) };
    const features: Record<string, number[]> = {};
    const texts: Record<string, Map<number, string>> = {};
    for (const [format, bytes] of Object.entries(files)) {
      const file = path.join(dir, `chunked.${format}`);
      writeFileSync(file, bytes);
      const summary = await p.client.uploadDataset(file);
      expect(summary).toMatchObject({ format, rows: ROWS, featureColumns: ['country', 'amount', 'items', 'is_gift', 'created_at'], cellTypes: { country: 'category', created_at: 'timestamp' } });
      const reader = datasetFormat(format);
      const dataset: StoredDataset = { store: p.platform.store, bucket: p.config.buckets.datasets, key: datasetKey(summary.sha256, format), sha256: summary.sha256 };
      const list = await reader.planChunks(dataset, ROWS, 1000, () => undefined);
      const caches: ChunkReadCaches = { indexes: new LruCache(4), heads: new LruCache(4), buffers: new BufferPool(1) };
      const values: number[] = [];
      texts[format] = new Map();
      for (let i = 0; i < list.chunks; i++) {
        const columns = { featureColumns: summary.featureColumns, idColumn: 'id', cellTypes: summary.cellTypes };
        // With their category texts, as training on a source reads its chunks.
        for await (const block of reader.readChunk(dataset, chunkAt(list, i), { columns, withCategoryText: true, blockRows: 512, rowsDone: 0 }, caches)) {
          values.push(...block.features.data.subarray(0, block.features.rows * block.features.cols));
          for (const [code, text] of block.categoryText ?? []) texts[format].set(code, text);
        }
      }
      features[format] = values;
    }
    expect(features.csv.length).toBe(ROWS * 5);
    expect(features.csv.slice(0, 5)).toEqual([
      orders[0].country === null ? NaN : categoryCode(orders[0].country),
      orders[0].amount ?? NaN,
      orders[0].items,
      orders[0].is_gift === null ? NaN : Number(orders[0].is_gift),
      orders[0].created_at === null ? NaN : Date.parse(orders[0].created_at),
    ]);
    expect(features.jsonl).toEqual(features.csv);
    expect(features.parquet).toEqual(features.csv);
    const countries = new Set(orders.map((o) => o.country).filter((c) => c !== null));
    expect(new Map([...countries].map((c) => [categoryCode(c), c]))).toEqual(texts.csv);
    expect(texts.jsonl).toEqual(texts.csv);
    expect(texts.parquet).toEqual(texts.csv);
  });

  it.each([
    ['a gzip cut short', () => gzipSync(plain).subarray(0, 5000), 'not valid gzip data'],
    ['a gzip of a malformed CSV (its plain file is removed too)', () => gzipSync('a,b\n1,2\n3,x\n'), 'line 3, column "b": "x" is not a number'],
    ['a gzip bomb (a few KB expanding past the size limit)', () => gzipSync(Buffer.alloc(SIZE_LIMIT * 4, '1\n')), `decompressed, the file is over the dataset size limit of ${SIZE_LIMIT} bytes`],
  ])('%s is refused non-retryably, leaving nothing behind', async (_what, bytes, message) => {
    const file = path.join(dir, 'bad.csv.gz');
    writeFileSync(file, bytes());
    const before = await objects();
    const started = Date.now();
    const error = await p.client.uploadDataset(file).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ nonRetryable: true });
    expect((error as Error).message).toContain(message);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await objects()).toEqual(before);
  });
});
