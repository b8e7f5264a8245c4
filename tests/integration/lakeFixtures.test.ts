import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parquetMetadata } from 'hyparquet';
import { Client } from 'pg';
import { loadConfig } from '../../src/config';
import { readDataset } from '../../src/data/readDataset';
import { ObjectStore } from '../../src/storage/objectStore';
import { dayPrefix, dayRows, dropLake, LAKE_COLUMNS, LAKE_HEADER, lakeConnectionFile, seedLake, sliceDayRows, type LakeFormat } from '../support/lake';
import { createWarehouse, dayRange, orderId, warehouseConnectionEntry, type Warehouse } from '../support/warehouse';

/**
 * The lake and warehouse fixtures against the real MinIO and PostgreSQL, so that what the
 * source-reader tests and the benchmark build on cannot silently drift: every format reads back
 * through the project's own readers to exactly the generated rows.
 */
const DAYS = ['2026-11-01', '2026-11-02', '2026-11-03'];
const EMPTY_DAY = '2026-11-04';
const ROWS = 1_000;
const ROW_GROUP_ROWS = 300; // 1,000 rows → 4 row groups per object

async function withReader<T>(w: Warehouse, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: w.readerUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe('dayRows', () => {
  it('is deterministic per day and seed, and its anomalies are far from every inlier', () => {
    const a = dayRows('2026-11-01', 5_000);
    expect(dayRows('2026-11-01', 5_000)).toEqual(a);
    expect(dayRows('2026-11-02', 5_000).features).not.toEqual(a.features);
    expect(dayRows('2026-11-01', 5_000, { seed: 7 }).features).not.toEqual(a.features);
    expect(a.ids[42]).toBe('2026-11-01-000042');
    expect(a.anomalyIds).toHaveLength(5);
    expect(dayRows('2026-11-01', 100, { anomalies: 3 }).anomalyIds).toHaveLength(3);

    const anomalous = new Set(a.anomalyIds);
    const inlierAmounts: number[] = [];
    let smallestAnomalyLatency = Infinity;
    for (let r = 0; r < a.ids.length; r++) {
      if (anomalous.has(a.ids[r])) smallestAnomalyLatency = Math.min(smallestAnomalyLatency, a.features[r * 4 + 2]);
      else inlierAmounts.push(a.features[r * 4]);
    }
    const inlierLatencies = a.ids.map((id, r) => (anomalous.has(id) ? 0 : a.features[r * 4 + 2]));
    expect(smallestAnomalyLatency).toBeGreaterThan(2 * Math.max(...inlierLatencies));
    const mean = inlierAmounts.reduce((s, v) => s + v, 0) / inlierAmounts.length;
    expect(mean).toBeGreaterThan(70);
    expect(mean).toBeLessThan(90);
    expect(a.createdAt.every((t) => t.startsWith('2026-11-01T'))).toBe(true);
    expect([...a.createdAt].sort()).toEqual(a.createdAt);
  });

  it('refuses an impossible day', () => {
    expect(() => dayRows('2026-02-30', 10)).toThrow(/2026-02-30/);
  });
});

describe('lake fixtures on MinIO', () => {
  const config = loadConfig();
  const store = ObjectStore.connect(config.minio);
  const bucketOf = (format: LakeFormat | 'connection') => `lake-fixtures-${process.pid}-${format}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nomaly-lake-'));

  afterAll(async () => {
    for (const format of ['parquet', 'csv', 'jsonl', 'connection'] as const) await dropLake(store, bucketOf(format));
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['parquet', 1],
    ['csv', 2],
    ['jsonl', 3],
  ] as const)('%s: %d part(s) per day read back through the project readers to exactly dayRows, and the skipped day has no objects', async (format, parts) => {
    const bucket = bucketOf(format);
    const seeded = await seedLake(store, bucket, [...DAYS, EMPTY_DAY], { rowsPerDay: ROWS, format, rowGroupRows: ROW_GROUP_ROWS, partsPerDay: parts, skipDays: [EMPTY_DAY] });

    expect(seeded[EMPTY_DAY]).toEqual({ keys: [], rows: 0, anomalyIds: [] });
    expect(await store.listKeys(bucket, dayPrefix(EMPTY_DAY))).toEqual([]);
    for (const day of DAYS) {
      const expected = dayRows(day, ROWS);
      expect(seeded[day].rows).toBe(ROWS);
      expect(seeded[day].anomalyIds).toEqual(expected.anomalyIds);
      expect((await store.listKeys(bucket, dayPrefix(day))).sort()).toEqual(seeded[day].keys);
      expect(seeded[day].keys).toHaveLength(parts);

      let row = 0;
      for (const key of seeded[day].keys) {
        expect(key).toMatch(new RegExp(`^events/dt=${day}/part-\\d{5}\\.${format}$`));
        const bytes = await store.getVerifiedBytes(bucket, key);
        const table = await readDataset(bytes, format, { idColumn: 'id', featureColumns: [...LAKE_COLUMNS] });
        expect(table.header).toEqual(LAKE_HEADER);
        const part = sliceDayRows(expected, row, row + table.totalRows);
        expect(table.ids).toEqual(part.ids);
        expect(table.features.data).toEqual(part.features);
        row += table.totalRows;

        if (format === 'parquet') {
          const metadata = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
          expect(metadata.row_groups.length).toBeGreaterThanOrEqual(3);
          expect(metadata.row_groups.map((g) => Number(g.num_rows))).toEqual([300, 300, 300, 100]);
          const types = Object.fromEntries(metadata.schema.slice(1).map((s) => [s.name, s.type]));
          expect(types).toEqual({ id: 'BYTE_ARRAY', amount: 'DOUBLE', n_items: 'DOUBLE', latency_ms: 'DOUBLE', discount: 'DOUBLE', created_at: 'BYTE_ARRAY' });
        }
      }
      expect(row).toBe(ROWS);
    }
  });

  it('writes a connections file whose lake entry reaches this MinIO with key files only the owner can read', async () => {
    await seedLake(store, bucketOf('connection'), [DAYS[0]], { rowsPerDay: 10, format: 'csv' });
    const file = lakeConnectionFile(dir, config, { extra: { kind: 'postgres', url: 'postgres://reader@127.0.0.1:5432/db' } });
    const entries = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { kind: string; endpoint: string; accessKeyFile: string; secretKeyFile: string }>;
    expect(entries.extra).toEqual({ kind: 'postgres', url: 'postgres://reader@127.0.0.1:5432/db' });
    const lake = entries.lake;
    expect(lake.kind).toBe('s3');
    for (const keyFile of [lake.accessKeyFile, lake.secretKeyFile]) {
      expect(path.dirname(keyFile)).toBe(dir);
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    }
    expect(readFileSync(file, 'utf8')).not.toContain(config.minio.secretKey);

    const endpoint = new URL(lake.endpoint);
    const viaFile = ObjectStore.connect({
      endPoint: endpoint.hostname,
      port: Number(endpoint.port),
      useSSL: endpoint.protocol === 'https:',
      accessKey: readFileSync(lake.accessKeyFile, 'utf8'),
      secretKey: readFileSync(lake.secretKeyFile, 'utf8'),
    });
    expect(await viaFile.listKeys(bucketOf('connection'), dayPrefix(DAYS[0]))).toEqual([`${dayPrefix(DAYS[0])}part-00000.csv`]);

    await dropLake(store, bucketOf('connection'));
    expect(await store.client.bucketExists(bucketOf('connection'))).toBe(false);
  });
});

describe('warehouse fixture on PostgreSQL', () => {
  const ROWS_PER_DAY = 6_000; // more than one insert batch
  let w: Warehouse;
  let anomalies: Record<string, string[]>;

  beforeAll(async () => {
    w = await createWarehouse();
    anomalies = await w.insertDays(DAYS, ROWS_PER_DAY, 0);
  });
  afterAll(async () => {
    await w?.drop();
  });

  it('holds each day’s orders inside the day, readable by the reader role, with the anomalies dayRows injected', async () => {
    expect(w.database).toMatch(new RegExp(`^nomaly_wh_test_${process.pid}_\\d+$`));
    expect(warehouseConnectionEntry(w)).toEqual({ kind: 'postgres', url: `postgres://${w.readerRole}@127.0.0.1:5432/${w.database}` });
    await withReader(w, async (reader) => {
      for (const day of [...DAYS, EMPTY_DAY]) {
        const { rows } = await reader.query<{ n: string }>('SELECT count(*) AS n FROM orders WHERE created_at >= $1 AND created_at < $2', dayRange(day));
        expect(Number(rows[0].n)).toBe(w.orders(day));
        expect(w.orders(day)).toBe(day === EMPTY_DAY ? 0 : ROWS_PER_DAY);
      }
      const [start, end] = dayRange(DAYS[1]);
      const far = await reader.query<{ id: string }>('SELECT id FROM orders WHERE created_at >= $1 AND created_at < $2 AND discount > 0.5 ORDER BY id', [start, end]);
      expect(far.rows.map((r) => r.id)).toEqual(anomalies[DAYS[1]]);
      expect(anomalies[DAYS[1]]).toHaveLength(6);

      const expected = dayRows(DAYS[1], ROWS_PER_DAY);
      const all = await reader.query<{ id: string; amount: number; n_items: number; latency_ms: number; discount: number }>(
        'SELECT id, amount, n_items, latency_ms, discount FROM orders WHERE created_at >= $1 AND created_at < $2 ORDER BY id',
        [start, end],
      );
      expect(all.rows.map((r) => r.id)).toEqual(expected.ids.map((_, row) => orderId(DAYS[1], row)));
      expect(Float64Array.from(all.rows.flatMap((r) => [r.amount, r.n_items, r.latency_ms, r.discount]))).toEqual(expected.features);
    });
  });

  it('refuses writes from the reader role', async () => {
    await withReader(w, async (reader) => {
      await expect(reader.query("INSERT INTO orders (id, created_at) VALUES (1, now())")).rejects.toMatchObject({ code: '42501', message: expect.stringMatching(/permission denied/) });
      await expect(reader.query('DELETE FROM orders')).rejects.toMatchObject({ code: '42501' });
    });
  });

  it('drop() removes the database and leaves no session behind', async () => {
    const other = await createWarehouse('second');
    await other.insertDays([DAYS[0]], 10);
    const open = new Client({ connectionString: other.readerUrl });
    await open.connect();
    open.on('error', () => undefined); // its session is terminated by drop()
    await other.drop();
    await open.end().catch(() => undefined);
    const admin = new Client({ connectionString: w.url });
    await admin.connect();
    try {
      const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [other.database]);
      expect(rowCount).toBe(0);
      // The first warehouse is still live: the shared reader role must survive the second's drop.
      const role = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [w.readerRole]);
      expect(role.rowCount).toBe(1);
    } finally {
      await admin.end();
    }
  });
});
