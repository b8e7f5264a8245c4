/**
 * What a detection job's scores.csv is made of (src/results/scoresCsv.ts): its score file, its
 * stored anomalies (which rows, their p-values and explanations), and the dataset's id column.
 * Used by the exportCsv activity and where a job had no CSV exported and one is asked for
 * afterwards (`nomaly results download`).
 */
import type { NomalyConfig } from '../config';
import { datasetBatches } from '../data/readDataset';
import { cellTypesOf } from '../data/profile';
import type { StoredSnapshot } from '../data/formats/snapshot';
import { snapshotRowKeys } from '../data/formats/snapshotRows';
import { decodeScoresFile } from './scoresFile';
import type { FlaggedRow, FlaggedRowsIn, ScoresCsvSource } from './scoresCsv';
import { Dataset, DetectionJob, Model } from '../db/entities';
import { explanationFromStored } from '../db/anomalies';
import type { Orm } from '../db/orm';
import { jobScoresKey } from '../storage/keys';
import type { ObjectStore } from '../storage/objectStore';

export class JobResultsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobResultsError';
  }
}

/** A completed job's record, or an error saying why its results (`what`: results to download, anomalies to list) cannot be had. */
export async function completedDetectionJob(orm: Orm, jobId: string, what = 'results to download'): Promise<DetectionJob> {
  const job = await orm.em.fork().findOne(DetectionJob, { id: jobId });
  if (!job) throw new JobResultsError(`no detection job ${jobId} (nomaly jobs --type detectBatch lists them)`);
  if (job.status !== 'completed') {
    throw new JobResultsError(`detection job ${jobId} is ${job.status}: only a completed job has ${what}${job.status === 'running' ? ' (wait for it: nomaly status ' + jobId + ')' : ''}`);
  }
  return job;
}

/**
 * `snapshot`: how to read a job over a source's snapshot (its objects through the workers'
 * connections); without it such a job's rows are keyed by object and row only when the source
 * has no id column.
 */
export async function jobScoresCsvSource(
  orm: Orm,
  store: ObjectStore,
  buckets: NomalyConfig['buckets'],
  job: DetectionJob,
  snapshot?: (key: string, sha256: string) => StoredSnapshot,
): Promise<ScoresCsvSource> {
  const file = await jobScoresFile(store, buckets, job);
  const scores = decodeScoresFile(await store.getVerifiedBytes(file.bucket, file.key, file.sha256));
  const ids = await jobRowKeys(orm, store, buckets, job, snapshot);
  return { scores, anomalies: jobAnomaliesIn(orm, job.id), ...(ids ? { ids } : {}) };
}

/** Where the job's score file is, with its recorded sha256; a JobResultsError when it is gone. */
export async function jobScoresFile(store: ObjectStore, buckets: NomalyConfig['buckets'], job: DetectionJob): Promise<{ bucket: string; key: string; sha256: string }> {
  const key = jobScoresKey(job.id);
  const stored = await store.stat(buckets.results, key);
  if (!stored?.sha256) throw new JobResultsError(`detection job ${job.id} has no score file (${buckets.results}/${key}); were its results removed?`);
  return { bucket: buckets.results, key, sha256: stored.sha256 };
}

/** The job's stored anomalies among a range of rows, asked for piece by piece. */
export function jobAnomaliesIn(orm: Orm, jobId: string): FlaggedRowsIn {
  return (rowStart, rowEnd) => jobFlaggedRows(orm, jobId, rowStart, rowEnd);
}

/**
 * The keys of the job's rows in row order, streamed: the dataset's id column, or for a job over
 * a source its id column or `object#row`; undefined for an uploaded dataset without an id column.
 */
export async function jobRowKeys(
  orm: Orm,
  store: ObjectStore,
  buckets: NomalyConfig['buckets'],
  job: DetectionJob,
  snapshot?: (key: string, sha256: string) => StoredSnapshot,
): Promise<ScoresCsvSource['ids']> {
  const em = orm.em.fork();
  if (!job.datasetId) {
    const model = job.modelId === null || job.modelId === undefined ? null : await em.findOne(Model, { id: job.modelId });
    return sourceRowKeys(job, model, snapshot);
  }
  const dataset = await em.findOne(Dataset, { id: job.datasetId });
  if (!dataset) throw new JobResultsError(`detection job ${job.id}: its dataset ${job.datasetId} no longer exists`);
  const idColumn = dataset.idColumn ?? undefined;
  if (!idColumn) return undefined;
  return {
    column: idColumn,
    batches: (async function* () {
      const source = store.streamVerified(buckets.datasets, dataset.objectKey, dataset.sha256);
      // One feature column must be read beside the ids: read it with its type (a category's text is not a number).
      const cellTypes = cellTypesOf(dataset.columnProfiles ?? []);
      for await (const batch of datasetBatches(source, dataset.format, { idColumn, featureColumns: dataset.featureColumns.slice(0, 1), cellTypes })) {
        yield batch.ids ?? [];
      }
    })(),
  };
}

/**
 * The rows among [rowStart, rowEnd) the job stored as anomalies, with their p-values and
 * explanations. The anomaly table, not the model's threshold, says which rows were flagged: a
 * job's own rule (fdr, maxAlerts, a score) flags rows the model's threshold would not, and the
 * model may have been removed since.
 */
export async function jobFlaggedRows(orm: Orm, jobId: string, rowStart: number, rowEnd: number): Promise<Map<number, FlaggedRow>> {
  const rows = await orm.em
    .fork()
    .getConnection()
    .execute<Array<{ row_index: number; p_value: number | null; explanation: FlaggedRow['explanation'] }>>(
      'select row_index, p_value, explanation from anomaly where job_id = ? and row_index >= ? and row_index < ?',
      [jobId, rowStart, rowEnd],
    );
  return new Map(rows.map((r) => [Number(r.row_index), { pValue: r.p_value === null ? null : Number(r.p_value), explanation: explanationFromStored(r.explanation) }]));
}

/** A job over a source: each row's id (its idColumn) or `object#row`, read from the job's snapshot. */
function sourceRowKeys(job: DetectionJob, model: Model | null, snapshot: ((key: string, sha256: string) => StoredSnapshot) | undefined): NonNullable<ScoresCsvSource['ids']> {
  const lineage = job.source as { source: { idColumn?: string }; snapshot: { key: string; sha256: string } };
  const idColumn = lineage.source.idColumn ?? null;
  if (!snapshot) throw new JobResultsError(`detection job ${job.id} scored a source: its rows' keys are read from the source's snapshot, which this process cannot reach`);
  if (idColumn && !model) throw new JobResultsError(`detection job ${job.id}: its model was removed, so its source's ids cannot be read again`);
  return { column: idColumn ?? 'row_key', batches: snapshotRowKeys(snapshot(lineage.snapshot.key, lineage.snapshot.sha256), idColumn, model?.featureColumns[0] ?? '') };
}
