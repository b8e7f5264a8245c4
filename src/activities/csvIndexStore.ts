import { blockSpan, buildCsvIndex, CsvIndexError, decodeCsvIndex, encodeCsvIndex, firstCorruptBlock, indexedRowStart, type CsvIndex } from '../data/csvIndex';
import { CsvLayoutScanner } from '../data/csvLayout';
import { tap } from '../data/tap';
import { csvIndexKey } from '../storage/keys';
import { ChecksumMismatchError, CorruptRangeError, type ObjectStore } from '../storage/objectStore';

/** Where a dataset's index is and the sha256 it was written with: what a job's chunks verify it by. */
export interface CsvIndexRef {
  key: string;
  sha256: string;
}

export async function saveCsvIndex(store: ObjectStore, bucket: string, datasetSha256: string, index: CsvIndex): Promise<CsvIndexRef> {
  const stored = await store.putBytes(bucket, csvIndexKey(datasetSha256), encodeCsvIndex(index));
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
  store: ObjectStore,
  bucket: string,
  dataset: { key: string; sha256: string },
  onProgress: (bytes: number) => void,
): Promise<{ index: CsvIndex; ref: CsvIndexRef; built: boolean }> {
  const key = csvIndexKey(dataset.sha256);
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
  const source = store.streamVerified(bucket, dataset.key, dataset.sha256);
  const index = await buildCsvIndex(
    tap(source, (piece) => {
      bytes += piece.length;
      onProgress(bytes);
    }),
  );
  return { index, ref: await saveCsvIndex(store, bucket, dataset.sha256, index), built: true };
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

/**
 * Where each chunk's first row starts (and, last, where the last row ends): straight from the
 * index for rows on its stride, else by scanning the one stride that holds the row.
 */
export async function chunkStartsFromIndex(
  store: ObjectStore,
  bucket: string,
  key: string,
  index: CsvIndex,
  chunkRows: number,
): Promise<number[]> {
  const starts: number[] = [];
  for (let row = 0; row < index.dataRows; row += chunkRows) starts.push(indexedRowStart(index, row) ?? (await unindexedRowStart(store, bucket, key, index, row)));
  starts.push(indexedRowStart(index, index.dataRows)!);
  return starts;
}

async function unindexedRowStart(store: ObjectStore, bucket: string, key: string, index: CsvIndex, row: number): Promise<number> {
  const entry = Math.floor(row / index.rowStride);
  const from = index.rowStarts[entry];
  const stride = await readIndexedRange(store, bucket, key, index, from, index.rowStarts[entry + 1]);
  // The scanner takes its first line as the header: an empty one, so the stride's rows count from 0.
  const scanner = new CsvLayoutScanner(row - entry * index.rowStride);
  scanner.push(Buffer.from('\n'));
  scanner.push(stride);
  const found = scanner.finish().chunkStarts[1];
  return from + found - 1;
}
