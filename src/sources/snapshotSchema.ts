/**
 * A pinned source's column types, inferred exactly as registration infers an upload's
 * (src/data/schemaInference.ts): from the first SAMPLE_ROWS rows of its first parts, in pinned
 * order. The types are kept beside the snapshot (the job's PinnedSource, a model's lineage),
 * never in it: the snapshot's sha256 says which data, whatever the code that typed it.
 */
import { DEFAULT_ID_COLUMN, DEFAULT_LABEL_COLUMN } from '../data/csv';
import { DatasetFormatError } from '../data/datasetError';
import { datasetFormat } from '../data/formats';
import { partName, type SnapshotPart, type StoreOf } from '../data/formats/snapshot';
import { SAMPLE_ROWS, SNIFF_BATCH_BYTES, SNIFF_OPTIONS, sniffSchema, type ColumnType } from '../data/schemaInference';
import type { DatasetTable } from '../data/table';
import type { IndexHome } from './pinObjects';

/** Parts read for the sample at most: a prefix of thousands of tiny objects is not read object by object. */
export const MAX_SAMPLED_PARTS = 32;

/** Names every reader gives a role when no other column has it: they are never sampled (nor features of a source). */
const ROLE_NAMES = new Set([DEFAULT_LABEL_COLUMN, DEFAULT_ID_COLUMN]);

/**
 * The types of the snapshot's `columns` (those every part has) but `label` and `id`, with only
 * the columns that are not plain numbers listed (what a workflow's history carries stays small):
 * a column absent is a number.
 */
export async function sniffSnapshotSchema(parts: readonly SnapshotPart[], columns: readonly string[], storeOf: StoreOf, indexes: IndexHome): Promise<Record<string, ColumnType>> {
  const sampled = columns.filter((c) => !ROLE_NAMES.has(c));
  if (sampled.length === 0) return {};
  const types = await sniffSchema(sampleTables(parts.filter((p) => p.rows > 0).slice(0, MAX_SAMPLED_PARTS), sampled, storeOf, indexes));
  return Object.fromEntries(Object.entries(types).filter(([, type]) => type !== 'number'));
}

/** Each part's batches in turn, the columns in the snapshot's order (parts may order them otherwise), read as registration samples. */
async function* sampleTables(parts: readonly SnapshotPart[], featureColumns: string[], storeOf: StoreOf, indexes: IndexHome): AsyncGenerator<DatasetTable> {
  const options = { ...SNIFF_OPTIONS, featureColumns };
  for (const part of parts) {
    const format = datasetFormat(part.format);
    const store = storeOf(part.connection);
    const dataset = { store, bucket: part.bucket, key: part.key, sha256: part.identity, indexes };
    try {
      if (format.storedBatches) yield* format.storedBatches(dataset, { ...options, rowEnd: SAMPLE_ROWS });
      else yield* format.batches(await store.getStream(part.bucket, part.key), { ...options, batchBytes: SNIFF_BATCH_BYTES });
    } catch (err) {
      // Name the object: a prefix holds many.
      throw err instanceof DatasetFormatError ? new DatasetFormatError(`${partName(part)}: ${err.message}`, err.line, err.column) : err;
    }
  }
}
