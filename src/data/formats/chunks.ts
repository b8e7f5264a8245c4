/**
 * What planning hands the workflow and the workflow hands each chunk: plain JSON, the same shape
 * for every format. The workflow reads only the row bounds; `bounds` and `shared` mean something
 * to the format alone (byte offsets for text, row-group numbers for Parquet).
 */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface ChunkList {
  chunks: number;
  /** rowBounds[i] is chunk i's first data row; the last entry is the dataset's row count. */
  rowBounds: number[];
  /** Where each chunk starts in the format's own terms; the last entry is where the last chunk ends. */
  bounds: number[];
  /** What every chunk of this dataset needs (CSV: the header's end and the row index). */
  shared: { [key: string]: JsonValue };
}

/** One chunk of a ChunkList: rows [rowStart, rowEnd), and where they are in the format's terms. */
export interface ChunkSpec {
  rowStart: number;
  rowEnd: number;
  from: number;
  to: number;
  shared: ChunkList['shared'];
}
