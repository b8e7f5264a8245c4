import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { CsvIndexBuilder } from '../data/csvIndex';
import { tap } from '../data/tap';
import { DatasetFormatError } from '../data/datasetError';
import { DatasetProfiler } from '../data/profile';
import { datasetBatches, isDatasetFormat } from '../data/readDataset';
import { Dataset } from '../db/entities';
import { datasetInfo, type DatasetInfo } from '../db/modelRegistry';
import { saveCsvIndex } from './csvIndexStore';
import type { ActivityDeps } from './deps';
import { failFastOnPermanent } from './failures';

export interface RegisterDatasetInput {
  name: string;
  objectKey: string;
  sha256: string;
  format: string;
}

/** What registration returns and `nomaly datasets show` prints: one shape, from the registry. */
export type DatasetSummary = DatasetInfo;

export function datasetIdFor(sha256: string): string {
  return `ds_${sha256.slice(0, 16)}`;
}


/** The running activity's heartbeat, or undefined when called outside an activity (a test). */
function activityHeartbeat(): ((details: unknown) => void) | undefined {
  try {
    const context = Context.current();
    return (details) => context.heartbeat(details);
  } catch {
    return undefined;
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function createDatasetActivities({ orm, store, config }: ActivityDeps) {
  return {
    /**
     * Validates an uploaded file in one streaming pass (types, row count, per-column profile) and
     * records it. Content-addressed: the same bytes always map to the same dataset, so a retry or
     * a second upload returns the existing row. A file that fails validation is removed from
     * MinIO before the error is raised, and no row is written: a rejected upload leaves nothing.
     */
    async registerDatasetFile(input: RegisterDatasetInput): Promise<DatasetSummary> {
      const em = orm.em.fork();
      const existing = await em.findOne(Dataset, { sha256: input.sha256 });
      if (existing) return datasetInfo(existing);
      const bucket = config.buckets.datasets;
      const reject = async (message: string): Promise<never> => {
        await store.remove(bucket, input.objectKey);
        throw ApplicationFailure.nonRetryable(message, 'DatasetFormatError');
      };
      if (!isDatasetFormat(input.format)) await reject(`unsupported dataset format "${input.format}" (supported: csv, jsonl, parquet)`);
      const stat = await store.stat(bucket, input.objectKey);
      if (!stat) throw ApplicationFailure.nonRetryable(`object ${bucket}/${input.objectKey} does not exist: upload the file first (nomaly datasets upload FILE)`, 'NotFound');
      if (stat.size === 0) await reject(`${input.name}: empty file (0 bytes)`);
      if (stat.size > config.datasets.maxBytes) {
        await reject(`${input.name}: ${mib(stat.size)} is over the dataset size limit of ${mib(config.datasets.maxBytes)} (raise NOMALY_MAX_DATASET_BYTES to accept it)`);
      }

      const profiler = new DatasetProfiler();
      // A CSV's row index comes from the same pass: jobs then plan without reading the file again.
      const indexer = input.format === 'csv' ? new CsvIndexBuilder() : undefined;
      try {
        await failFastOnPermanent(async () => {
          const heartbeat = activityHeartbeat();
          const source = store.streamVerified(bucket, input.objectKey, input.sha256);
          for await (const batch of datasetBatches(indexer ? tap(source, (piece) => indexer.push(piece)) : source, input.format)) {
            profiler.add(batch);
            heartbeat?.({ rows: batch.totalRows });
          }
        });
      } catch (err) {
        // A malformed or corrupt file: nothing of it stays. A transient error (network) just retries.
        if (err instanceof ApplicationFailure && err.nonRetryable) await store.remove(bucket, input.objectKey);
        if (err instanceof DatasetFormatError) await reject(err.message);
        throw err;
      }
      const profile = profiler.result();
      if (indexer) await saveCsvIndex(store, bucket, input.sha256, indexer.finish());
      const row = em.create(Dataset, {
        id: datasetIdFor(input.sha256),
        name: path.basename(input.name),
        sha256: input.sha256,
        objectKey: input.objectKey,
        format: input.format,
        sizeBytes: stat.size,
        rows: profile.rows,
        columns: profile.header,
        featureColumns: profile.featureColumns,
        labelColumn: profile.labelColumn,
        idColumn: profile.idColumn,
        columnProfiles: profile.columns,
        createdAt: new Date(),
      });
      await em.upsert(Dataset, row, { onConflictFields: ['sha256'], onConflictAction: 'ignore' });
      const stored = await em.fork().findOneOrFail(Dataset, { sha256: input.sha256 });
      return datasetInfo(stored);
    },
  };
}
