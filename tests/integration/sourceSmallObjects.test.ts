import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DetectionSummary } from '../../src/client/nomalyClient';
import type { Detector } from '../../src/scoring/detector';
import { dayPrefix, dayRows, dropLake, LAKE_COLUMNS, lakeConnectionFile, locallyFlagged, pinnedChunks, seedLake, trainLakeModel, type LakeFormat } from '../support/lake';
import { startTestPlatform, type TestPlatform } from '../support/testPlatform';

/**
 * A prefix of hundreds of tiny objects: planning groups runs of them, in pinned order, into
 * chunks of about chunkRows rows instead of one chunk per object; every row is scored exactly
 * once, with the anomalies a scoring of the day as one file finds, and each object is still
 * checked against what was pinned.
 */
const DAY = '2026-11-05';
const ROWS = 3000;
const CHUNK_ROWS = 1000;
const OBJECTS: Record<LakeFormat, number> = { csv: 300, jsonl: 150, parquet: 150 };

describe('small objects of a source grouped into chunks', () => {
  let p: TestPlatform;
  let model: Detector;
  const bucket = (format: LakeFormat) => `nomaly-test-small-${format}-${process.pid}`;
  const savedConnections = process.env.NOMALY_CONNECTIONS_FILE;

  beforeAll(async () => {
    const { loadConfig } = await import('../../src/config');
    process.env.NOMALY_CONNECTIONS_FILE = lakeConnectionFile(mkdtempSync(path.join(os.tmpdir(), 'nomaly-small-connections-')), loadConfig());
    p = await startTestPlatform();
    for (const format of ['csv', 'jsonl', 'parquet'] as const) {
      await seedLake(p.platform.store, bucket(format), [DAY], { rowsPerDay: ROWS, format, partsPerDay: OBJECTS[format] });
    }
    model = await trainLakeModel(p, 'orders-small');
  });

  afterAll(async () => {
    await p?.stop();
    for (const format of ['csv', 'jsonl', 'parquet'] as const) await dropLake(p.platform.store, bucket(format)).catch(() => undefined);
    if (savedConnections === undefined) delete process.env.NOMALY_CONNECTIONS_FILE;
    else process.env.NOMALY_CONNECTIONS_FILE = savedConnections;
  });

  const sourceOf = (format: LakeFormat, idColumn?: string) => ({ kind: 'objects', connection: 'lake', bucket: bucket(format), prefix: 'events/dt={date}/', format, ...(idColumn ? { idColumn } : {}) }) as const;

  /** The window pinned and planned as a job does it, for reading chunks directly. */
  async function pinned(format: LakeFormat) {
    const { list, read } = await pinnedChunks(p, sourceOf(format), { start: `${DAY}T00:00:00.000Z`, end: `${DAY}T23:59:59.000Z` }, CHUNK_ROWS);
    return { list, read: (c: number, blockRows: number, rowsDone = 0) => read(c, { columns: { featureColumns: [...LAKE_COLUMNS] }, blockRows, rowsDone }) };
  }

  it.each(['csv', 'jsonl', 'parquet'] as const)('%s: tiny objects plan into a few chunks and every row is scored once, with a single file scoring\'s anomalies', async (format) => {
    const { list } = await pinned(format);
    expect(list.chunks).toBe(ROWS / CHUNK_ROWS);
    expect(list.rowBounds).toEqual([0, 1000, 2000, 3000]);
    const handle = await p.client.startDetection({ model: 'orders-small', source: sourceOf(format, 'id'), window: { start: DAY, end: '2026-11-06' }, chunkRows: CHUNK_ROWS } as never);
    const summary = (await handle.result()) as DetectionSummary;
    expect(summary).toMatchObject({ status: 'completed', rows: ROWS, source: { objects: OBJECTS[format] } });
    const [job] = await p.sql<{ chunks: number }>('select chunks from detection_job where id = ?', [summary.jobId]);
    expect(job.chunks).toBe(3);
    const stored = (await p.sql<{ row_id: string }>('select row_id from anomaly where job_id = ? order by row_id', [summary.jobId])).map((r) => r.row_id);
    expect(stored).toEqual(locallyFlagged(model, DAY, ROWS));
    expect(stored.length).toBeGreaterThan(0);
  });

  it('a grouped chunk cuts full blocks across objects, keys rows by object and row, and resumes by rows done', async () => {
    const { list, read } = await pinned('csv');
    const day = dayRows(DAY, ROWS);
    const perObject = ROWS / OBJECTS.csv;
    const chunk = 1; // rows 1000..1999: objects 100..199
    const sizes: number[] = [];
    const features: number[] = [];
    const keys: string[] = [];
    for await (const block of read(chunk, 64)) {
      sizes.push(block.features.rows);
      features.push(...block.features.data);
      for (let i = 0; i < block.features.rows; i++) keys.push(block.rowKey!(i));
    }
    expect(sizes.slice(0, -1).every((n) => n === 64)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(CHUNK_ROWS);
    // Exactly the day's rows 1000..1999, in order.
    expect(features).toEqual(Array.from(day.features.subarray(list.rowBounds[chunk] * 4, list.rowBounds[chunk + 1] * 4)));
    const keyOf = (row: number) => `${dayPrefix(DAY)}part-${String(Math.floor(row / perObject)).padStart(5, '0')}.csv#${(row % perObject) + 1}`;
    expect(keys).toEqual(Array.from({ length: CHUNK_ROWS }, (_, i) => keyOf(1000 + i)));
    // A retried attempt that stored 3 blocks (192 rows, inside an object) reads exactly the rest.
    const rest: number[] = [];
    const restKeys: string[] = [];
    for await (const block of read(chunk, 64, 192)) {
      rest.push(...block.features.data);
      for (let i = 0; i < block.features.rows; i++) restKeys.push(block.rowKey!(i));
    }
    expect(rest).toEqual(features.slice(192 * 4));
    expect(restKeys).toEqual(keys.slice(192));
  });

  it('an object rewritten after pinning fails its grouped chunk, naming it', async () => {
    const { read } = await pinned('csv');
    const drain = async (c: number) => {
      let rows = 0;
      for await (const block of read(c, 512)) rows += block.features.rows;
      return rows;
    };
    expect(await drain(2)).toBe(CHUNK_ROWS);
    // Object 250 (in the last chunk) gets other bytes after the job pinned it.
    const key = `${dayPrefix(DAY)}part-00250.csv`;
    await p.platform.store.putBytes(bucket('csv'), key, Buffer.from(`id,${LAKE_COLUMNS.join(',')},created_at\nx,1,2,3,4,${DAY}T00:00:00Z\n`));
    await expect(drain(2)).rejects.toThrow(new RegExp(`object lake:${bucket('csv')}/${key.replace(/[.]/g, '\\.')} changed after the job pinned it`));
    // The other chunks never read it and are unaffected.
    expect(await drain(0)).toBe(CHUNK_ROWS);
  });
});
