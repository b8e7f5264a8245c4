/**
 * JSON lines behind the format seam: the same row index as CSV (with lines for rows and no
 * header), so a chunk reads only its own byte range, checked against the index's CRCs.
 */
import { CsvIndexBuilder } from '../csvIndex';
import type { CsvLayout } from '../csvLayout';
import { DatasetFormatError, DatasetMismatchError } from '../datasetError';
import { jsonLinesBatches, readJsonLines } from '../jsonLines';
import { ensureCsvIndex, loadCsvIndex, readIndexedRange, type CsvIndexRef, type RowIndexKind } from '../rowIndexStore';
import { datasetKey } from '../../storage/keys';
import { indexLocation, type DatasetFormat } from './format';
import { refusingForeignText } from './signature';
import { textChunkList } from './textChunks';

const LF = 10;

/** A line holds a row unless it is only spaces, tabs and carriage returns (the reader skips those). */
function isBlank(byte: number): boolean {
  return byte === 32 || byte === 9 || byte === 13 || byte === 11 || byte === 12;
}

/** Counts JSON lines' rows as the reader does (every non-blank line; no header) and notes where every rowsPerChunk-th starts. */
export class JsonLinesLayoutScanner {
  private offset = 0;
  private lineStart = 0;
  private lineHasContent = false;
  private rows = 0;
  private lastRowEnd = 0;
  private readonly starts: number[] = [];

  constructor(private readonly rowsPerChunk: number) {
    if (!Number.isInteger(rowsPerChunk) || rowsPerChunk < 1) throw new RangeError(`rowsPerChunk must be a positive integer, got ${rowsPerChunk}`);
  }

  push(piece: Uint8Array): void {
    let i = 0;
    while (i < piece.length) {
      const newline = piece.indexOf(LF, i);
      const end = newline < 0 ? piece.length : newline;
      for (let p = i; !this.lineHasContent && p < end; p++) if (!isBlank(piece[p])) this.lineHasContent = true;
      if (newline < 0) break;
      this.endLine(this.offset + newline + 1);
      i = newline + 1;
    }
    this.offset += piece.length;
  }

  finish(): CsvLayout {
    if (this.lineHasContent) this.endLine(this.offset);
    return { headerEnd: 0, dataRows: this.rows, chunkStarts: [...this.starts, this.lastRowEnd] };
  }

  private endLine(nextLineStart: number): void {
    if (this.lineHasContent) {
      if (this.rows % this.rowsPerChunk === 0) this.starts.push(this.lineStart);
      this.rows++;
      this.lastRowEnd = nextLineStart;
    }
    this.lineStart = nextLineStart;
    this.lineHasContent = false;
  }
}

export const jsonLinesRowIndex: RowIndexKind = {
  key: (sha256) => `${datasetKey(sha256, 'jsonl')}.index`,
  builder: () => new CsvIndexBuilder(undefined, undefined, (n) => new JsonLinesLayoutScanner(n)),
  rowStartIn(bytes, row) {
    const scanner = new JsonLinesLayoutScanner(row);
    scanner.push(bytes);
    return scanner.finish().chunkStarts[1];
  },
};

export const jsonLinesFormat: DatasetFormat = {
  name: 'jsonl',
  async read(bytes, options) {
    const table = readJsonLines(bytes, options);
    const start = Math.min(options.rowStart ?? 0, table.features.rows);
    const end = Math.min(options.rowEnd ?? table.features.rows, table.features.rows);
    if (start === 0 && end === table.features.rows) return table;
    return {
      ...table,
      features: table.features.sliceRows(start, Math.max(start, end)),
      labels: table.labels?.slice(start, end),
      ids: table.ids?.slice(start, end),
      firstRow: start,
    };
  },
  batches: (source, options) => jsonLinesBatches(refusingForeignText(source, 'jsonl'), options),
  rowIndex: jsonLinesRowIndex,

  async open(dataset, onProgress) {
    const { index } = await ensureCsvIndex(dataset, onProgress, jsonLinesRowIndex);
    const first = index.dataRows > 0 ? await readIndexedRange(dataset.store, dataset.bucket, dataset.key, index, index.rowStarts[0], firstRowEnd(index)) : Buffer.alloc(0);
    return { rows: index.dataRows, columns: index.dataRows > 0 ? firstRowKeys(first) : [] };
  },

  async planChunks(dataset, rows, chunkRows, onProgress) {
    const { index, ref } = await ensureCsvIndex(dataset, onProgress, jsonLinesRowIndex);
    return textChunkList(dataset, jsonLinesRowIndex, index, rows, chunkRows, { index: { key: ref.key, sha256: ref.sha256 } });
  },

  /**
   * Reads the chunk's byte range, then yields its rows after those already done in blocks.
   * Line numbers in errors count from the chunk's first line (registration read the whole file
   * and refused it had it been malformed).
   */
  async *readChunk(dataset, chunk, read, caches) {
    const { store, bucket, key } = dataset;
    const ref = chunk.shared.index as unknown as CsvIndexRef;
    const indexes = indexLocation(dataset);
    const index = await caches.indexes.getOrLoad(ref.sha256, () => loadCsvIndex(indexes.store, indexes.bucket, ref));
    const bytes = await readIndexedRange(store, bucket, key, index, chunk.from, chunk.to);
    const table = readJsonLines(bytes, { ...read.columns, withCategoryText: read.withCategoryText });
    const expected = chunk.rowEnd - chunk.rowStart;
    if (table.features.rows !== expected) throw new DatasetMismatchError(`bytes ${chunk.from}-${chunk.to} hold ${table.features.rows} rows, expected ${expected}`);
    for (let start = read.rowsDone; start < table.features.rows; start += read.blockRows) {
      const end = Math.min(start + read.blockRows, table.features.rows);
      // The chunk's texts ride on each of its blocks (one map, shared).
      yield { features: table.features.sliceRows(start, end), ids: table.ids?.slice(start, end), ...(table.categoryText ? { categoryText: table.categoryText } : {}) };
    }
  },
};

/** The first row's keys: the columns, whatever their values (only the columns a job reads must be numbers). */
function firstRowKeys(bytes: Buffer): string[] {
  const end = bytes.indexOf(0x0a);
  let row: unknown;
  try {
    row = JSON.parse(bytes.subarray(0, end === -1 ? bytes.length : end).toString('utf8'));
  } catch (err) {
    throw new DatasetFormatError(`line 1 is not JSON: ${(err as Error).message}`, 1);
  }
  if (typeof row !== 'object' || row === null || Array.isArray(row)) throw new DatasetFormatError('line 1 is not a JSON object', 1);
  return Object.keys(row);
}

/** Where the first row ends: the index notes only every stride-th row's start, so at most one stride is read. */
function firstRowEnd(index: { rowStarts: Float64Array }): number {
  return index.rowStarts[1];
}
