import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { DATASET_FORMATS, datasetFormat, isDatasetFormat } from '../data/formats';
import { tap } from '../data/tap';
import { DatasetProfiler } from '../data/profile';
import { SAMPLE_ROWS, schemaReadOptions, sniffSchema, SNIFF_BATCH_BYTES, SNIFF_OPTIONS, type ColumnType } from '../data/schemaInference';
import type { TableReadOptions } from '../data/tableBuilder';
import type { CsvIndexBuilder } from '../data/csvIndex';
import type { DatasetFormat } from '../data/formats/format';
import type { DatasetTable } from '../data/table';
import { Dataset } from '../db/entities';
import { datasetInfo, type DatasetInfo } from '../db/modelRegistry';
import { saveCsvIndex } from '../data/rowIndexStore';
import { gunzipStored, isGzip } from '../data/gzipDataset';
import type { ActivityDeps } from './deps';
import { heartbeat } from './heartbeat';
import { deliverable, failFastOnPermanent } from './failures';
import type { DatasetSummary } from '../api/results';

export type { DatasetSummary };

export interface RegisterDatasetInput {
  name: string;
  objectKey: string;
  sha256: string;
  format: string;
}


export function datasetSummary(info: DatasetInfo): DatasetSummary {
  const { columns, columnProfiles: _profiles, ...summary } = info;
  return { ...summary, columnCount: columns.length };
}

export function datasetIdFor(sha256: string): string {
  return `ds_${sha256.slice(0, 16)}`;
}

/** A hash-only pass over a big file still shows a live worker, about once per this many bytes. */
const VERIFY_HEARTBEAT_BYTES = 64 * 1024 * 1024;

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function refused(message: string, type = 'DatasetFormatError'): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, type);
}

export function createDatasetActivities({ orm, store, config }: ActivityDeps) {
  const bucket = config.buckets.datasets;

  /** Same bytes, same dataset, but only as what it was registered as: another format or key is refused. */
  async function existingDataset(existing: Dataset, input: RegisterDatasetInput): Promise<DatasetSummary> {
    if (existing.format !== input.format || existing.objectKey !== input.objectKey) {
      // The bytes just put under the other key belong to no dataset; the registered ones stay.
      if (input.objectKey !== existing.objectKey) await store.remove(bucket, input.objectKey);
      throw refused(
        `these bytes are already dataset ${existing.id} ("${existing.name}"), registered as ${existing.format} at ${existing.objectKey}; ` +
          `registering them as ${input.format} at ${input.objectKey} is refused: use ${existing.id}, or upload the file with a .${existing.format} name`,
        'DatasetMismatch',
      );
    }
    if (!(await store.stat(bucket, existing.objectKey))) {
      throw refused(`dataset ${existing.id} is registered, but its object ${bucket}/${existing.objectKey} is missing: upload the file again (nomaly datasets upload FILE)`, 'NotFound');
    }
    return deliverable('registerDatasetFile', datasetSummary(datasetInfo(existing)));
  }

  /**
   * After a refusal, nothing of the upload stays: its object and a CSV index written before the
   * refusal. Unless a dataset row holds these bytes (a concurrent registration of the same file
   * that completed), whose object they are.
   */
  async function removeRefusedUpload(input: RegisterDatasetInput): Promise<void> {
    if (await orm.em.fork().findOne(Dataset, { sha256: input.sha256 })) return;
    const indexKey = isDatasetFormat(input.format) ? datasetFormat(input.format).rowIndex?.key(input.sha256) : undefined;
    await store.removeMany(bucket, indexKey ? [input.objectKey, indexKey] : [input.objectKey]);
  }

  /** A format read by ranges (Parquet) is verified first, in one pass that only hashes. */
  async function verifyStored(input: RegisterDatasetInput): Promise<void> {
    let bytes = 0;
    let reported = 0;
    for await (const piece of store.streamVerified(bucket, input.objectKey, input.sha256)) {
      bytes += piece.length;
      if (bytes - reported >= VERIFY_HEARTBEAT_BYTES) heartbeat({ verifiedBytes: (reported = bytes) });
    }
  }

  /**
   * The file's batches with its sha256 verified, memory bounded: streamed when the format can
   * stream; else (Parquet, verified by verifyStored before) range reads of the verified object.
   */
  async function* registrationBatches(format: DatasetFormat, input: RegisterDatasetInput, options: TableReadOptions, indexer?: CsvIndexBuilder): AsyncGenerator<DatasetTable> {
    if (format.storedBatches) {
      yield* format.storedBatches({ store, bucket, key: input.objectKey, sha256: input.sha256 }, options);
      return;
    }
    const source = store.streamVerified(bucket, input.objectKey, input.sha256);
    yield* format.batches(indexer ? tap(source, (piece) => indexer.push(piece)) : source, options);
  }

  /**
   * The feature columns' types, from the file's first rows (schemaInference.ts): a read of the
   * first batch (Parquet: the first SAMPLE_ROWS rows) only, before the one pass over the whole file.
   */
  function sniffedSchema(format: DatasetFormat, input: RegisterDatasetInput): Promise<Record<string, ColumnType>> {
    const sample = format.storedBatches
      ? format.storedBatches({ store, bucket, key: input.objectKey, sha256: input.sha256 }, { ...SNIFF_OPTIONS, rowEnd: SAMPLE_ROWS })
      : format.batches(store.streamVerified(bucket, input.objectKey, input.sha256), { ...SNIFF_OPTIONS, batchBytes: SNIFF_BATCH_BYTES });
    return sniffSchema(sample);
  }

  /** Streams, checks and profiles the file; the row is written last, only for a dataset that registered completely. */
  async function registerNew(input: RegisterDatasetInput): Promise<DatasetSummary> {
    if (!isDatasetFormat(input.format)) throw refused(`unsupported dataset format "${input.format}" (supported: ${DATASET_FORMATS.join(', ')})`);
    const stat = await store.stat(bucket, input.objectKey);
    if (!stat) throw refused(`object ${bucket}/${input.objectKey} does not exist: upload the file first (nomaly datasets upload FILE)`, 'NotFound');
    if (stat.size === 0) throw refused(`${input.name}: empty file (0 bytes)`);
    if (stat.size > config.datasets.maxBytes) {
      throw refused(`${input.name}: ${mib(stat.size)} is over the dataset size limit of ${mib(config.datasets.maxBytes)} (raise NOMALY_MAX_DATASET_BYTES to accept it)`);
    }

    const format = datasetFormat(input.format);
    if (!format.storedBatches && isGzip(await store.getRange(bucket, input.objectKey, 0, Math.min(2, stat.size)))) return registerGzip(input);
    return registerPlain(format, input, stat.size);
  }

  /**
   * A gzip-compressed text file: decompressed once into the plain file (gzipDataset.ts), which is
   * registered as the dataset; the compressed upload is removed once the dataset row exists.
   */
  async function registerGzip(input: RegisterDatasetInput): Promise<DatasetSummary> {
    let reported = 0;
    const onBytes = (bytes: number) => {
      if (bytes - reported >= VERIFY_HEARTBEAT_BYTES) heartbeat({ decompressedBytes: (reported = bytes) });
    };
    const plain = await gunzipStored(store, bucket, { key: input.objectKey, sha256: input.sha256, name: input.name }, input.format, config.datasets.maxBytes, onBytes);
    const plainInput = { ...input, objectKey: plain.key, sha256: plain.sha256 };
    const existing = await orm.em.fork().findOne(Dataset, { sha256: plain.sha256 });
    let summary: DatasetSummary;
    if (existing) summary = await existingDataset(existing, plainInput);
    else {
      try {
        summary = await failFastOnPermanent(() => registerPlain(datasetFormat(input.format), plainInput, plain.size, input.sha256));
      } catch (err) {
        if (err instanceof ApplicationFailure && err.nonRetryable) await removeRefusedUpload(plainInput);
        throw err;
      }
    }
    await store.remove(bucket, input.objectKey);
    return summary;
  }

  /** An uploaded .gz whose decompressed file is a dataset already: that dataset, and the upload removed. */
  async function existingCompressed(existing: Dataset, input: RegisterDatasetInput): Promise<DatasetSummary> {
    if (input.objectKey !== existing.objectKey) await store.remove(bucket, input.objectKey);
    return existingDataset(existing, { ...input, objectKey: existing.objectKey, sha256: existing.sha256, format: existing.format });
  }

  /** Infers the schema, streams, checks and profiles the file; the row is written last. */
  async function registerPlain(format: DatasetFormat, input: RegisterDatasetInput, sizeBytes: number, sourceSha256: string | null = null): Promise<DatasetSummary> {
    if (format.storedBatches) await verifyStored(input);
    const schema = await sniffedSchema(format, input);
    const profiler = new DatasetProfiler(schema);
    // A text format's row index comes from the same pass: jobs then plan without reading the file again.
    const indexer = format.rowIndex?.builder();
    for await (const batch of registrationBatches(format, input, schemaReadOptions(schema), indexer)) {
      profiler.add(batch);
      heartbeat({ rows: batch.totalRows });
    }
    const profile = profiler.result();
    if (indexer) await saveCsvIndex(store, bucket, format.rowIndex!.key(input.sha256), indexer.finish());
    const em = orm.em.fork();
    const row = em.create(Dataset, {
      id: datasetIdFor(input.sha256),
      name: path.basename(input.name) || input.name,
      sha256: input.sha256,
      objectKey: input.objectKey,
      format: input.format,
      sizeBytes,
      sourceSha256,
      rows: profile.rows,
      columns: profile.header,
      featureColumns: profile.featureColumns,
      labelColumn: profile.labelColumn,
      idColumn: profile.idColumn,
      columnProfiles: profile.columns,
      createdAt: new Date(),
    });
    // Checked before the row exists: a result that cannot be delivered must not leave a dataset behind.
    deliverable('registerDatasetFile', datasetSummary(datasetInfo(row)));
    await em.upsert(Dataset, row, { onConflictFields: ['sha256'], onConflictAction: 'ignore' });
    const stored = await orm.em.fork().findOneOrFail(Dataset, { sha256: input.sha256 });
    return datasetSummary(datasetInfo(stored));
  }

  return {
    /**
     * Validates an uploaded file in one streaming pass (types, row count, per-column profile) and
     * records it. Content-addressed: the same bytes always map to the same dataset, so a retry or
     * a second upload of them returns the existing row. A refused file leaves nothing: its
     * object and index are removed before the error is raised, and no row is written.
     */
    async registerDatasetFile(input: RegisterDatasetInput): Promise<DatasetSummary> {
      return failFastOnPermanent(async () => {
        const existing = await orm.em.fork().findOne(Dataset, { sha256: input.sha256 });
        if (existing) return existingDataset(existing, input);
        const decompressed = await orm.em.fork().findOne(Dataset, { sourceSha256: input.sha256 });
        if (decompressed) return existingCompressed(decompressed, input);
        try {
          return await failFastOnPermanent(() => registerNew(input));
        } catch (err) {
          // A malformed or corrupt file: nothing of it stays. A transient error (network) just retries.
          if (err instanceof ApplicationFailure && err.nonRetryable) await removeRefusedUpload(input);
          throw err;
        }
      });
    },
  };
}
