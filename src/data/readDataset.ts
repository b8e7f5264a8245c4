/**
 * One entry for every dataset format: bytes (or a byte stream) + format → DatasetTable(s), so
 * callers never care which format a dataset came in. Each format's module (formats/) does the work.
 */
import type { CsvReadOptions } from './csv';
import { datasetFormat } from './formats';
import type { DatasetTable } from './table';

export { DATASET_FORMATS, formatFromFileName, isDatasetFormat, isGzipName } from './formats';
export type { DatasetFormatName } from './formats';

export type DatasetReadOptions = Pick<CsvReadOptions, 'labelColumn' | 'idColumn' | 'featureColumns' | 'rowStart' | 'rowEnd' | 'cellTypes' | 'defaultCellType' | 'withCategoryText'>;

/** Reads a whole dataset (or rows [rowStart, rowEnd)) into one table. */
export async function readDataset(bytes: Buffer, format: string, options: DatasetReadOptions = {}): Promise<DatasetTable> {
  return datasetFormat(format).read(bytes, options);
}

/** Streams a dataset in batches of rows; memory stays bounded for CSV and JSON lines (Parquet needs its footer: the file is collected first). */
export async function* datasetBatches(
  source: AsyncIterable<Buffer>,
  format: string,
  options: Omit<DatasetReadOptions, 'rowStart' | 'rowEnd'> & { batchBytes?: number } = {},
): AsyncGenerator<DatasetTable> {
  yield* datasetFormat(format).batches(source, options);
}
