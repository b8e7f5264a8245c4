import { Context } from '@temporalio/activity';
import { chunkRowsFor } from '../data/chunkPolicy';
import type { CsvLayout } from '../data/csvLayout';
import { DatasetMismatchError } from '../data/datasetError';
import { datasetFormat, type ChunkList } from '../data/formats';
import { csvFormat } from '../data/formats/csv';
import { Dataset, DetectionJob, Model } from '../db/entities';
import type { ScoreSummary } from '../results/scoreSummary';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { scoresCsvPieces, writePiecesToFile } from '../results/scoresCsv';
import { jobScoresCsvKey, jobScoresKey, scoresPrefix } from '../storage/keys';
import type { ActivityDeps } from './deps';
import { ApplicationFailure } from '@temporalio/common';
import { heartbeat, withHeartbeat } from './heartbeat';
import { failFastOnPermanent, notFound } from './failures';
import { assembleJobScores, summarizeScores, writeJobReport } from '../results/jobResults';
import { JobResultsError, jobScoresCsvSource } from '../results/jobScoresCsv';

export interface StartDetectionInput {
  jobId: string;
  /** `NAME` (the active version, else the newest ready one) or `NAME@VERSION`. */
  model: string;
  datasetId: string;
}

export interface DetectionPlan {
  jobId: string;
  modelId: number;
  modelName: string;
  modelVersion: number;
  modelArtifactKey: string;
  modelSha256: string;
  datasetId: string;
  datasetKey: string;
  datasetSha256: string;
  featureColumns: string[];
  idColumn: string | null;
  format: string;
  rows: number;
}

export interface TopAnomaly {
  rowIndex: number;
  rowId: string | null;
  score: number;
}

export interface DetectionSummary {
  jobId: string;
  status: 'completed';
  model: string;
  datasetId: string;
  rows: number;
  anomalies: number;
  anomalyRate: number;
  durationMs: number;
  rowsPerSecond: number;
  /** Every row's score (src/results/scoresFile.ts) and the HTML report, in the results bucket. */
  scoresBucket: string;
  scoresKey: string;
  /** With `exportCsv`: every row's score as CSV (src/results/scoresCsv.ts), in the results bucket. */
  scoresCsvKey?: string;
  reportKey: string;
  quantiles: ScoreSummary['quantiles'];
  topAnomalies: TopAnomaly[];
}

export interface FailDetectionJobInput {
  jobId: string;
  status: 'failed' | 'cancelled';
  error: string;
  /** Rows whose scores and anomalies are stored: whole chunks, plus those a failed chunk kept. */
  rowsScored: number;
  chunksDone?: number;
  chunksTotal?: number;
  /** Where a malformed row stopped the job. */
  failedAt?: { chunkIndex: number; line?: number; column?: string };
}

/** The summary of a job that stopped early: `partial` says its results are incomplete. */
export interface PartialDetectionSummary {
  partial: true;
  status: 'failed' | 'cancelled';
  rows: number | null;
  rowsScored: number;
  anomaliesSoFar: number;
  chunksDone: number | null;
  chunksTotal: number | null;
  failedAt?: FailDetectionJobInput['failedAt'];
}

const USABLE_STATUSES = ['active', 'ready'] as const;

/** Planning heartbeats after every this many bytes read. */
const HEARTBEAT_EVERY_BYTES = 4 * 1024 * 1024;

/** Heartbeats every few MiB read, not every network chunk: tens of thousands of heartbeat calls cost a multi-gigabyte pass seconds of CPU. */
function progressHeartbeat(context: Context): (bytes: number) => void {
  let reported = 0;
  return (bytes) => {
    if (bytes - reported >= HEARTBEAT_EVERY_BYTES) {
      reported = bytes;
      context.heartbeat({ bytes });
    }
  };
}

/** Stored bytes that do not hold what the record says: no retry changes them. */
async function mismatchIsFinal<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof DatasetMismatchError) throw ApplicationFailure.nonRetryable(err.message, 'DatasetMismatch');
    throw err;
  }
}

export function createDetectionActivities({ orm, store, config, metrics }: ActivityDeps) {
  return {
    /** Resolves model and dataset and records the job. Keyed by the workflow id: a retry finds its own row. */
    async startDetectionJob(input: StartDetectionInput): Promise<DetectionPlan> {
      const em = orm.em.fork();
      const model = await resolveModel(em, input.model);
      const dataset = await em.findOne(Dataset, { id: input.datasetId });
      if (!dataset) throw notFound(`dataset "${input.datasetId}" does not exist (nomaly datasets upload FILE prints its id)`);
      const missing = model.featureColumns.filter((c) => !dataset.columns.includes(c));
      if (missing.length > 0) {
        throw notFound(`dataset ${dataset.id} lacks the model's feature columns: ${missing.join(', ')}`);
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
      });
      await em.upsert(DetectionJob, job, { onConflictFields: ['id'], onConflictAction: 'ignore' });
      return {
        jobId: input.jobId,
        modelId: model.id,
        modelName: model.name,
        modelVersion: model.version,
        modelArtifactKey: model.artifactKey,
        modelSha256: model.artifactSha256!,
        datasetId: dataset.id,
        datasetKey: dataset.objectKey,
        datasetSha256: dataset.sha256,
        featureColumns: model.featureColumns,
        idColumn: dataset.idColumn ?? null,
        format: dataset.format,
        rows: dataset.rows,
      };
    },

    /**
     * Cuts the dataset into chunks by the chunking policy (src/data/chunkPolicy.ts, applied
     * here and nowhere else) at its format's own boundaries: row ranges with their byte offsets
     * from the row index for text, runs of row groups for Parquet. The list is plain JSON, two
     * numbers a chunk and at most CHUNK_POLICY.maxChunksPerJob chunks. A text dataset without an
     * index (registered before indexes existed) gets one here, in one streaming pass that also
     * verifies its sha256.
     */
    async planDatasetChunks(input: { datasetKey: string; datasetSha256: string; format: string; rows: number; chunkRows: number | null }): Promise<ChunkList> {
      const onProgress = progressHeartbeat(Context.current());
      const dataset = { store, bucket: config.buckets.datasets, key: input.datasetKey, sha256: input.datasetSha256 };
      return failFastOnPermanent(() =>
        mismatchIsFinal(() => datasetFormat(input.format).planChunks(dataset, input.rows, chunkRowsFor(input.rows, input.chunkRows), onProgress)),
      );
    },

    /**
     * Kept for runs started before planDatasetChunks: a CSV's chunk byte offsets for a chunk
     * size the workflow chose, in the layout those runs expect.
     */
    async planCsvChunks(input: { datasetKey: string; datasetSha256: string; rows: number; chunkRows: number }): Promise<CsvLayout> {
      const onProgress = progressHeartbeat(Context.current());
      const dataset = { store, bucket: config.buckets.datasets, key: input.datasetKey, sha256: input.datasetSha256 };
      const list = await failFastOnPermanent(() => mismatchIsFinal(() => csvFormat.planChunks(dataset, input.rows, input.chunkRows, onProgress)));
      const { headerEnd, index } = list.shared as { headerEnd: number; index: { key: string; sha256: string } };
      return { headerEnd, dataRows: input.rows, chunkStarts: list.bounds, index };
    },

    /**
     * Summarises from the anomalies table and the chunks' score files themselves, so the totals
     * are right however often chunks ran: one score file, a summary on the job row, an HTML report.
     * Heartbeats its phase (and every second between), so a worker that dies under it is noticed
     * in seconds; a retry redoes it all, overwriting the same keys and row.
     */
    async finalizeDetection(input: { jobId: string; modelLabel: string; chunks: number }): Promise<DetectionSummary> {
      return withHeartbeat(async () => {
        const em = orm.em.fork();
        heartbeat({ phase: 'counting anomalies' });
        const job = await em.findOneOrFail(DetectionJob, { id: input.jobId });
        const model = job.modelId === null || job.modelId === undefined ? null : await em.findOne(Model, { id: job.modelId });
        const connection = em.getConnection();
        const [{ count }] = await connection.execute<Array<{ count: string }>>('select count(*) as count from anomaly where job_id = ?', [job.id]);
        const anomalies = Number(count);
        const top = await connection.execute<Array<{ row_index: number; row_id: string | null; score: number }>>(
          'select row_index, row_id, score from anomaly where job_id = ? order by score desc, row_index limit 10',
          [job.id],
        );
        const topAnomalies = top.map((r) => ({ rowIndex: Number(r.row_index), rowId: r.row_id, score: Number(r.score) }));
        heartbeat({ phase: 'assembling scores', chunks: input.chunks });
        const scores = await assembleJobScores(store, config.buckets.results, job.id, job.rows, input.chunks);
        const finishedAt = job.finishedAt ?? new Date();
        const durationMs = finishedAt.getTime() - job.startedAt.getTime();
        const anomalyRate = job.rows > 0 ? anomalies / job.rows : 0;
        const rowsPerSecond = durationMs > 0 ? (job.rows * 1000) / durationMs : 0;
        heartbeat({ phase: 'writing report' });
        const scoreSummary = summarizeScores(scores);
        const reportKey = await writeJobReport(store, config.buckets.results, {
          jobId: job.id,
          model: input.modelLabel,
          datasetId: job.datasetId,
          rows: job.rows,
          anomalies,
          anomalyRate,
          threshold: model?.threshold ?? Number.NaN,
          durationMs,
          rowsPerSecond,
          scores: scoreSummary,
          topAnomalies,
        });
        const scoresKey = jobScoresKey(job.id);
        const summary = { scoresKey, reportKey, rowsPerSecond, ...scoreSummary };
        Object.assign(job, { status: 'completed', chunks: input.chunks, rowsScored: job.rows, anomalies, anomalyRate, finishedAt, durationMs, summary });
        await em.flush();
        metrics.anomalyRate.set({ model: input.modelLabel }, anomalyRate);
        metrics.detectionJobs?.inc({ status: 'completed' });
        return {
          jobId: job.id,
          status: 'completed',
          model: input.modelLabel,
          datasetId: job.datasetId,
          rows: job.rows,
          anomalies,
          anomalyRate,
          durationMs,
          rowsPerSecond,
          scoresBucket: config.buckets.results,
          scoresKey,
          reportKey,
          quantiles: scoreSummary.quantiles,
          topAnomalies,
        };
      });
    },

    /**
     * Records a job that did not complete. What it scored before it stopped stays (anomalies,
     * chunk score files) but is flagged partial in the summary, with the counts so far, so it is
     * never taken for a complete result.
     */
    async failDetectionJob(input: FailDetectionJobInput): Promise<void> {
      const em = orm.em.fork();
      const [{ count }] = await em.getConnection().execute<Array<{ count: string }>>('select count(*) as count from anomaly where job_id = ?', [input.jobId]);
      const anomalies = Number(count);
      const job = await em.findOne(DetectionJob, { id: input.jobId });
      const summary: PartialDetectionSummary = {
        partial: true,
        status: input.status,
        rows: job?.rows ?? null,
        rowsScored: input.rowsScored,
        anomaliesSoFar: anomalies,
        chunksDone: input.chunksDone ?? null,
        chunksTotal: input.chunksTotal ?? null,
        ...(input.failedAt ? { failedAt: input.failedAt } : {}),
      };
      const changed = await em.nativeUpdate(
        DetectionJob,
        { id: input.jobId, status: 'running' },
        { status: input.status, error: input.error.slice(0, 4000), rowsScored: input.rowsScored, anomalies, summary: { ...summary }, finishedAt: new Date() },
      );
      if (changed > 0) metrics.detectionJobs?.inc({ status: input.status });
    },

    /**
     * With `exportCsv`: writes scores.csv next to scores.f64 (row, the id column when the dataset
     * has one, score, is_anomaly), streamed through a temporary file, never one giant string.
     * Idempotent: the same job always gives the same bytes at the same key.
     */
    async exportScoresCsv(input: { jobId: string }): Promise<{ scoresCsvKey: string; size: number }> {
      const context = Context.current();
      const em = orm.em.fork();
      const job = await em.findOneOrFail(DetectionJob, { id: input.jobId });
      const { scores, isAnomaly, ids } = await jobScoresCsvSource(orm, store, config.buckets, job).catch((err: unknown) => {
        throw err instanceof JobResultsError ? ApplicationFailure.nonRetryable((err as Error).message, 'NotFound') : err;
      });
      const dir = await mkdtemp(path.join(os.tmpdir(), 'nomaly-export-'));
      try {
        const file = path.join(dir, 'scores.csv');
        let rowsWritten = 0;
        const pieces = (async function* () {
          for await (const piece of scoresCsvPieces({ scores, isAnomaly, ids })) {
            yield piece;
            rowsWritten += 8192;
            context.heartbeat({ phase: 'writing', rows: Math.min(rowsWritten, scores.length) });
          }
        })();
        const written = await failFastOnPermanent(() => writePiecesToFile(file, pieces));
        context.heartbeat({ phase: 'uploading', bytes: written.size });
        const scoresCsvKey = jobScoresCsvKey(job.id);
        await store.putFilePublished(config.buckets.results, scoresCsvKey, file, written);
        // The job row's summary names the export as well.
        const fresh = await em.fork().findOneOrFail(DetectionJob, { id: job.id });
        if (fresh.summary) await em.nativeUpdate(DetectionJob, { id: job.id }, { summary: { ...fresh.summary, scoresCsvKey } });
        return { scoresCsvKey, size: written.size };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

async function resolveModel(em: ReturnType<ActivityDeps['orm']['em']['fork']>, reference: string): Promise<Model> {
  const [name, versionText] = reference.split('@');
  if (versionText !== undefined) {
    const version = Number(versionText);
    const model = await em.findOne(Model, { name, version });
    if (!model) throw notFound(`model ${reference} does not exist`);
    if (!USABLE_STATUSES.includes(model.status as (typeof USABLE_STATUSES)[number])) {
      throw notFound(`model ${reference} is ${model.status}, not ready for detection`);
    }
    return model;
  }
  const active = await em.findOne(Model, { name, status: 'active' });
  if (active) return active;
  const newest = await em.findOne(Model, { name, status: 'ready' }, { orderBy: { version: 'desc' } });
  if (!newest) throw notFound(`model "${name}" has no ready version (train one with: nomaly train --model ${name} ...)`);
  return newest;
}
