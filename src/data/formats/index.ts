/**
 * The one list of dataset formats and their modules. Adding a format: a module implementing
 * DatasetFormat, its name in names.ts, and its entry here.
 */
import { DatasetFormatError } from '../datasetError';
import { csvFormat } from './csv';
import type { DatasetFormat } from './format';
import { jsonLinesFormat } from './jsonLines';
import { DATASET_FORMATS, FORMAT_EXTENSIONS, GZIP_EXTENSION, isGzipName, type DatasetFormatName } from './names';
import { parquetFormat } from './parquet';
import { SNAPSHOT_FORMAT, snapshotFormat } from './snapshot';

const FORMATS: Record<DatasetFormatName, DatasetFormat> = {
  csv: csvFormat,
  jsonl: jsonLinesFormat,
  parquet: parquetFormat,
};

/** A pinned source's objects, each read by its own format from this list. */
const SNAPSHOT = snapshotFormat((name) => datasetFormat(name));

/** The module of a format, or a DatasetFormatError naming the known ones. */
export function datasetFormat(name: string): DatasetFormat {
  if (name === SNAPSHOT_FORMAT) return SNAPSHOT;
  const format = (FORMATS as Record<string, DatasetFormat | undefined>)[name];
  if (!format) throw new DatasetFormatError(`unknown dataset format "${name}"; supported: ${DATASET_FORMATS.join(', ')}`);
  return format;
}

/** The format a file name's extension says (`.csv.gz` is CSV, compressed), or a DatasetFormatError naming the known extensions. */
export function formatFromFileName(name: string): DatasetFormatName {
  const compressed = isGzipName(name);
  const match = /\.([A-Za-z0-9]+)$/.exec(compressed ? name.slice(0, -GZIP_EXTENSION.length - 1) : name);
  const ext = match ? match[1].toLowerCase() : '';
  const format = FORMAT_EXTENSIONS[ext];
  if (compressed && format === 'parquet') {
    throw new DatasetFormatError(`${name}: a gzip-compressed Parquet file; Parquet compresses its own pages: upload the .${ext} file itself`);
  }
  if (!format) {
    throw new DatasetFormatError(
      `${name}: unknown file type ${ext ? `".${ext}${compressed ? `.${GZIP_EXTENSION}` : ''}"` : '(no extension)'}; supported: ${Object.keys(FORMAT_EXTENSIONS).map((e) => `.${e}`).join(', ')}, and .csv.gz, .jsonl.gz, .ndjson.gz (gzip-compressed)`,
    );
  }
  return format;
}

export { DATASET_FORMATS, isDatasetFormat, isGzipName, type DatasetFormatName } from './names';
export type { ChunkList, ChunkSpec } from './chunks';
export type { ChunkBlock, ChunkRead, ChunkReadCaches, DatasetFormat, StoredDataset } from './format';
