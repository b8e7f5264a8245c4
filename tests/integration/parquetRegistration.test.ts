import { createHash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ApplicationFailure } from '@temporalio/common';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { createDatasetActivities } from '../../src/activities/datasetActivities';
import { parquetFormat } from '../../src/data/formats/parquet';
import type { StoredDataset } from '../../src/data/formats/format';
import { parquetBatches } from '../../src/data/parquet';
import { cellTypesOf, DatasetProfiler, type DatasetProfile } from '../../src/data/profile';
import { schemaReadOptions, sniffSchema, SNIFF_OPTIONS } from '../../src/data/schemaInference';
import type { TableReadOptions } from '../../src/data/tableBuilder';
import type { DatasetTable } from '../../src/data/table';
import { Dataset } from '../../src/db/entities';
import { datasetKey } from '../../src/storage/keys';
import { startTestPlatform, type TestPlatform } from '../support/testPlatform';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A real collection: jest runs without --expose-gc, so V8's flag is turned on here. */
function garbageCollector(): () => void {
  if (global.gc) return global.gc;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** The profile registration makes: the column types from a sniff of the first batch, then every batch read with them. */
async function profileOf(batches: (options: TableReadOptions) => AsyncIterable<DatasetTable>): Promise<DatasetProfile> {
  const schema = await sniffSchema(batches(SNIFF_OPTIONS));
  const profiler = new DatasetProfiler(schema);
  for await (const batch of batches(schemaReadOptions(schema))) profiler.add(batch);
  return profiler.result();
}

/**
 * Parquet registration reads the stored object by range reads, row group by row group, after a
 * hash-only pass: the same profile as reading the whole file in memory, without ever holding it.
 */
describe('Parquet registration by range reads', () => {
  let p: TestPlatform;
  const bucket = () => p.config.buckets.datasets;
  const stored = (key: string, sha: string): StoredDataset => ({ store: p.platform.store, bucket: bucket(), key, sha256: sha });

  beforeAll(async () => {
    p = await startTestPlatform([]);
    await p.platform.store.ensureBuckets([bucket()]);
  });
  afterAll(async () => {
    await p?.stop();
  });

  /** Several row groups (the last one short), an id, a label and integer and double features. */
  function severalGroups(rows: number): Buffer {
    return Buffer.from(
      parquetWriteBuffer({
        columnData: [
          { name: 'id', data: Array.from({ length: rows }, (_, i) => `r${i}`), type: 'STRING' },
          { name: 'a', data: Array.from({ length: rows }, (_, i) => Math.sin(i) * 100), type: 'DOUBLE' },
          { name: 'b', data: Array.from({ length: rows }, (_, i) => (i * 37) % 1001), type: 'INT32' },
          { name: 'label', data: Array.from({ length: rows }, (_, i) => (i % 13 === 0 ? 1 : 0)), type: 'INT32' },
          { name: 'c', data: Array.from({ length: rows }, (_, i) => -(i + 1) / 7), type: 'DOUBLE' },
        ],
        rowGroupSize: 700,
      }),
    );
  }

  it('yields the batches the whole-file reader yields, and registers the same profile', async () => {
    const bytes = severalGroups(5_000);
    const sha = sha256(bytes);
    const key = datasetKey(sha, 'parquet');
    await p.platform.store.putBytes(bucket(), key, bytes);

    const inMemory: DatasetTable[] = [];
    for await (const batch of parquetBatches(bytes)) inMemory.push(batch);
    const ranged: DatasetTable[] = [];
    for await (const batch of parquetFormat.storedBatches!(stored(key, sha), {})) ranged.push(batch);
    expect(inMemory.length).toBe(Math.ceil(5_000 / 700));
    expect(ranged).toEqual(inMemory);
    // A sample (a source's types at pinning): the rows before rowEnd only, the last group cut there.
    const sample: DatasetTable[] = [];
    for await (const batch of parquetFormat.storedBatches!(stored(key, sha), { rowEnd: 1_000 })) sample.push(batch);
    expect(sample.map((b) => b.features.rows)).toEqual([700, 300]);
    expect(sample[1].features.data).toEqual(inMemory[1].features.data.subarray(0, 300 * inMemory[1].features.cols));

    const expected = await profileOf((options) => parquetBatches(bytes, options));
    const summary = await createDatasetActivities(p.platform).registerDatasetFile({ name: 'groups.parquet', objectKey: key, sha256: sha, format: 'parquet' });
    expect(summary).toMatchObject({ rows: expected.rows, featureColumns: expected.featureColumns });
    const row = await p.platform.orm.em.fork().findOneOrFail(Dataset, { sha256: sha });
    expect({
      rows: row.rows,
      header: row.columns,
      featureColumns: row.featureColumns,
      idColumn: row.idColumn,
      labelColumn: row.labelColumn,
      columns: row.columnProfiles,
      cellTypes: cellTypesOf(row.columnProfiles ?? []),
    }).toEqual(expected);
    expect(expected).toMatchObject({ rows: 5_000, featureColumns: ['a', 'b', 'c'], idColumn: 'id', labelColumn: 'label' });
  });

  it('refuses an object whose bytes are not its sha256 before profiling it, and leaves nothing', async () => {
    const bytes = severalGroups(1_000);
    const claimed = sha256(Buffer.from('other bytes'));
    const key = datasetKey(claimed, 'parquet');
    await p.platform.store.putBytes(bucket(), key, bytes);
    const refused = await createDatasetActivities(p.platform)
      .registerDatasetFile({ name: 'swapped.parquet', objectKey: key, sha256: claimed, format: 'parquet' })
      .catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ApplicationFailure);
    expect(refused).toMatchObject({ nonRetryable: true, type: 'ChecksumMismatchError' });
    expect((refused as Error).message).toContain(`sha256 ${sha256(bytes)} does not match the recorded ${claimed}`);
    expect(await p.platform.store.stat(bucket(), key)).toBeUndefined();
    expect(await p.platform.orm.em.fork().findOne(Dataset, { sha256: claimed })).toBeNull();
  });

  it.each([
    // Bytes no other test uploads: the same bytes registered as CSV elsewhere would be refused as such.
    ['CSV text', Buffer.from(`a,b\n1,2\n3,4\n${process.pid},${Date.now()}\n`), 'not a Parquet file: it must start and end with the bytes "PAR1"'],
    ['a Parquet file cut short', severalGroups(300).subarray(0, -100), 'not a Parquet file: it must start and end with the bytes "PAR1"'],
  ])('refuses %s stored as Parquet (registered without the client checks), and leaves nothing', async (_what, bytes, message) => {
    const sha = sha256(bytes);
    const key = datasetKey(sha, 'parquet');
    await p.platform.store.putBytes(bucket(), key, bytes);
    const refused = await createDatasetActivities(p.platform)
      .registerDatasetFile({ name: 'not.parquet', objectKey: key, sha256: sha, format: 'parquet' })
      .catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ApplicationFailure);
    expect(refused).toMatchObject({ nonRetryable: true, type: 'DatasetFormatError', message });
    expect(await p.platform.store.stat(bucket(), key)).toBeUndefined();
  });

  it('holds one row group, never the file: live memory at every batch stays far below the file size', async () => {
    const rows = 1_000_000;
    const groups = 16;
    // Made in a function of its own so that nothing of the bytes stays reachable once stored.
    const { key, sha, size } = await (async () => {
      const column = (name: string, value: (i: number) => number) => ({ name, data: Float64Array.from({ length: rows }, (_, i) => value(i)), type: 'DOUBLE' as const });
      const bytes = Buffer.from(
        parquetWriteBuffer({
          columnData: [column('a', (i) => Math.sin(i)), column('b', (i) => Math.cos(i) * 3), column('c', (i) => i / rows), column('d', (i) => ((i * 7919) % 10007) / 10007)],
          rowGroupSize: rows / groups,
          codec: 'UNCOMPRESSED',
        }),
      );
      const sha = sha256(bytes);
      const key = datasetKey(sha, 'parquet');
      await p.platform.store.putBytes(bucket(), key, bytes);
      return { key, sha, size: bytes.length };
    })();
    expect(size).toBeGreaterThan(rows * 4 * 8);

    const gc = garbageCollector();
    const live = () => {
      gc();
      const usage = process.memoryUsage();
      return usage.heapUsed + usage.arrayBuffers;
    };
    /**
     * What is live once V8 has also swept the freed ArrayBuffers' memory (it does so concurrently,
     * after the collection): three readings in a row that no longer fall. One steady pair was not
     * enough on a busy machine, where the sweeper can miss a 20 ms tick and leave the baseline high.
     */
    async function settledLive(): Promise<number> {
      let last = live();
      let steady = 0;
      for (let i = 0; i < 100 && steady < 3; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        const now = live();
        steady = last - now < 64 * 1024 ? steady + 1 : 0;
        last = Math.min(last, now);
      }
      return last;
    }
    /** The most memory kept alive, above what was live before, at any batch of `batches`. */
    async function peakGrowth(batches: () => AsyncIterable<DatasetTable>): Promise<{ peak: number; profile: DatasetProfile; batches: number }> {
      // A request first, so that what the client kept of the last one (a PUT's body) is gone from the baseline.
      await p.platform.store.getRange(bucket(), key, 0, 4);
      const profiler = new DatasetProfiler();
      const before = await settledLive();
      let peak = 0;
      let count = 0;
      for await (const batch of batches()) {
        profiler.add(batch);
        count++;
        peak = Math.max(peak, (await settledLive()) - before);
      }
      return { peak, profile: profiler.result(), batches: count };
    }

    const ranged = await peakGrowth(() => parquetFormat.storedBatches!(stored(key, sha), {}));
    // The measure sees a file held in memory: the streamed-then-collected path holds all of it.
    const collected = await peakGrowth(() => parquetFormat.batches(p.platform.store.streamVerified(bucket(), key, sha), {}));

    expect(ranged.batches).toBe(groups);
    expect(ranged.profile).toEqual(collected.profile);
    expect(ranged.profile.rows).toBe(rows);
    // The measure sees what a batch holds (its features alone are rows/groups × 4 doubles, less
    // whatever the baseline held and the collector freed meanwhile) and a file held whole (the
    // collected path holds it and its copy); the ranged path, one batch.
    expect(ranged.peak).toBeGreaterThanOrEqual((rows / groups) * 4 * 8 * 0.5);
    expect(collected.peak).toBeGreaterThan(size);
    expect(ranged.peak).toBeLessThan(size / 4);
    await p.platform.store.remove(bucket(), key);
  }, 120_000);
});
