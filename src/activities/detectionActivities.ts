import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { chunkRowsFor } from '../data/chunkPolicy';
import type { CsvLayout } from '../data/csvLayout';
import { DatasetMismatchError } from '../data/datasetError';
import { datasetFormat, type ChunkList } from '../data/formats';
import { csvFormat } from '../data/formats/csv';
import { countJobAnomalies, keepAnomaliesAbove, topJobAnomalies } from '../db/anomalies';
import { DetectionInputMissingError, openDetectionJob, recordScoresCsvExport, stopDetectionJob } from '../db/detectionJobs';
import { DetectionJob, Model } from '../db/entities';
import { assembleJobScores, jobRates, summarizeScores, writeJobReport } from '../results/jobResults';
import { JobResultsError, jobScoresCsvSource } from '../results/jobScoresCsv';
import { exportScoresCsv } from '../results/scoresCsvExport';
import { jobScoresKey } from '../storage/keys';
import type { ActivityDeps } from './deps';
import { failFastOnPermanent, notFound } from './failures';
import { datasetReader } from '../sources/datasetReader';
import { detectionPlan, resolveFlagging, type FlaggingRequest } from './detectionPlan';
import { heartbeat, withHeartbeat } from './heartbeat';
import type { DetectionPlan, DetectionSummary, SourceLineage } from '../api/results';
import type { JobFlagging } from '../api/threshold';
import { jobCutoff } from '../results/jobFlagging';
import { decodeModelFile } from '../scoring/modelFile';

export type { DetectionPlan, DetectionSummary };

export type { TopAnomaly } from '../db/anomalies';

export interface StartDetectionInput extends FlaggingRequest {
  jobId: string;
  /** `NAME` (the active version, else the newest ready one) or `NAME@VERSION`. */
  model: string;
  datasetId: string;
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

/** What a job over a source says of its data in its summary (the job row keeps the whole lineage). */
function sourceLineage(job: DetectionJob): SourceLineage {
  const lineage = job.source as { window: SourceLineage['window']; location: string; snapshot: { objects: number } };
  return { window: lineage.window, location: lineage.location, runKey: job.runKey!, snapshotSha256: job.snapshotSha256!, objects: lineage.snapshot.objects };
}

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
  const storedDataset = datasetReader(config, store);

  /**
   * Applies the job's rule over all its scores: the job-wide cutoff, the chunks' candidates
   * trimmed to the rows above it, and a check that the table now holds exactly the rows the
   * scores say (a mismatch is a bug no retry fixes). Jobs from before rules: undefined.
   */
  async function flagJob(em: ReturnType<typeof orm.em.fork>, job: DetectionJob, model: Model, scores: Float64Array): Promise<JobFlagging | undefined> {
    const resolved = job.thresholdRule;
    if (!resolved) return undefined;
    const { rule } = resolved;
    const calibration =
      rule.method === 'fdr'
        ? decodeModelFile(await store.getVerifiedBytes(config.buckets.models, model.artifactKey, model.artifactSha256!)).calibrationScores
        : undefined;
    const candidates = await countJobAnomalies(em, job.id);
    const found = jobCutoff(rule, scores, { threshold: model.threshold ?? Number.NaN, calibration });
    if (rule.method === 'fdr' || rule.method === 'maxAlerts') await keepAnomaliesAbove(em, job.id, found.cutoff);
    const kept = await countJobAnomalies(em, job.id);
    if (kept !== found.flagged) {
      throw ApplicationFailure.nonRetryable(`job ${job.id}: ${kept} anomalies stored but its scores flag ${found.flagged} by ${rule.method}; the chunks' candidates missed rows`, 'FlaggingMismatch');
    }
    return {
      rule,
      ruleFrom: resolved.ruleFrom,
      cutoff: Number.isFinite(found.cutoff) ? found.cutoff : null,
      flagged: found.flagged,
      candidates,
      ...(found.excludedByTie !== undefined ? { excludedByTie: found.excludedByTie } : {}),
      ...(model.metrics?.calibrationScores !== undefined ? { calibrationScores: model.metrics.calibrationScores } : {}),
    };
  }

  return {
    /** Resolves model and dataset and records the job. Keyed by the workflow id: a retry finds its own row. */
    async startDetectionJob(input: StartDetectionInput): Promise<DetectionPlan> {
      const { model, dataset, flagging } = await openDetectionJob(orm.em.fork(), input, (model) => resolveFlagging(model, input)).catch((err: unknown) => {
        throw err instanceof DetectionInputMissingError ? notFound(err.message) : err;
      });
      return detectionPlan(input.jobId, model, {
        datasetId: dataset.id,
        datasetKey: dataset.objectKey,
        datasetSha256: dataset.sha256,
        idColumn: dataset.idColumn ?? null,
        format: dataset.format,
        rows: dataset.rows,
      }, flagging);
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
      const dataset = storedDataset(input.datasetKey, input.datasetSha256);
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
        heartbeat({ phase: 'assembling scores', chunks: input.chunks });
        const scores = await assembleJobScores(store, config.buckets.results, job.id, job.rows, input.chunks);
        heartbeat({ phase: 'flagging' });
        const flagging = model ? await flagJob(em, job, model, scores) : undefined;
        const anomalies = await countJobAnomalies(em, job.id);
        const topAnomalies = await topJobAnomalies(em, job.id);
        const { finishedAt, durationMs, anomalyRate, rowsPerSecond } = jobRates(job, anomalies);
        const datasetId = job.datasetId ?? `snap_${job.snapshotSha256!.slice(0, 16)}`;
        heartbeat({ phase: 'writing report' });
        const scoreSummary = summarizeScores(scores);
        const reportKey = await writeJobReport(store, config.buckets.results, {
          jobId: job.id, model: input.modelLabel, datasetId, rows: job.rows, anomalies, anomalyRate,
          ...(job.runKey ? { source: sourceLineage(job) } : {}),
          threshold: flagging ? flagging.cutoff ?? Number.NaN : model?.threshold ?? Number.NaN, durationMs, rowsPerSecond, scores: scoreSummary, topAnomalies,
          ...(flagging ? { flagging } : {}),
        });
        const scoresKey = jobScoresKey(job.id);
        const summary = { scoresKey, reportKey, rowsPerSecond, ...scoreSummary, ...(flagging ? { flagging } : {}) };
        Object.assign(job, { status: 'completed', chunks: input.chunks, rowsScored: job.rows, anomalies, anomalyRate, finishedAt, durationMs, summary });
        await em.flush();
        metrics.anomalyRate.set({ model: input.modelLabel }, anomalyRate);
        metrics.detectionJobs?.inc({ status: 'completed' });
        return {
          ...(job.runKey ? { source: sourceLineage(job) } : {}),
          jobId: job.id, status: 'completed', model: input.modelLabel, datasetId, rows: job.rows, anomalies, anomalyRate,
          durationMs, rowsPerSecond, scoresBucket: config.buckets.results, scoresKey, reportKey, quantiles: scoreSummary.quantiles, topAnomalies,
          ...(flagging ? { flagging } : {}),
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
      const anomalies = await countJobAnomalies(em, input.jobId);
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
      const stopped = await stopDetectionJob(em, input.jobId, { status: input.status, error: input.error, rowsScored: input.rowsScored, anomalies, summary });
      if (stopped) metrics.detectionJobs?.inc({ status: input.status });
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
      const source = await jobScoresCsvSource(orm, store, config.buckets, job, storedDataset).catch((err: unknown) => {
        throw err instanceof JobResultsError ? ApplicationFailure.nonRetryable((err as Error).message, 'NotFound') : err;
      });
      const exported = await exportScoresCsv(store, config.buckets.results, job.id, source, (progress) => context.heartbeat(progress));
      await recordScoresCsvExport(em.fork(), job.id, exported.scoresCsvKey);
      return exported;
    },
  };
}
