/**
 * CSV behind the format seam: chunks are byte ranges found from the row index, each read by
 * one range GET (checked against the index's CRCs) and parsed block by block where it lies.
 */
import { readCsv } from '../csv';
import type { CsvIndex } from '../csvIndex';
import { CsvLayoutScanner } from '../csvLayout';
import { csvBatches } from '../csvStream';
import { DatasetMismatchError } from '../datasetError';
import { csvRowIndex } from '../csvRowIndex';
import { ensureCsvIndex, loadCsvIndex, readIndexedRange, type CsvIndexRef } from '../rowIndexStore';
import type { ChunkList, ChunkSpec } from './chunks';
import { indexLocation, type ChunkBlock, type ChunkRead, type ChunkReadCaches, type DatasetFormat, type StoredDataset } from './format';
import { refusingForeignText } from './signature';
import { textChunkList } from './textChunks';


/** The CSV-only part of a chunk list: the header's end and the row index the chunks check their bytes against. */
export function csvShared(headerEnd: number, index?: CsvIndexRef): ChunkList['shared'] {
  return index ? { headerEnd, index: { key: index.key, sha256: index.sha256 } } : { headerEnd };
}

export const csvFormat: DatasetFormat = {
  name: 'csv',
  read: async (bytes, options) => readCsv(bytes, options),
  batches: (source, options) => csvBatches(refusingForeignText(source, 'csv'), options),
  rowIndex: csvRowIndex,

  async open(dataset, onProgress) {
    const { index } = await ensureCsvIndex(dataset, onProgress, csvRowIndex);
    const header = readCsv(await readIndexedRange(dataset.store, dataset.bucket, dataset.key, index, 0, index.headerEnd), { allowNoRows: true }).header;
    return { rows: index.dataRows, columns: header };
  },

  async planChunks(dataset, rows, chunkRows, onProgress) {
    const { index, ref } = await ensureCsvIndex(dataset, onProgress, csvRowIndex);
    return textChunkList(dataset, csvRowIndex, index, rows, chunkRows, csvShared(index.headerEnd, ref));
  },

  async *readChunk(dataset, chunk, read, caches) {
    yield* csvChunkBlocks(dataset, chunk, read, caches);
  },
};

/**
 * The chunk's rows from byte `resumeAt` on (a resumed attempt skips what is done), cut into
 * blocks of `blockRows` rows, each parsed where it lies in the bytes read (not copied behind a
 * copy of the header), with the file's line numbers. A block's features are valid until the
 * next block is asked for: every block is parsed into the same buffer.
 */
async function* csvChunkBlocks(dataset: StoredDataset, chunk: ChunkSpec, read: ChunkRead, caches: ChunkReadCaches): AsyncGenerator<ChunkBlock> {
  const { store, bucket, key } = dataset;
  const headerEnd = chunk.shared.headerEnd as number;
  const ref = chunk.shared.index as unknown as CsvIndexRef | undefined;
  const indexes = indexLocation(dataset);
  const index = ref && (await caches.indexes.getOrLoad(ref.sha256, () => loadCsvIndex(indexes.store, indexes.bucket, ref)));
  const readRange = (start: number, end: number, into?: Buffer) =>
    index ? readIndexedRange(store, bucket, key, index, start, end, into) : store.getRange(bucket, key, start, end, into);
  const header = (await caches.heads.getOrLoad(`csv-header:${dataset.sha256}`, () => readRange(0, headerEnd))) as Buffer;
  const from = read.resumeAt ?? chunk.from;
  // The CRC-checked read spans whole index blocks around the range.
  const buffer = caches.buffers.take(chunk.to - from + (index ? 2 * index.blockBytes : 0));
  try {
    yield* blocksOf(chunk, read, header, await readRange(from, chunk.to, buffer), from);
  } finally {
    caches.buffers.give(buffer);
  }
}

function* blocksOf(chunk: ChunkSpec, read: ChunkRead, header: Buffer, bytes: Buffer, from: number): Generator<ChunkBlock> {
  const scanner = new CsvLayoutScanner(read.blockRows);
  scanner.push(header);
  scanner.push(bytes);
  const layout = scanner.finish();
  const expected = chunk.rowEnd - chunk.rowStart - read.rowsDone;
  if (layout.dataRows !== expected) throw new DatasetMismatchError(`bytes ${from}-${chunk.to} hold ${layout.dataRows} rows, expected ${expected}`);
  const starts = layout.chunkStarts.map((offset) => offset - header.length);
  let line = chunk.rowStart + read.rowsDone + 2;
  const features = new Float64Array(read.blockRows * read.columns.featureColumns.length);
  for (let b = 0; b + 1 < starts.length; b++) {
    const table = readCsv(header, {
      body: bytes.subarray(starts[b], starts[b + 1]),
      featureColumns: read.columns.featureColumns,
      idColumn: read.columns.idColumn,
      cellTypes: read.columns.cellTypes,
      withCategoryText: read.withCategoryText,
      firstDataLine: line,
      into: features,
    });
    line += table.features.rows;
    yield { features: table.features, ids: table.ids, next: from + starts[b + 1], ...(table.categoryText ? { categoryText: table.categoryText } : {}) };
  }
}

export type { CsvIndex };
