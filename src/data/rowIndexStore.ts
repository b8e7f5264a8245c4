/**
 * A text dataset's row index (csvIndex.ts) in the object store, beside the dataset: saved at
 * registration, loaded by planning and by every chunk, and used to read a byte range checked
 * against the index's block CRCs. CSV and JSON lines share it; each says how it counts rows.
 */
import { blockSpan, CsvIndexBuilder, CsvIndexError, decodeCsvIndex, encodeCsvIndex, firstCorruptBlock, indexedRowStart, type CsvIndex } from './csvIndex';
import { csvRowIndex } from './csvRowIndex';
import { tap } from './tap';
import { ChecksumMismatchError, CorruptRangeError, type ObjectStore } from '../storage/objectStore';

/** Where a dataset's index is and the sha256 it was written with: what a job's chunks verify it by. */
export interface CsvIndexRef {
  key: string;
  sha256: string;
}

/** How one text format counts its rows: the index key, its builder, and a row's offset in a stride. */
export interface RowIndexKind {
  /** The index object's key for the dataset with these bytes. */
  key(datasetSha256: string): string;
  builder(): CsvIndexBuilder;
  /** Where the `row`-th row (0-based) starts in `bytes`, which begin at a row's start. */
  rowStartIn(bytes: Buffer, row: number): number;
}

export async function saveCsvIndex(store: ObjectStore, bucket: string, key: string, index: CsvIndex): Promise<CsvIndexRef> {
  const stored = await store.putBytes(bucket, key, encodeCsvIndex(index));
  return { key: stored.key, sha256: stored.sha256 };
}

export async function loadCsvIndex(store: ObjectStore, bucket: string, ref: CsvIndexRef): Promise<CsvIndex> {
  return decodeCsvIndex(await store.getVerifiedBytes(bucket, ref.key, ref.sha256));
}

/**
 * The dataset's index, read when it is there, else built in one pass over the dataset (which
 * verifies the dataset's sha256 on the way) and saved for the next job. An index that is
 * unreadable or corrupt is built again rather than trusted or fatal.
 */
export async function ensureCsvIndex(
  dataset: { store: ObjectStore; bucket: string; key: string; sha256: string; indexes?: { store: ObjectStore; bucket: string } },
  onProgress: (bytes: number) => void,
  kind: RowIndexKind = csvRowIndex,
): Promise<{ index: CsvIndex; ref: CsvIndexRef; built: boolean }> {
  // The index is kept beside the dataset unless the dataset says otherwise (a read-only bucket).
  const { store, bucket } = dataset.indexes ?? dataset;
  const key = kind.key(dataset.sha256);
  const stored = await store.stat(bucket, key);
  if (stored?.sha256) {
    try {
      const ref = { key, sha256: stored.sha256 };
      return { index: await loadCsvIndex(store, bucket, ref), ref, built: false };
    } catch (err) {
      if (!(err instanceof ChecksumMismatchError || err instanceof CsvIndexError)) throw err;
    }
  }
  let bytes = 0;
  const builder = kind.builder();
  for await (const piece of tap(dataset.store.streamVerified(dataset.bucket, dataset.key, dataset.sha256), (p) => {
    bytes += p.length;
    onProgress(bytes);
  })) {
    builder.push(piece);
  }
  const index = builder.finish();
  return { index, ref: await saveCsvIndex(store, bucket, key, index), built: true };
}

/**
 * Bytes [start, end) of an indexed dataset, checked against the index's block CRCs: the whole
 * blocks around the range are read and verified, then the range is cut out of them.
 */
export async function readIndexedRange(store: ObjectStore, bucket: string, key: string, index: CsvIndex, start: number, end: number, into?: Buffer): Promise<Buffer> {
  const { readStart, readEnd } = blockSpan(index, start, end);
  const bytes = await store.getRange(bucket, key, readStart, readEnd, into);
  const corrupt = firstCorruptBlock(index, readStart, bytes);
  if (corrupt >= 0) throw new CorruptRangeError(bucket, key, corrupt, index.blockBytes);
  return bytes.subarray(start - readStart, end - readStart);
}

/** Where data row `row` starts: straight from the index for rows on its stride, else by scanning the one stride that holds it. */
export async function rowStartFromIndex(store: ObjectStore, bucket: string, key: string, kind: RowIndexKind, index: CsvIndex, row: number): Promise<number> {
  const indexed = indexedRowStart(index, row);
  if (indexed !== undefined) return indexed;
  const entry = Math.floor(row / index.rowStride);
  const from = index.rowStarts[entry];
  const stride = await readIndexedRange(store, bucket, key, index, from, index.rowStarts[entry + 1]);
  return from + kind.rowStartIn(stride, row - entry * index.rowStride);
}
