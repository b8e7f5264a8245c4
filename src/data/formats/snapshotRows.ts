/**
 * Every row of a pinned source, chunk by chunk at its objects' own boundaries: what training
 * streams through its sample. Memory is one chunk's bytes, never the source.
 */
import { BufferPool } from '../bufferPool';
import type { CsvIndex } from '../csvIndex';
import { LruCache } from '../lruCache';
import type { Matrix } from '../../scoring/matrix';
import type { FeatureCellType } from '../cellValues';
import { datasetFormat } from './index';
import { SNAPSHOT_FORMAT } from './names';
import { loadSnapshot, type StoredSnapshot } from './snapshot';

/** Rows per chunk read for training: big enough to amortise a chunk's requests, small enough to hold. */
const TRAINING_CHUNK_ROWS = 250_000;
const BLOCK_ROWS = 65_536;

/**
 * With `cellTypes` (a model's categories and timestamps), each batch carries the texts of its
 * category codes, for the encoder's level names.
 */
export async function* snapshotRows(
  dataset: StoredSnapshot,
  featureColumns: string[],
  cellTypes?: Readonly<Record<string, FeatureCellType>>,
): AsyncGenerator<{ features: Matrix; firstRow: number; labels?: undefined; categoryText?: Map<number, string> }> {
  const format = datasetFormat(SNAPSHOT_FORMAT);
  const snapshot = await loadSnapshot(dataset);
  const list = await format.planChunks(dataset, snapshot.rows, TRAINING_CHUNK_ROWS, () => undefined);
  const caches = { indexes: new LruCache<CsvIndex>(4), heads: new LruCache<unknown>(16), buffers: new BufferPool(1) };
  for (let c = 0; c < list.chunks; c++) {
    const spec = { rowStart: list.rowBounds[c], rowEnd: list.rowBounds[c + 1], from: list.bounds[c], to: list.bounds[c + 1], shared: list.shared };
    let firstRow = spec.rowStart;
    const read = cellTypes ? { columns: { featureColumns, cellTypes }, withCategoryText: true } : { columns: { featureColumns } };
    for await (const block of format.readChunk(dataset, spec, { ...read, blockRows: BLOCK_ROWS, rowsDone: 0 }, caches)) {
      yield { features: block.features, firstRow, ...(block.categoryText ? { categoryText: block.categoryText } : {}) };
      firstRow += block.features.rows;
    }
  }
}

/**
 * Every row's key in a pinned source, in the job's row order, in batches: the id column's
 * values, or `object#row` (1-based) when there is none. Without an id column nothing but the
 * snapshot is read; with one, the ids are read beside one of the model's columns.
 */
export async function* snapshotRowKeys(dataset: StoredSnapshot, idColumn: string | null, featureColumn: string): AsyncGenerator<string[]> {
  const snapshot = await loadSnapshot(dataset);
  if (!idColumn) {
    for (const part of snapshot.parts) {
      for (let from = 0; from < part.rows; from += BLOCK_ROWS) {
        const to = Math.min(part.rows, from + BLOCK_ROWS);
        yield Array.from({ length: to - from }, (_, i) => `${part.key}#${from + i + 1}`);
      }
    }
    return;
  }
  const format = datasetFormat(SNAPSHOT_FORMAT);
  const list = await format.planChunks(dataset, snapshot.rows, TRAINING_CHUNK_ROWS, () => undefined);
  const caches = { indexes: new LruCache<CsvIndex>(4), heads: new LruCache<unknown>(16), buffers: new BufferPool(1) };
  for (let c = 0; c < list.chunks; c++) {
    const spec = { rowStart: list.rowBounds[c], rowEnd: list.rowBounds[c + 1], from: list.bounds[c], to: list.bounds[c + 1], shared: list.shared };
    // The feature column is read as a category: any value is one, whatever the model made of it.
    const columns = { featureColumns: [featureColumn], idColumn, cellTypes: { [featureColumn]: 'category' as const } };
    for await (const block of format.readChunk(dataset, spec, { columns, blockRows: BLOCK_ROWS, rowsDone: 0 }, caches)) {
      yield block.ids ?? [];
    }
  }
}
