import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ApplicationFailure } from '@temporalio/common';
import { createHash } from 'node:crypto';
import { SeededRandom } from '../../src/scoring/random';
import { startTestPlatform, type TestPlatform } from '../support/testPlatform';

const ROWS = 3000;
const COUNTRIES = ['DE', 'FR', 'US', 'GB', 'IT', 'ES', 'NL', 'PL', 'SE', 'AT'];
const SIZE_LIMIT = 4 * 1024 * 1024;

/** An orders table as it comes: a country category, a boolean, a timestamp, free text, about 5% nulls in every feature. */
function ordersCsv(): { text: string; nulls: Record<string, number>; countries: Map<string, number> } {
  const rng = new SeededRandom(7);
  const nulls: Record<string, number> = { country: 0, amount: 0, is_gift: 0, created_at: 0 };
  const countries = new Map<string, number>();
  const lines = ['id,country,amount,items,is_gift,created_at,note'];
  const missing = (column: string) => {
    if (rng.next() >= 0.05) return false;
    nulls[column]++;
    return true;
  };
  for (let r = 0; r < ROWS; r++) {
    // Skewed: the first countries are the frequent ones.
    const country = missing('country') ? '' : COUNTRIES[Math.floor(rng.next() ** 2 * COUNTRIES.length)];
    if (country) countries.set(country, (countries.get(country) ?? 0) + 1);
    const amount = missing('amount') ? 'NA' : (20 + rng.next() * 80).toFixed(2);
    const gift = missing('is_gift') ? '' : rng.next() < 0.2 ? 'true' : 'false';
    const created = missing('created_at') ? 'null' : new Date(Date.UTC(2026, 2, 1) + Math.floor(rng.next() * 30 * 86_400_000)).toISOString();
    lines.push(`o${r},${country},${amount},${1 + (r % 7)},${gift},${created},"customer note ${r}, please ${rng.next() < 0.5 ? 'wrap' : 'hurry'}"`);
  }
  return { text: `${lines.join('\n')}\n`, nulls, countries };
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Registration on the real stack: the schema inferred and stored, and gzip uploads stored decompressed. */
describe('dataset schema and gzip uploads on the real stack', () => {
  let p: TestPlatform;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nomaly-schema-'));
  const orders = ordersCsv();
  const plain = Buffer.from(orders.text);
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
    const uploaded = await p.client.uploadDataset(gzFile);
    expect(uploaded).toMatchObject({ sha256: sha256(plain), sourceSha256: sha256(gz), format: 'csv', rows: ROWS, sizeBytes: plain.length, idColumn: 'id' });
    expect(uploaded.featureColumns).toEqual(['country', 'amount', 'items', 'is_gift', 'created_at']);
    expect(uploaded.cellTypes).toEqual({ country: 'category', created_at: 'timestamp' });

    const shown = await p.client.reads.showDataset(uploaded.id);
    const byName = Object.fromEntries(shown.columnProfiles.map((c) => [c.name, c]));
    const top = [...orders.countries].sort((a, b) => b[1] - a[1]);
    expect(byName.country).toMatchObject({ role: 'feature', type: 'category', nullCount: orders.nulls.country, cardinality: COUNTRIES.length });
    expect(byName.country.topValues!.slice(0, 3)).toEqual(top.slice(0, 3).map(([value, count]) => ({ value, count })));
    expect(byName.amount).toMatchObject({ role: 'feature', type: 'number', nullCount: orders.nulls.amount });
    expect(byName.items).toMatchObject({ role: 'feature', type: 'integer', nullCount: 0, min: 1, max: 7 });
    expect(byName.is_gift).toMatchObject({ role: 'feature', type: 'boolean', nullCount: orders.nulls.is_gift, min: 0, max: 1 });
    expect(byName.created_at).toMatchObject({ role: 'feature', type: 'timestamp', nullCount: orders.nulls.created_at });
    expect(byName.created_at.minTime! >= '2026-03-01T00:00:00.000Z' && byName.created_at.maxTime! < '2026-03-31T00:00:00.000Z').toBe(true);
    expect(byName.note).toMatchObject({ role: 'excluded', type: 'text', nullCount: 0, cardinality: ROWS });
    expect(byName.id).toMatchObject({ role: 'id', type: 'text' });

    // Only the plain file and its row index are kept: no compressed upload, nothing staged.
    const plainKey = `sha256/${sha256(plain).slice(0, 2)}/${sha256(plain)}.csv`;
    expect(await objects()).toEqual([plainKey, `${plainKey}.index`]);

    const csvFile = path.join(dir, 'orders.csv');
    writeFileSync(csvFile, plain);
    expect((await p.client.uploadDataset(csvFile)).id).toBe(uploaded.id);
    expect((await p.client.uploadDataset(gzFile)).id).toBe(uploaded.id);
    expect(await objects()).toEqual([plainKey, `${plainKey}.index`]);
    const [{ count }] = await p.sql<{ count: string }>('select count(*) from dataset');
    expect(Number(count)).toBe(1);
  });

  it('a .jsonl.gz registers as JSON lines with the same types', async () => {
    const rows = orders.text.trim().split('\n').slice(1, 400).map((line, r) => ({ id: `o${r}`, country: COUNTRIES[r % 3], amount: Number(line.split(',')[2]) || null, at: `2026-03-0${1 + (r % 9)}` }));
    const file = path.join(dir, 'small.jsonl.gz');
    writeFileSync(file, gzipSync(rows.map((r) => JSON.stringify(r)).join('\n')));
    const uploaded = await p.client.uploadDataset(file);
    expect(uploaded).toMatchObject({ format: 'jsonl', rows: 399, cellTypes: { country: 'category', at: 'timestamp' } });
  });

  it.each([
    ['a gzip cut short', () => gzipSync(plain).subarray(0, 5000), 'not valid gzip data'],
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
