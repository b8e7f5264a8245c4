/**
 * Parquet datasets, read with hyparquet (pure JavaScript, no native code). Flat columns only;
 * feature columns must hold numbers (any integer, float, double or decimal type), the label
 * 0/1 (or booleans), the id any scalar. Compression: uncompressed, Snappy (hyparquet), gzip and
 * Brotli (Node's zlib); a file using another codec is refused with its name.
 */
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { parquetMetadata, parquetRead, parquetSchema } from 'hyparquet';
import type { AsyncBuffer, Compressors, FileMetaData } from 'hyparquet';
import type { DatasetTable } from './table';
import { DatasetFormatError } from './datasetError';
import { checkHeader, TableBuilder, type TableReadOptions } from './tableBuilder';

const MAGIC = 'PAR1';

export const compressors: Compressors = {
  GZIP: (input) => new Uint8Array(gunzipSync(input)),
  BROTLI: (input) => new Uint8Array(brotliDecompressSync(input)),
};
const SUPPORTED_CODECS = new Set(['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'BROTLI']);

export function isParquet(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 12 &&
    Buffer.from(bytes.buffer, bytes.byteOffset, 4).toString('latin1') === MAGIC &&
    Buffer.from(bytes.buffer, bytes.byteOffset + bytes.length - 4, 4).toString('latin1') === MAGIC
  );
}

function asyncBuffer(bytes: Uint8Array): AsyncBuffer {
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return { byteLength: ab.byteLength, slice: (start, end) => ab.slice(start, end) };
}

interface OpenParquet {
  file: AsyncBuffer;
  metadata: FileMetaData;
  header: string[];
  totalRows: number;
}

function openParquet(bytes: Uint8Array): OpenParquet {
  if (bytes.length === 0) throw new DatasetFormatError('empty file: 0 bytes');
  if (!isParquet(bytes)) throw new DatasetFormatError('not a Parquet file: it must start and end with the bytes "PAR1"');
  const file = asyncBuffer(bytes);
  let metadata: FileMetaData;
  try {
    metadata = parquetMetadata(file.slice(0) as ArrayBuffer);
  } catch (err) {
    throw new DatasetFormatError(`unreadable Parquet footer: ${(err as Error).message}`);
  }
  return { file, metadata, ...checkedSchema(metadata) };
}

/** The footer's column names and row count, after refusing what the readers cannot read (nested columns, other codecs). */
export function checkedSchema(metadata: FileMetaData): { header: string[]; totalRows: number } {
  const schema = parquetSchema(metadata);
  const header = schema.children.map((c) => c.element.name);
  checkHeader(header, 'Parquet schema');
  for (const child of schema.children) {
    if (child.children.length > 0 || child.element.repetition_type === 'REPEATED') {
      throw new DatasetFormatError(`column "${child.element.name}" is nested (a struct, list or map); only flat columns are supported`, undefined, child.element.name);
    }
  }
  for (const group of metadata.row_groups) {
    for (const column of group.columns) {
      const codec = column.meta_data?.codec;
      if (codec && !SUPPORTED_CODECS.has(codec)) {
        throw new DatasetFormatError(`column "${column.meta_data?.path_in_schema.join('.')}" uses ${codec} compression; supported: ${[...SUPPORTED_CODECS].join(', ')}`);
      }
    }
  }
  return { header, totalRows: Number(metadata.num_rows) };
}

async function readRows(open: OpenParquet, rowStart: number, rowEnd: number): Promise<unknown[][]> {
  let rows: unknown[][] = [];
  try {
    await parquetRead({ file: open.file, metadata: open.metadata, rowStart, rowEnd, compressors, rowFormat: 'array', onComplete: (r) => (rows = r) });
  } catch (err) {
    throw new DatasetFormatError(`unreadable Parquet data in rows ${rowStart + 1}-${rowEnd}: ${(err as Error).message}`);
  }
  return rows;
}

/** Yields the file's rows one row group at a time (row groups are the unit Parquet writers bound). */
export async function* parquetBatches(bytes: Uint8Array, options: TableReadOptions = {}): AsyncGenerator<DatasetTable> {
  const open = openParquet(bytes);
  if (open.totalRows === 0) throw new DatasetFormatError('empty file: the Parquet file has a schema but no rows');
  let start = 0;
  for (const group of open.metadata.row_groups) {
    const end = start + Number(group.num_rows);
    if (end === start) continue;
    const rows = await readRows(open, start, end);
    const builder = new TableBuilder(open.header, options, rows.length);
    rows.forEach((row, i) => builder.add(row, `row ${start + i + 1}`));
    yield builder.build(start, end);
    start = end;
  }
}

/** Reads a whole Parquet file (or data rows [rowStart, rowEnd)) into one table. */
export async function readParquet(bytes: Uint8Array, options: TableReadOptions & { rowStart?: number; rowEnd?: number } = {}): Promise<DatasetTable> {
  const open = openParquet(bytes);
  if (open.totalRows === 0) throw new DatasetFormatError('empty file: the Parquet file has a schema but no rows');
  const rowStart = options.rowStart ?? 0;
  const rowEnd = Math.min(options.rowEnd ?? open.totalRows, open.totalRows);
  const rows = rowEnd > rowStart ? await readRows(open, rowStart, rowEnd) : [];
  const builder = new TableBuilder(open.header, options, rows.length);
  rows.forEach((row, i) => builder.add(row, `row ${rowStart + i + 1}`));
  return builder.build(rowStart, open.totalRows);
}
