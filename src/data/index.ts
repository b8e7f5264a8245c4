export { DatasetFormatError } from './datasetError';
export { readCsv } from './csv';
export type { CsvReadOptions, CsvTable } from './csv';
export { csvBatches } from './csvStream';
export { readJsonLines, jsonLinesBatches } from './jsonLines';
export { readParquet, parquetBatches } from './parquet';
export { readDataset, datasetBatches, formatFromFileName, DATASET_FORMATS, type DatasetFormat } from './readDataset';
export { DatasetProfiler, type DatasetProfile, type ColumnProfile } from './profile';
export { RowReservoir, isHeldOut } from './reservoir';
