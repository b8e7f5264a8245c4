/**
 * The detection job's record: which model and dataset it runs, opened once per job (keyed by
 * the workflow id, so a retry finds its own row) and closed as failed or cancelled when it stops early.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { scoresPrefix } from '../storage/keys';
import { Dataset, DetectionJob, Model } from './entities';

/** The model or dataset a job names does not exist or cannot be used: no retry changes that. */
export class DetectionInputMissingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DetectionInputMissingError';
  }
}

const USABLE_STATUSES = ['active', 'ready'] as const;

/** `NAME@VERSION` when it is ready or active; `NAME`: the active version, else the newest ready one. */
export async function resolveDetectionModel(em: EntityManager, reference: string): Promise<Model> {
  const [name, versionText] = reference.split('@');
  if (versionText !== undefined) {
    const version = Number(versionText);
    const model = await em.findOne(Model, { name, version });
    if (!model) throw new DetectionInputMissingError(`model ${reference} does not exist`);
    if (!USABLE_STATUSES.includes(model.status as (typeof USABLE_STATUSES)[number])) {
      throw new DetectionInputMissingError(`model ${reference} is ${model.status}, not ready for detection`);
    }
    return model;
  }
  const active = await em.findOne(Model, { name, status: 'active' });
  if (active) return active;
  const newest = await em.findOne(Model, { name, status: 'ready' }, { orderBy: { version: 'desc' } });
  if (!newest) throw new DetectionInputMissingError(`model "${name}" has no ready version (train one with: nomaly train --model ${name} ...)`);
  return newest;
}

/** Resolves the job's model and dataset, checks the dataset has the model's columns, and records the job as running (once). */
/** `flaggingOf` resolves the job's threshold rule from its model (refusing one the model cannot run) before the job is recorded with it. */
export async function openDetectionJob<F extends object>(
  em: EntityManager,
  input: { jobId: string; model: string; datasetId: string },
  flaggingOf: (model: Model) => F,
): Promise<{ model: Model; dataset: Dataset; flagging: F }> {
  const model = await resolveDetectionModel(em, input.model);
  const flagging = flaggingOf(model);
  const dataset = await em.findOne(Dataset, { id: input.datasetId });
  if (!dataset) throw new DetectionInputMissingError(`dataset "${input.datasetId}" does not exist (nomaly datasets upload FILE prints its id)`);
  const missing = model.featureColumns.filter((c) => !dataset.columns.includes(c));
  if (missing.length > 0) {
    throw new DetectionInputMissingError(`dataset ${dataset.id} lacks the model's feature columns: ${missing.join(', ')}`);
  }
  const job = em.create(DetectionJob, {
    id: input.jobId,
    modelId: model.id,
    datasetId: dataset.id,
    status: 'running',
    rows: dataset.rows,
    chunks: 0,
    rowsScored: 0,
    anomalies: 0,
    scoresPrefix: scoresPrefix(input.jobId),
    startedAt: new Date(),
    thresholdRule: flagging as DetectionJob['thresholdRule'],
  });
  await em.upsert(DetectionJob, job, { onConflictFields: ['id'], onConflictAction: 'ignore' });
  return { model, dataset, flagging };
}

/** Records a running job as stopped early; false when it was not running (already completed or stopped). */
export async function stopDetectionJob(
  em: EntityManager,
  jobId: string,
  stop: { status: 'failed' | 'cancelled'; error: string; rowsScored: number; anomalies: number; summary: object },
): Promise<boolean> {
  const changed = await em.nativeUpdate(
    DetectionJob,
    { id: jobId, status: 'running' },
    { status: stop.status, error: stop.error.slice(0, 4000), rowsScored: stop.rowsScored, anomalies: stop.anomalies, summary: { ...stop.summary }, finishedAt: new Date() },
  );
  return changed > 0;
}

/** The job row's summary names the scores.csv export as well (when the job has a summary). */
export async function recordScoresCsvExport(em: EntityManager, jobId: string, scoresCsvKey: string): Promise<void> {
  const job = await em.findOneOrFail(DetectionJob, { id: jobId });
  if (job.summary) await em.nativeUpdate(DetectionJob, { id: jobId }, { summary: { ...job.summary, scoresCsvKey } });
}

/** A completed job with this run key on this snapshot, other than `jobId`: the window's rows are already scored. */
export async function findScoredRun(em: EntityManager, runKey: string, snapshotSha256: string, jobId: string): Promise<DetectionJob | null> {
  return em.findOne(DetectionJob, { runKey, snapshotSha256, status: 'completed', id: { $ne: jobId } }, { orderBy: { finishedAt: 'desc' } });
}

/**
 * Records a job over a source: running (to be scored), or already final as `skipped` (the window
 * was scored on the same snapshot) or `no-data` (the source held no rows). Once per job: a retry
 * finds its own row.
 */
export async function openSourceJob(
  em: EntityManager,
  row: {
    jobId: string;
    modelId: number;
    status: 'running' | 'skipped' | 'no-data';
    rows: number;
    runKey: string;
    snapshotSha256: string;
    source: Record<string, unknown>;
    summary?: Record<string, unknown>;
    thresholdRule?: DetectionJob['thresholdRule'];
  },
): Promise<void> {
  const now = new Date();
  const final = row.status !== 'running';
  const job = em.create(DetectionJob, {
    id: row.jobId,
    modelId: row.modelId,
    datasetId: null,
    status: row.status,
    rows: row.rows,
    chunks: 0,
    rowsScored: 0,
    anomalies: 0,
    scoresPrefix: scoresPrefix(row.jobId),
    startedAt: now,
    runKey: row.runKey,
    snapshotSha256: row.snapshotSha256,
    source: row.source,
    thresholdRule: row.thresholdRule ?? null,
    ...(final ? { finishedAt: now, durationMs: 0, summary: row.summary ?? null } : {}),
  });
  await em.upsert(DetectionJob, job, { onConflictFields: ['id'], onConflictAction: 'ignore' });
}
