/**
 * Chunks of a text dataset (CSV, JSON lines): runs of `chunkRows` rows, each known by the byte
 * offset of its first row, read from the row index (a row off the index's stride costs one
 * stride's range read), so planning never reads the file itself.
 */
import type { CsvIndex } from '../csvIndex';
import { DatasetMismatchError } from '../datasetError';
import { rowStartFromIndex, type RowIndexKind } from '../rowIndexStore';
import type { ChunkList } from './chunks';
import type { StoredDataset } from './format';

export async function textChunkList(
  dataset: StoredDataset,
  kind: RowIndexKind,
  index: CsvIndex,
  rows: number,
  chunkRows: number,
  shared: ChunkList['shared'],
): Promise<ChunkList> {
  if (index.dataRows !== rows) throw new DatasetMismatchError(`dataset ${dataset.key} has ${index.dataRows} rows, but its record says ${rows}`);
  const rowBounds: number[] = [];
  const bounds: number[] = [];
  for (let row = 0; row < rows; row += chunkRows) {
    rowBounds.push(row);
    bounds.push(await rowStartFromIndex(dataset.store, dataset.bucket, dataset.key, kind, index, row));
  }
  rowBounds.push(rows);
  bounds.push(index.rowStarts[index.rowStarts.length - 1]);
  return { chunks: rowBounds.length - 1, rowBounds, bounds, shared };
}
