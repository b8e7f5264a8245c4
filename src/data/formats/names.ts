/**
 * The dataset formats Nomaly reads, and the file extensions that name them: the one list the
 * client, the workflow inputs and the readers all take it from. Plain data, no I/O, so
 * workflow code may import it.
 */
export const DATASET_FORMATS = ['csv', 'jsonl', 'parquet'] as const;
export type DatasetFormatName = (typeof DATASET_FORMATS)[number];

/** Extension (lower case, no dot) → format. */
export const FORMAT_EXTENSIONS: Readonly<Record<string, DatasetFormatName>> = {
  csv: 'csv',
  jsonl: 'jsonl',
  ndjson: 'jsonl',
  parquet: 'parquet',
  pq: 'parquet',
};

/** The extension of a gzip-compressed text file (`.csv.gz`, `.jsonl.gz`): registration stores it decompressed (gzipDataset.ts). */
export const GZIP_EXTENSION = 'gz';

/** Is this a gzip-compressed file's name (ends in .gz)? */
export function isGzipName(name: string): boolean {
  return name.toLowerCase().endsWith(`.${GZIP_EXTENSION}`);
}

export function isDatasetFormat(format: string): format is DatasetFormatName {
  return (DATASET_FORMATS as readonly string[]).includes(format);
}

/** The format a job over a pinned source records: not a file's format, the list of its objects (./snapshot.ts). */
export const SNAPSHOT_FORMAT = 'snapshot';
