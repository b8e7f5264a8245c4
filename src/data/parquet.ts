/**
 * Parquet datasets, read with hyparquet (pure JavaScript, no native code). Flat columns only;
 * feature columns must hold numbers (any integer, float, double or decimal type) or booleans (1/0), the label
 * 0/1 (or booleans), the id any scalar. Compression: uncompressed, Snappy (hyparquet), gzip and
 * Brotli (Node's zlib); a file using another codec is refused with its name.
 */
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { parquetMetadata, parquetRead, parquetSchema } from 'hyparquet';
import type { AsyncBuffer, Compressors, FileMetaData } from 'hyparquet';
import type { DatasetTable } from './table';
import { DatasetFormatError } from './datasetError';
import { readNumericColumns, type NumericColumnsRead } from './parquetNumericColumns';
import { checkHeader, TableBuilder, type TableReadOptions } from './tableBuilder';
import type { FeatureCellType } from './cellValues';

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

/**
 * Rows [rowStart, rowEnd) of the named columns, each as the array the decoder produced (typed
 * where the column allows), never an array per row: Parquet is columnar, and so is this read.
 * Columns in `asNumbers` (read only as numbers: features, the label) go through the numeric fast
 * path where it applies (a Float64Array per column); the rest, and what it declines, through hyparquet.
 */
export async function readParquetColumns(
  file: AsyncBuffer,
  metadata: FileMetaData,
  columns: string[],
  rowStart: number,
  rowEnd: number,
  asNumbers: ReadonlySet<string> = new Set(),
): Promise<Map<string, ArrayLike<unknown>>> {
  return (await readParquetCells(file, metadata, columns, rowStart, rowEnd, new Map([...asNumbers].map((c) => [c, 'number'])))).values;
}

/** Columns read for a table: `converted` ones hold their numbers already (the fast path's), the rest what hyparquet decoded. */
export interface ParquetCells {
  values: Map<string, ArrayLike<unknown>>;
  converted: Set<string>;
}

/**
 * readParquetColumns for columns of any cell type: those in `asNumbers` (features, the label)
 * are decoded by the fast path into numbers, category codes or milliseconds where it applies;
 * `categoryText` collects the texts of the codes it decodes.
 */
export async function readParquetCells(
  file: AsyncBuffer,
  metadata: FileMetaData,
  columns: string[],
  rowStart: number,
  rowEnd: number,
  asNumbers: ReadonlyMap<string, FeatureCellType>,
  categoryText?: Map<number, string>,
): Promise<ParquetCells> {
  const out = new Map<string, ArrayLike<unknown>>();
  const converted = new Set<string>();
  let rest = columns;
  const numeric = columns.filter((c) => asNumbers.has(c));
  if (numeric.length > 0 && rowEnd > rowStart) {
    let fast: NumericColumnsRead;
    try {
      fast = await readNumericColumns(file, metadata, numeric, rowStart, rowEnd, compressors, { cellTypes: asNumbers, categoryText });
    } catch (err) {
      throw new DatasetFormatError(`unreadable Parquet data in rows ${rowStart + 1}-${rowEnd}: ${(err as Error).message}`);
    }
    for (const [name, values] of fast.values) {
      out.set(name, values);
      converted.add(name);
    }
    rest = columns.filter((c) => !fast.values.has(c));
  }
  if (rest.length > 0) for (const [name, values] of await readWithHyparquet(file, metadata, rest, rowStart, rowEnd)) out.set(name, values);
  return { values: out, converted };
}

/** Rows [rowStart, rowEnd) of `columns` into `builder`, column by column, each cell as the builder's options say. */
export async function addParquetRows(builder: TableBuilder, file: AsyncBuffer, metadata: FileMetaData, columns: string[], rowStart: number, rowEnd: number): Promise<void> {
  const texts = builder.wantsCategoryText ? new Map<number, string>() : undefined;
  const { values, converted } = await readParquetCells(file, metadata, columns, rowStart, rowEnd, builder.numericColumns, texts);
  if (texts) builder.addCategoryText(texts);
  builder.addColumns(values, rowEnd - rowStart, (i) => `row ${rowStart + i + 1}`, converted);
}

/** The columns through hyparquet's reader (any type, any encoding it knows), one array each. */
async function readWithHyparquet(file: AsyncBuffer, metadata: FileMetaData, columns: string[], rowStart: number, rowEnd: number): Promise<Map<string, ArrayLike<unknown>>> {
  const pieces = new Map<string, Array<{ at: number; data: ArrayLike<unknown> }>>(columns.map((c) => [c, []]));
  try {
    await parquetRead({
      file,
      metadata,
      columns,
      rowStart,
      rowEnd,
      compressors,
      onChunk: ({ columnName, columnData, rowStart: at }) => pieces.get(columnName)?.push({ at, data: columnData }),
    });
  } catch (err) {
    throw new DatasetFormatError(`unreadable Parquet data in rows ${rowStart + 1}-${rowEnd}: ${(err as Error).message}`);
  }
  const rows = rowEnd - rowStart;
  const out = new Map<string, ArrayLike<unknown>>();
  for (const [name, list] of pieces) {
    // Usually one piece per row group; a reader may hand pages, and rows around the range.
    if (list.length === 1 && list[0].at === rowStart && list[0].data.length === rows) {
      out.set(name, list[0].data);
      continue;
    }
    const values: unknown[] = new Array(rows);
    let filled = 0;
    for (const { at, data } of list) {
      for (let i = Math.max(0, rowStart - at); i < data.length && at + i < rowEnd; i++, filled++) values[at + i - rowStart] = data[i];
    }
    if (filled !== rows) throw new DatasetFormatError(`column "${name}": the file holds ${filled} values for rows ${rowStart + 1}-${rowEnd}, expected ${rows}`, undefined, name);
    out.set(name, values);
  }
  return out;
}

/** Rows [rowStart, rowEnd) of the file into `builder`, column by column. */
function addRows(builder: TableBuilder, open: Pick<OpenParquet, 'file' | 'metadata'>, columns: string[], rowStart: number, rowEnd: number): Promise<void> {
  return addParquetRows(builder, open.file, open.metadata, columns, rowStart, rowEnd);
}

/** Yields the file's rows one row group at a time (row groups are the unit Parquet writers bound). */
export async function* parquetBatches(bytes: Uint8Array, options: TableReadOptions = {}): AsyncGenerator<DatasetTable> {
  const open = openParquet(bytes);
  if (open.totalRows === 0) throw new DatasetFormatError('empty file: the Parquet file has a schema but no rows');
  let start = 0;
  for (const group of open.metadata.row_groups) {
    const end = start + Number(group.num_rows);
    if (end === start) continue;
    const builder = new TableBuilder(open.header, options, end - start);
    await addRows(builder, open, open.header, start, end);
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
  const builder = new TableBuilder(open.header, options, Math.max(rowEnd - rowStart, 0));
  if (rowEnd > rowStart) await addRows(builder, open, open.header, rowStart, rowEnd);
  return builder.build(rowStart, open.totalRows);
}
