/**
 * Parquet behind the format seam. A chunk is one row group or a run of them (the unit Parquet
 * writers bound), so a chunk fetches, by byte-range GETs, only the footer and its own row
 * groups' column chunks for the columns it needs, never the file. The file's sha256 was
 * verified when it was registered; its key is its sha256, so the bytes under it never change.
 */
import { parquetMetadataAsync } from 'hyparquet';
import type { AsyncBuffer, FileMetaData } from 'hyparquet';
import { DatasetFormatError, DatasetMismatchError } from '../datasetError';
import { addParquetRows, checkedSchema, parquetBatches, readParquet } from '../parquet';
import type { DatasetTable } from '../table';
import { TableBuilder, type TableReadOptions } from '../tableBuilder';
import type { ChunkList } from './chunks';
import type { ChunkReadCaches, DatasetFormat, StoredDataset } from './format';

const MAGIC = 'PAR1';

/** The footer is usually a few KB; a bigger one costs a second read (hyparquet asks for the rest). */
const FOOTER_FETCH_BYTES = 16 * 1024;

/** The stored object as hyparquet's AsyncBuffer: every slice is one range GET. */
async function rangeFile(dataset: StoredDataset): Promise<AsyncBuffer> {
  const stat = await dataset.store.stat(dataset.bucket, dataset.key);
  if (!stat) throw new DatasetMismatchError(`dataset object ${dataset.bucket}/${dataset.key} is missing`);
  return {
    byteLength: stat.size,
    async slice(start, end = stat.size) {
      const bytes = await dataset.store.getRange(dataset.bucket, dataset.key, start, end);
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
}

interface OpenedParquet {
  file: AsyncBuffer;
  metadata: FileMetaData;
  header: string[];
  totalRows: number;
}

/** The same refusal as for bytes in memory (parquet.ts), from two small range reads. */
async function assertParquetMagic(file: AsyncBuffer): Promise<void> {
  const magic = async (start: number) => Buffer.from(await file.slice(start, start + MAGIC.length)).toString('latin1');
  if (file.byteLength < 12 || (await magic(0)) !== MAGIC || (await magic(file.byteLength - MAGIC.length)) !== MAGIC) {
    throw new DatasetFormatError(`not a Parquet file: it must start and end with the bytes "${MAGIC}"`);
  }
}

async function openStored(dataset: StoredDataset, checkMagic = false): Promise<OpenedParquet> {
  const file = await rangeFile(dataset);
  if (checkMagic) await assertParquetMagic(file);
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(file, { initialFetchSize: Math.min(FOOTER_FETCH_BYTES, file.byteLength) });
  } catch (err) {
    throw new DatasetFormatError(`unreadable Parquet footer: ${(err as Error).message}`);
  }
  return { file, metadata, ...checkedSchema(metadata) };
}

/**
 * Rows [start, end) of the stored file's `columns` as a table (within one row group only its
 * column chunks are fetched), decoded column by column; the decoded columns are garbage once it
 * returns, so nothing but the table is held while the caller works.
 */
async function readGroupTable(opened: OpenedParquet, columns: string[], start: number, end: number, options: TableReadOptions, totalRows = end): Promise<DatasetTable> {
  const builder = new TableBuilder(columns, options, end - start);
  await addParquetRows(builder, opened.file, opened.metadata, columns, start, end);
  return builder.build(start, totalRows);
}

/**
 * Runs of whole row groups of at least `chunkRows` rows each (the last may be smaller); with
 * chunkRows ≥ rows / maxChunks that keeps the count of chunks within the policy's maximum.
 */
export function rowGroupChunks(groupRows: number[], chunkRows: number): Pick<ChunkList, 'rowBounds' | 'bounds'> {
  const rowBounds = [0];
  const bounds = [0];
  let rows = 0;
  let inChunk = 0;
  groupRows.forEach((n, group) => {
    rows += n;
    inChunk += n;
    if (inChunk >= chunkRows || group === groupRows.length - 1) {
      if (inChunk > 0) {
        rowBounds.push(rows);
        bounds.push(group + 1);
      }
      inChunk = 0;
    }
  });
  return { rowBounds, bounds };
}

export const parquetFormat: DatasetFormat = {
  name: 'parquet',
  read: (bytes, options) => readParquet(bytes, options),
  async *batches(source, options) {
    // Parquet needs its footer first: a stream is collected before it is read (registration
    // reads a stored file by ranges instead: storedBatches).
    const pieces: Buffer[] = [];
    for await (const piece of source) pieces.push(piece);
    yield* parquetBatches(Buffer.concat(pieces), options);
  },

  /** Registration: the footer, then one row group at a time, each by its own range reads (parquetBatches, without the whole file). */
  async *storedBatches(dataset, options) {
    const opened = await openStored(dataset, true);
    if (opened.totalRows === 0) throw new DatasetFormatError('empty file: the Parquet file has a schema but no rows');
    const rowEnd = Math.min(options.rowEnd ?? Infinity, opened.totalRows);
    let start = 0;
    for (const group of opened.metadata.row_groups) {
      if (start >= rowEnd) break;
      const end = Math.min(start + Number(group.num_rows), rowEnd);
      if (end === start) continue;
      yield await readGroupTable(opened, opened.header, start, end, options);
      start = end;
    }
  },

  async open(dataset) {
    const opened = await openStored(dataset);
    return { rows: opened.totalRows, columns: opened.header };
  },

  async planChunks(dataset, rows, chunkRows) {
    const { metadata, totalRows } = await openStored(dataset);
    if (totalRows !== rows) throw new DatasetMismatchError(`dataset ${dataset.key} has ${totalRows} rows, but its record says ${rows}`);
    const { rowBounds, bounds } = rowGroupChunks(metadata.row_groups.map((g) => Number(g.num_rows)), chunkRows);
    return { chunks: rowBounds.length - 1, rowBounds, bounds, shared: {} };
  },

  async *readChunk(dataset, chunk, read, caches: ChunkReadCaches) {
    const opened = (await caches.heads.getOrLoad(`parquet-footer:${dataset.sha256}`, () => openStored(dataset))) as OpenedParquet;
    const { featureColumns, idColumn } = read.columns;
    const columns = idColumn ? [...featureColumns.filter((c) => c !== idColumn), idColumn] : featureColumns;
    for (const column of columns) {
      if (!opened.header.includes(column)) throw new DatasetFormatError(`column "${column}" is not in the Parquet file`, undefined, column);
    }
    // One read per row group (each fetches that group's column chunks once), cut into blocks.
    const first = chunk.rowStart + read.rowsDone;
    const ranges: Array<[number, number]> = [];
    let groupStart = 0;
    for (const group of opened.metadata.row_groups) {
      const groupEnd = groupStart + Number(group.num_rows);
      const start = Math.max(groupStart, first);
      const end = Math.min(groupEnd, chunk.rowEnd);
      groupStart = groupEnd;
      if (start < end) ranges.push([start, end]);
    }
    const readGroup = ([start, end]: [number, number]) => {
      const table = readGroupTable(opened, columns, start, end, { ...read.columns, withCategoryText: read.withCategoryText }, opened.totalRows);
      // Handled here too: a consumer that stops early never awaits the group read ahead.
      table.catch(() => undefined);
      return table;
    };
    // The next group is fetched and decoded while this one's blocks are scored: one group ahead.
    let ahead = ranges.length > 0 ? readGroup(ranges[0]) : undefined;
    for (let g = 0; g < ranges.length; g++) {
      const table = await ahead!;
      ahead = g + 1 < ranges.length ? readGroup(ranges[g + 1]) : undefined;
      for (let at = 0; at < table.features.rows; at += read.blockRows) {
        const to = Math.min(at + read.blockRows, table.features.rows);
        // The group's texts ride on each of its blocks (one map, shared).
        yield { features: table.features.sliceRows(at, to), ids: table.ids?.slice(at, to), ...(table.categoryText ? { categoryText: table.categoryText } : {}) };
      }
    }
  },
};
