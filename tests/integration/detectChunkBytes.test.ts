import { parquetWriteBuffer } from 'hyparquet-writer';
import { BufferPool } from '../../src/data/bufferPool';
import { datasetFormat, type ChunkList, type ChunkReadCaches, type DatasetFormatName, type StoredDataset } from '../../src/data/formats';
import { LruCache } from '../../src/data/lruCache';
import { readDataset } from '../../src/data/readDataset';
import { chunkAt } from '../../src/workflows/chunkPlan';
import { ObjectStore, sha256Hex } from '../../src/storage/objectStore';
import { datasetKey } from '../../src/storage/keys';
import { SeededRandom } from '../../src/scoring/random';
import { startTestPlatform, type TestPlatform } from '../support/testPlatform';

const ROWS = 160_000;
const FEATURES = 4;
/** Columns no model here reads: Parquet chunks must not fetch them. */
const UNUSED = 4;
const CHUNK_ROWS = 40_000;

/** The real store on the real MinIO, counting the bytes every read brings back. */
class CountingStore extends ObjectStore {
  fetched = 0;
  reads = 0;
  override async getRange(bucket: string, key: string, start: number, end: number, into?: Buffer): Promise<Buffer> {
    const bytes = await super.getRange(bucket, key, start, end, into);
    this.fetched += bytes.length;
    this.reads += 1;
    return bytes;
  }
  override async getVerifiedBytes(bucket: string, key: string, expectedSha256?: string): Promise<Buffer> {
    const bytes = await super.getVerifiedBytes(bucket, key, expectedSha256);
    this.fetched += bytes.length;
    this.reads += 1;
    return bytes;
  }
  override async *streamVerified(bucket: string, key: string, expectedSha256: string): AsyncGenerator<Buffer> {
    this.reads += 1;
    for await (const piece of super.streamVerified(bucket, key, expectedSha256)) {
      this.fetched += piece.length;
      yield piece;
    }
  }
}

function table(): { ids: string[]; columns: number[][] } {
  const random = new SeededRandom(5);
  const columns = Array.from({ length: FEATURES + UNUSED }, () => Array.from({ length: ROWS }, () => Math.round((random.next() - 0.5) * 1e5) / 1e3));
  return { ids: Array.from({ length: ROWS }, (_, i) => `r${i}`), columns };
}

const names = Array.from({ length: FEATURES + UNUSED }, (_, j) => (j < FEATURES ? `f${j}` : `unused${j}`));
const featureColumns = names.slice(0, FEATURES);

function fileOf(format: DatasetFormatName, { ids, columns }: ReturnType<typeof table>): Buffer {
  if (format === 'parquet') {
    return Buffer.from(
      parquetWriteBuffer({
        columnData: [{ name: 'id', data: ids, type: 'STRING' }, ...names.map((name, j) => ({ name, data: columns[j], type: 'DOUBLE' as const }))],
        rowGroupSize: 20_000,
      }),
    );
  }
  const lines = ids.map((id, i) =>
    format === 'csv' ? [id, ...columns.map((c) => c[i])].join(',') : JSON.stringify(Object.fromEntries([['id', id], ...names.map((n, j) => [n, columns[j][i]])])),
  );
  return Buffer.from(`${format === 'csv' ? `${['id', ...names].join(',')}\n` : ''}${lines.join('\n')}\n`);
}

/**
 * Each chunk of a multi-chunk dataset fetches its own bytes from MinIO, not the file: text
 * formats their byte range (and the row index), Parquet the footer and its own row groups'
 * column chunks for the columns the model reads.
 */
describe('a chunk fetches only its own bytes, in every format', () => {
  let p: TestPlatform;
  let store: CountingStore;
  const data = table();

  beforeAll(async () => {
    p = await startTestPlatform([]);
    store = new CountingStore(p.platform.store.client);
  });
  afterAll(async () => {
    await p?.stop();
  });

  it.each(['csv', 'jsonl', 'parquet'] as const)('%s', async (format) => {
    const bytes = fileOf(format, data);
    const sha256 = sha256Hex(bytes);
    const dataset: StoredDataset = { store, bucket: p.config.buckets.datasets, key: datasetKey(sha256, format), sha256 };
    await store.putBytes(dataset.bucket, dataset.key, bytes);
    const reader = datasetFormat(format);
    // Registration builds a text format's row index in its pass over the file; planning reuses it.
    if (reader.rowIndex) {
      const builder = reader.rowIndex.builder();
      builder.push(bytes);
      const { saveCsvIndex } = await import('../../src/data/rowIndexStore');
      await saveCsvIndex(store, dataset.bucket, reader.rowIndex.key(sha256), builder.finish());
    }

    store.fetched = 0;
    // Opening tells rows and columns from the index or the footer, not from the rows.
    expect(await reader.open(dataset, () => undefined)).toEqual({ rows: ROWS, columns: ['id', ...names] });
    expect(store.fetched).toBeLessThan(bytes.length / 10);

    store.fetched = 0;
    const list: ChunkList = await reader.planChunks(dataset, ROWS, CHUNK_ROWS, () => undefined);
    expect(list.chunks).toBe(4);
    expect(store.fetched).toBeLessThan(bytes.length / 10); // planning reads the index or the footer, not the rows

    const whole = await readDataset(bytes, format, { featureColumns, idColumn: 'id' });
    const perChunk: number[] = [];
    for (let i = 0; i < list.chunks; i++) {
      const chunk = chunkAt(list, i);
      // A worker that has seen no chunk of this dataset: the index, header or footer are fetched too.
      const caches: ChunkReadCaches = { indexes: new LruCache(4), heads: new LruCache(4), buffers: new BufferPool(1) };
      store.fetched = 0;
      let row = chunk.rowStart;
      for await (const block of reader.readChunk(dataset, chunk, { columns: { featureColumns, idColumn: 'id' }, blockRows: 4096, rowsDone: 0 }, caches)) {
        const expected = whole.features.sliceRows(row, row + block.features.rows);
        expect(Array.from(block.features.data.subarray(0, block.features.rows * FEATURES))).toEqual(Array.from(expected.data.subarray(0, expected.rows * FEATURES)));
        expect(block.ids).toEqual(whole.ids!.slice(row, row + block.features.rows));
        row += block.features.rows;
      }
      expect(row).toBe(chunk.rowEnd);
      perChunk.push(store.fetched);
    }
    // A quarter of the rows, plus for text the whole CRC blocks (256 KiB) around the range and the
    // header's block, or for Parquet the footer; Parquet fetches only the model's columns (half of
    // them), so under a quarter of the file.
    for (const fetched of perChunk) expect(fetched).toBeLessThan(bytes.length * (format === 'parquet' ? 0.2 : 0.4));
    console.log(`${format}: file ${bytes.length} bytes, each chunk fetched ${perChunk.join(', ')}`);
  });

  it('a pinned source: each chunk fetches its own object\'s row groups and footer (plus the small snapshot and plan)', async () => {
    const { pinSource } = await import('../../src/sources/pinSource');
    const lake = `nomaly-test-bytes-lake-${process.pid}`;
    await store.ensureBuckets([lake]);
    const half = ROWS / 2;
    const objects = [0, 1].map((part) => fileOf('parquet', { ids: data.ids.slice(part * half, (part + 1) * half), columns: data.columns.map((c) => c.slice(part * half, (part + 1) * half)) }));
    for (const [part, bytes] of objects.entries()) await store.putBytes(lake, `events/dt=2026-11-01/part-${part}.parquet`, bytes);
    const storeOf = () => store;
    const indexes = { store, bucket: p.config.buckets.datasets };
    const source = { kind: 'objects', connection: 'platform', bucket: lake, prefix: 'events/dt={date}/', format: 'parquet' } as const;
    const pinned = await pinSource({ config: p.config, store, storeOf }, source, { start: '2026-11-01T00:00:00.000Z', end: '2026-11-02T00:00:00.000Z' }, 'UTC', () => undefined);
    expect(pinned).toMatchObject({ rows: ROWS, objects: 2 });
    const snapshot = { store, bucket: p.config.buckets.datasets, key: pinned.snapshotKey, sha256: pinned.snapshotSha256, storeOf, indexes };
    const reader = datasetFormat('snapshot');
    const list = await reader.planChunks(snapshot, ROWS, CHUNK_ROWS, () => undefined);
    expect(list.chunks).toBe(4);
    const whole = await readDataset(fileOf('parquet', data), 'parquet', { featureColumns, idColumn: 'id' });
    for (let i = 0; i < list.chunks; i++) {
      const caches: ChunkReadCaches = { indexes: new LruCache(4), heads: new LruCache(4), buffers: new BufferPool(1) };
      store.fetched = 0;
      let row = list.rowBounds[i];
      for await (const block of reader.readChunk(snapshot, chunkAt(list, i), { columns: { featureColumns, idColumn: 'id' }, blockRows: 4096, rowsDone: 0 }, caches)) {
        expect(block.ids).toEqual(whole.ids!.slice(row, row + block.features.rows));
        row += block.features.rows;
      }
      expect(row).toBe(list.rowBounds[i + 1]);
      // Its object is half the file; the chunk is half of that object's rows and half its columns.
      expect(store.fetched).toBeLessThan(objects[Math.floor(i / 2)].length * 0.4);
    }
    await store.removeMany(lake, await store.listKeys(lake, ''));
    await store.client.removeBucket(lake);
  });
});
