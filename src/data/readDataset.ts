/**
 * One entry for every dataset format: bytes (or a byte stream) + format → CsvTable(s), so
 * activities never care which format a dataset came in.
 */
import { readCsv, type CsvReadOptions, type CsvTable } from './csv';
import { csvBatches } from './csvStream';
import { DatasetFormatError } from './datasetError';
import { wrongFileSignature } from './fileSignature';
import { jsonLinesBatches, readJsonLines } from './jsonLines';
import { parquetBatches, readParquet } from './parquet';

export const DATASET_FORMATS = ['csv', 'jsonl', 'parquet'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

const EXTENSIONS: Record<string, DatasetFormat> = {
  csv: 'csv',
  jsonl: 'jsonl',
  ndjson: 'jsonl',
  parquet: 'parquet',
  pq: 'parquet',
};

/** The format a file name's extension says, or a DatasetFormatError naming the known ones. */
export function formatFromFileName(name: string): DatasetFormat {
  const match = /\.([A-Za-z0-9]+)$/.exec(name);
  const ext = match ? match[1].toLowerCase() : '';
  const format = EXTENSIONS[ext];
  if (!format) {
    throw new DatasetFormatError(
      `${name}: unknown file type ${ext ? `".${ext}"` : '(no extension)'}; supported: ${Object.keys(EXTENSIONS).map((e) => `.${e}`).join(', ')}`,
    );
  }
  return format;
}

export function isDatasetFormat(format: string): format is DatasetFormat {
  return (DATASET_FORMATS as readonly string[]).includes(format);
}

export type DatasetReadOptions = Pick<CsvReadOptions, 'labelColumn' | 'idColumn' | 'featureColumns' | 'rowStart' | 'rowEnd'>;

/** Reads a whole dataset (or rows [rowStart, rowEnd)) into one table. */
export async function readDataset(bytes: Buffer, format: string, options: DatasetReadOptions = {}): Promise<CsvTable> {
  switch (format) {
    case 'csv':
      return readCsv(bytes, options);
    case 'jsonl': {
      const table = readJsonLines(bytes, options);
      return sliceRows(table, options.rowStart, options.rowEnd);
    }
    case 'parquet':
      return readParquet(bytes, options);
    default:
      throw new DatasetFormatError(`unknown dataset format "${format}"; supported: ${DATASET_FORMATS.join(', ')}`);
  }
}

/** Streams a dataset in batches of rows; memory stays bounded for CSV and JSON lines (Parquet needs its footer: the file is collected first). */
export async function* datasetBatches(
  source: AsyncIterable<Buffer>,
  format: string,
  options: Omit<DatasetReadOptions, 'rowStart' | 'rowEnd'> & { batchBytes?: number } = {},
): AsyncGenerator<CsvTable> {
  switch (format) {
    case 'csv':
      yield* csvBatches(refusingForeignText(source, format), options);
      return;
    case 'jsonl':
      yield* jsonLinesBatches(refusingForeignText(source, format), options);
      return;
    case 'parquet': {
      const chunks: Buffer[] = [];
      for await (const chunk of source) chunks.push(chunk);
      yield* parquetBatches(Buffer.concat(chunks), options);
      return;
    }
    default:
      throw new DatasetFormatError(`unknown dataset format "${format}"; supported: ${DATASET_FORMATS.join(', ')}`);
  }
}

/** The source, after checking that its first bytes are not an archive's or a Parquet file's. */
async function* refusingForeignText(source: AsyncIterable<Buffer>, format: DatasetFormat): AsyncGenerator<Buffer> {
  const SIGNATURE_BYTES = 4;
  let head: Buffer | undefined = Buffer.alloc(0);
  for await (const chunk of source) {
    if (!head) {
      yield chunk;
      continue;
    }
    head = Buffer.concat([head, chunk]);
    if (head.length < SIGNATURE_BYTES) continue;
    refuseForeign(format, head);
    yield head;
    head = undefined;
  }
  if (head?.length) {
    refuseForeign(format, head);
    yield head;
  }
}

function refuseForeign(format: DatasetFormat, head: Buffer): void {
  const wrong = wrongFileSignature(format, head, head);
  if (wrong) throw new DatasetFormatError(wrong, 1);
}

function sliceRows(table: CsvTable, rowStart?: number, rowEnd?: number): CsvTable {
  if (rowStart === undefined && rowEnd === undefined) return table;
  const start = Math.min(rowStart ?? 0, table.features.rows);
  const end = Math.min(rowEnd ?? table.features.rows, table.features.rows);
  const sliced: CsvTable = {
    ...table,
    features: table.features.selectRows(Int32Array.from({ length: Math.max(0, end - start) }, (_, i) => start + i)),
    firstRow: start,
  };
  if (table.labels) sliced.labels = table.labels.slice(start, end);
  if (table.ids) sliced.ids = table.ids.slice(start, end);
  return sliced;
}
