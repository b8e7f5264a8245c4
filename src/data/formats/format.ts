/**
 * The seam every dataset format implements. Activities and workflows hold a format's name and
 * the opaque chunk list it planned; only the module behind this interface knows the bytes.
 */
import type { BufferPool } from '../bufferPool';
import type { FeatureCellType } from '../cellValues';
import type { CsvIndex } from '../csvIndex';
import type { LruCache } from '../lruCache';
import type { Matrix } from '../../scoring/matrix';
import type { ObjectStore } from '../../storage/objectStore';
import type { DatasetTable } from '../table';
import type { TableReadOptions } from '../tableBuilder';
import type { RowIndexKind } from '../rowIndexStore';
import type { ChunkList, ChunkSpec } from './chunks';
import type { DatasetFormatName } from './names';

/**
 * A dataset's bytes in an object store. A registered dataset is content-addressed (its sha256
 * never changes); an object of a source is pinned by its sha256 (text, hashed while indexing)
 * or its ETag and size.
 */
export interface StoredDataset {
  store: ObjectStore;
  bucket: string;
  key: string;
  sha256: string;
  /** Where its row index is kept when not beside it: an object in someone else's (read-only) bucket. */
  indexes?: IndexLocation;
}

export interface IndexLocation {
  store: ObjectStore;
  bucket: string;
}

/** Where a dataset's row index lives: beside it unless it says otherwise. */
export function indexLocation(dataset: StoredDataset): IndexLocation {
  return dataset.indexes ?? dataset;
}

/** What a worker keeps between chunks of one dataset: every chunk of a job needs the same ones. */
export interface ChunkReadCaches {
  /** Row indexes by their sha256. */
  indexes: LruCache<CsvIndex>;
  /** Small per-dataset facts (a CSV's header line, a Parquet footer), by dataset sha256. */
  heads: LruCache<unknown>;
  /** Buffers for a chunk's bytes, reused by the next chunk. */
  buffers: BufferPool;
}

/** Rows of a chunk, at most `blockRows` of them, features in a Matrix. */
export interface ChunkBlock {
  features: Matrix;
  ids?: string[];
  /** Without ids: the i-th row's key in its source (object and row), asked only for the rows flagged. */
  rowKey?: (i: number) => string;
  /** Where the rows after this block start, in the format's terms, when it can resume from there. */
  next?: number;
  /** With `withCategoryText`: code → text of the category values in this block (training keeps them as the levels' names). */
  categoryText?: Map<number, string>;
}

export interface ChunkRead {
  /** The columns a chunk reads; `cellTypes` says which features are categories or timestamps (default all numbers). */
  columns: { featureColumns: string[]; idColumn?: string; cellTypes?: Readonly<Record<string, FeatureCellType>> };
  /** Each block carries the texts of its category codes (training on a source; scoring needs none: the model knows its levels). */
  withCategoryText?: boolean;
  blockRows: number;
  /** Rows of the chunk already done (a resumed attempt), and where they end when the format said so. */
  rowsDone: number;
  resumeAt?: number;
}

/** What opening a dataset tells without reading its rows. */
export interface DatasetShape {
  rows: number;
  columns: string[];
}

export interface DatasetFormat {
  readonly name: DatasetFormatName;
  /** Reads a whole file held in memory (or data rows [rowStart, rowEnd)). */
  read(bytes: Buffer, options: TableReadOptions & { rowStart?: number; rowEnd?: number }): Promise<DatasetTable>;
  /** Streams a whole file in batches of rows, memory bounded where the format allows. */
  batches(source: AsyncIterable<Buffer>, options: TableReadOptions & { batchBytes?: number }): AsyncGenerator<DatasetTable>;
  /**
   * Reads a stored object batch by batch by range reads, for formats that cannot stream
   * (Parquet: footer first, then row group by row group), so registering a file of many GiB
   * holds one batch, never the file. Same batches as `batches` over the same bytes; the
   * object's sha256 is the caller's to verify first (ranges carry no checksum). With `rowEnd`,
   * only the rows before it (a sample: its cells only are decoded, not the whole row group's).
   */
  storedBatches?(dataset: StoredDataset, options: TableReadOptions & { rowEnd?: number }): AsyncGenerator<DatasetTable>;
  /** Text formats: how their row index counts rows and where it is kept (registration builds it in its one pass over the file). */
  readonly rowIndex?: RowIndexKind;
  /** Rows and columns, from the footer or the row index (built once when missing), never from the rows. */
  open(dataset: StoredDataset, onProgress: (bytes: number) => void): Promise<DatasetShape>;
  /** Cuts the dataset into chunks of about `chunkRows` rows each, at the format's own boundaries. */
  planChunks(dataset: StoredDataset, rows: number, chunkRows: number, onProgress: (bytes: number) => void): Promise<ChunkList>;
  /** One chunk's rows, block by block: only the chunk's own bytes and, where the format allows, only the columns asked for. */
  readChunk(dataset: StoredDataset, chunk: ChunkSpec, read: ChunkRead, caches: ChunkReadCaches): AsyncGenerator<ChunkBlock>;
}
