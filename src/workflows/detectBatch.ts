import {
  ApplicationFailure,
  CancellationScope,
  condition,
  ContinueAsNew,
  continueAsNew,
  allHandlersFinished,
  defineQuery,
  isCancellation,
  patched,
  setHandler,
  ParentClosePolicy,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { DetectionPlan, DetectionSummary } from '../activities';
import type { SourceRunOutcome } from '../api/results';
import type { JobWindow } from '../api/window';
import type { MalformedRowDetails, ScoreChunkInput } from '../activities/scoreChunkActivity';
import { control, exporting, finalizing, planning, scoring } from './activityOptions';
import { chunkAt, legacyChunkPlan, legacyChunkRange } from './chunkPlan';
import { validateDetectBatchInput, type DetectBatchInput, type DetectContinuation, type ValidDetectBatchInput } from '../api/inputs';
import { rootCauseMessage } from '../api/rootCause';
import { SCHEDULED_START_TIME, SEARCH_ATTRIBUTES } from '../api/searchAttributes';
import { scheduledWindow } from '../api/window';
import { sendAlert } from './sendAlert';

export interface DetectProgress {
  phase: 'validating' | 'planning' | 'scoring' | 'finalizing' | 'completed' | 'failed' | 'cancelled';
  chunksDone: number;
  chunksTotal: number;
  rowsScored: number;
  rowsTotal: number;
  anomaliesSoFar: number;
  rowsPerSecond: number;
  etaSeconds: number | null;
  /** Rows that chunks which failed on a malformed row stored before it (partial results). */
  partialRows: number;
  /** Where the first malformed row was, when a chunk hit one. */
  failedAt?: { chunkIndex: number; line?: number; column?: string };
}

export const detectProgressQuery = defineQuery<DetectProgress>('progress');

/**
 * Runs from before this patch left NomalyJobStatus (and a planned job's row) at `running` when
 * the input was refused or planning failed; they replay as they ran.
 */
const FINAL_STATUS_ON_EVERY_PATH = 'detect-final-status-on-every-path';

/**
 * Runs from before this patch sized their chunks in workflow code and planned byte ranges for
 * CSV only; newer runs ask one planning activity for a chunk list, whatever the format.
 */
const PLAN_CHUNKS_IN_ACTIVITY = 'detect-plan-chunks-in-activity';

/** Runs from before sinks never write one (their inputs could not name one either). */
const SINK_RESULTS = 'detect-sink-results';

/**
 * Model × dataset → a score for every row, anomalies in PostgreSQL, scores in MinIO. Over a
 * source, the job pins the window's data first, and ends early as `no-data` (nothing there) or
 * `skipped` (this model version already scored this very snapshot).
 */
export async function detectBatch(rawInput: DetectBatchInput): Promise<DetectionSummary | SourceRunOutcome> {
  const progress: DetectProgress = {
    phase: 'validating',
    chunksDone: 0,
    chunksTotal: 0,
    rowsScored: 0,
    rowsTotal: 0,
    anomaliesSoFar: 0,
    rowsPerSecond: 0,
    etaSeconds: null,
    partialRows: 0,
  };
  let scoringStarted = 0;
  setHandler(detectProgressQuery, () => {
    const elapsed = scoringStarted ? (Date.now() - scoringStarted) / 1000 : 0;
    const rowsPerSecond = elapsed > 0 ? progress.rowsScored / elapsed : 0;
    const left = progress.rowsTotal - progress.rowsScored;
    return { ...progress, rowsPerSecond, etaSeconds: rowsPerSecond > 0 ? left / rowsPerSecond : null };
  });

  const info = workflowInfo();
  const jobId = info.workflowId;
  // Only a run this job continued into may carry a continuation; it is checked like any field.
  const continued = info.continuedFromExecutionRunId !== undefined;
  let input: ValidDetectBatchInput;
  let window: JobWindow | undefined;
  try {
    input = validateDetectBatchInput(rawInput, { continuedJobId: continued ? jobId : undefined });
    if (input.source) window = jobWindow(input);
  } catch (err) {
    progress.phase = 'failed';
    if (patched(FINAL_STATUS_ON_EVERY_PATH)) {
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.jobStatus, value: 'failed' }]);
      // A continued run's job has a row; the first run's refused input has none yet.
      if (continued) await control.failDetectionJob({ jobId, status: 'failed', error: rootCauseMessage(err), rowsScored: 0 });
    }
    throw err;
  }
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.model, value: input.model.split('@')[0] },
    ...(input.datasetId ? [{ key: SEARCH_ATTRIBUTES.dataset, value: input.datasetId }] : []),
    { key: SEARCH_ATTRIBUTES.jobStatus, value: 'running' },
  ]);

  let planned = false;
  try {
    // A sink that cannot be written fails the job now, not after it scored everything.
    if (!input.continuation && input.sink && patched(SINK_RESULTS)) await control.checkSink({ sink: input.sink });
    // A continued run carries the plan and the cursor; only the first run plans.
    const started = input.continuation ?? (await planJob(jobId, input, window, progress));
    if ('status' in started) {
      // Nothing to score in this window: a result, not a failure.
      let outcome = started;
      if (started.scoredBy && input.sink && patched(SINK_RESULTS)) {
        // Already scored: the sink gets the scoring job's rows (upserted over themselves), so a
        // sink that failed or was added later is filled without scoring the window again.
        outcome = { ...started, sink: await exporting.sinkJobResults({ jobId: started.scoredBy, sink: input.sink }) };
      }
      progress.phase = 'completed';
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.jobStatus, value: started.status }]);
      upsertMemo({ window: `${started.window.start} – ${started.window.end}`, source: started.location, ...(started.scoredBy ? { scoredBy: started.scoredBy } : {}) });
      return outcome;
    }
    const state: DetectContinuation = started;
    planned = true;
    const { plan } = state;
    const chunks = chunksOf(state);
    Object.assign(progress, {
      chunksTotal: chunks.count,
      rowsTotal: plan.rows,
      chunksDone: state.chunksDone,
      rowsScored: state.rowsScored,
      anomaliesSoFar: state.anomaliesSoFar,
    });
    progress.phase = 'scoring';
    scoringStarted = state.scoringStartedAt ?? Date.now();
    const nextChunk = await scoreChunks(plan, chunks, state.nextChunk, input, progress);
    if (nextChunk < chunks.count) {
      // Keep each run's history small: hand the cursor and totals to a fresh run.
      await condition(allHandlersFinished);
      await continueAsNew<typeof detectBatch>({
        ...(rawInput as DetectBatchInput),
        // A scheduled run's window came from its start time: the next run carries it explicitly.
        ...(window ? { window } : {}),
        continuation: {
          plan,
          ...(state.chunkList ? { chunkList: state.chunkList } : { chunkPlan: state.chunkPlan, layout: state.layout }),
          nextChunk,
          chunksDone: progress.chunksDone,
          rowsScored: progress.rowsScored,
          anomaliesSoFar: progress.anomaliesSoFar,
          scoringStartedAt: scoringStarted,
        },
      });
    }
    progress.phase = 'finalizing';
    let summary = await finalizing.finalizeDetection({
      jobId,
      modelLabel: `${plan.modelName}@${plan.modelVersion}`,
      chunks: chunks.count,
    });
    if (input.exportCsv) {
      // Asked for: every row's score as CSV next to scores.f64 (its own step: it streams the whole job).
      const { scoresCsvKey } = await exporting.exportScoresCsv({ jobId });
      summary = { ...summary, scoresCsvKey };
    }
    if (input.sink && patched(SINK_RESULTS)) {
      // After finalizing: the rows are final (flagged by the job's rule), so the table gets exactly the job's anomalies.
      const sink = await exporting.sinkJobResults({ jobId, sink: input.sink });
      summary = { ...summary, sink };
      upsertMemo({ sink: `${sink.connection}:${sink.table} (${sink.written} ${sink.rows === 'scores' ? 'rows' : 'anomalies'})` });
    }
    progress.phase = 'completed';
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.jobStatus, value: 'completed' }]);
    // Shown in the Temporal UI beside the job: where its report and score file are.
    upsertMemo({ report: `${summary.scoresBucket}/${summary.reportKey}`, scores: `${summary.scoresBucket}/${summary.scoresKey}` });
    if (summary.scoresCsvKey) upsertMemo({ scoresCsv: `${summary.scoresBucket}/${summary.scoresCsvKey}` });
    if (input.alertAnomalyRateAbove !== null && summary.anomalyRate > input.alertAnomalyRateAbove) {
      // An abandoned child: it retries delivery on its own time, and the job completes now.
      await startChild(sendAlert, {
        workflowId: `${jobId}-alert`,
        parentClosePolicy: ParentClosePolicy.ABANDON,
        args: [
          {
            jobId,
            model: summary.model,
            datasetId: summary.datasetId,
            rows: summary.rows,
            anomalies: summary.anomalies,
            anomalyRate: summary.anomalyRate,
            alertAnomalyRateAbove: input.alertAnomalyRateAbove,
            report: `${summary.scoresBucket}/${summary.reportKey}`,
          },
        ],
      });
      upsertMemo({ alert: `${jobId}-alert` });
    }
    return summary;
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err; // not a failure: the job goes on in the next run
    if (!planned && !patched(FINAL_STATUS_ON_EVERY_PATH)) throw err;
    const status = isCancellation(err) ? 'cancelled' : 'failed';
    progress.phase = status;
    // Record the outcome even when the workflow itself is being cancelled.
    await CancellationScope.nonCancellable(async () => {
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.jobStatus, value: status }]);
      await control.failDetectionJob({
        jobId,
        status,
        error: rootCauseMessage(err),
        // Whole chunks, plus the rows a failed chunk stored before its bad row.
        rowsScored: progress.rowsScored + progress.partialRows,
        chunksDone: progress.chunksDone,
        chunksTotal: progress.chunksTotal,
        ...(progress.failedAt ? { failedAt: progress.failedAt } : {}),
      });
    });
    throw err;
  }
}

/**
 * The job's window over a source: the input's, or, for a run a Schedule started, the period
 * before the one it was due in (a nightly run at 02:00 scores the previous day).
 */
function jobWindow(input: ValidDetectBatchInput): JobWindow {
  if (input.window) return input.window;
  const scheduledAt = workflowInfo().typedSearchAttributes.get(SCHEDULED_START_TIME);
  if (!scheduledAt) {
    throw ApplicationFailure.nonRetryable(
      'detectBatch input: "window" is required for a job over a source unless a Schedule starts it, e.g. {"start": "2026-12-03", "end": "2026-12-04"}',
      'InvalidInput',
    );
  }
  return scheduledWindow(scheduledAt, input.period, input.timeZone);
}

/** Resolves model and data (pinning a source's window first), records the job, and has the data cut into chunks. */
async function planJob(jobId: string, input: ValidDetectBatchInput, window: JobWindow | undefined, progress: DetectProgress): Promise<DetectContinuation | SourceRunOutcome> {
  progress.phase = 'planning';
  let plan: DetectionPlan;
  if (input.source && window) {
    const pinned = await planning.pinSource({ jobId, source: input.source, window, timeZone: input.timeZone });
    const started = await control.startSourceDetectionJob({ jobId, model: input.model, source: input.source, window, timeZone: input.timeZone, pinned, ...flaggingRequest(input) });
    if (!('plan' in started)) return started;
    plan = started.plan;
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.dataset, value: plan.datasetId }]);
    upsertMemo({ window: `${window.start} – ${window.end}`, source: pinned.location });
  } else {
    plan = await control.startDetectionJob({ jobId, model: input.model, datasetId: input.datasetId!, ...flaggingRequest(input) });
  }
  const cursor = { nextChunk: 0, chunksDone: 0, rowsScored: 0, anomaliesSoFar: 0 };
  if (patched(PLAN_CHUNKS_IN_ACTIVITY)) {
    const chunkList = await planning.planDatasetChunks({
      datasetKey: plan.datasetKey,
      datasetSha256: plan.datasetSha256,
      format: plan.format,
      rows: plan.rows,
      chunkRows: input.chunkRows,
    });
    return { plan, chunkList, ...cursor };
  }
  const chunkPlan = legacyChunkPlan(plan.rows, input.chunkRows);
  const layout =
    plan.format === 'csv'
      ? await planning.planCsvChunks({ datasetKey: plan.datasetKey, datasetSha256: plan.datasetSha256, rows: plan.rows, chunkRows: chunkPlan.chunkRows })
      : undefined;
  return { plan, chunkPlan, layout, ...cursor };
}

/** The job's own threshold rule and explanations, when its input gives them (the activity resolves the rest from the model). */
function flaggingRequest(input: ValidDetectBatchInput) {
  return { ...(input.threshold ? { threshold: input.threshold } : {}), ...(input.explain !== null ? { explain: input.explain } : {}) };
}

/** Where each chunk of the job is, as scoreChunk takes it. */
interface JobChunks {
  count: number;
  at(index: number): Pick<ScoreChunkInput, 'rowStart' | 'rowEnd' | 'chunk' | 'csvRange'>;
}

function chunksOf(state: DetectContinuation): JobChunks {
  const list = state.chunkList;
  if (list) {
    return {
      count: list.chunks,
      at(index) {
        const chunk = chunkAt(list, index);
        return { rowStart: chunk.rowStart, rowEnd: chunk.rowEnd, chunk };
      },
    };
  }
  // A run from before PLAN_CHUNKS_IN_ACTIVITY (or continued from one): as it ran.
  const chunkPlan = state.chunkPlan!;
  const layout = state.layout;
  return {
    count: chunkPlan.chunks,
    at(index) {
      const { rowStart, rowEnd } = legacyChunkRange(chunkPlan, state.plan.rows, index);
      return {
        rowStart,
        rowEnd,
        csvRange: layout && { byteStart: layout.chunkStarts[index], byteEnd: layout.chunkStarts[index + 1], headerEnd: layout.headerEnd, index: layout.index },
      };
    },
  };
}

/**
 * A sliding window from chunk `first`: at most `maxConcurrentChunks` run at once, a finished one
 * makes room for the next. Stops starting chunks once this run has started `chunksPerRun` (or
 * Temporal suggests continue-as-new), lets the running ones finish, and returns the next chunk.
 */
async function scoreChunks(
  plan: DetectionPlan,
  chunks: JobChunks,
  first: number,
  input: { maxConcurrentChunks: number; chunksPerRun: number },
  progress: DetectProgress,
): Promise<number> {
  const inFlight = new Set<Promise<void>>();
  const maxInFlight = input.maxConcurrentChunks;
  let next = first;
  // After a chunk fails no new chunk starts; the running ones finish, so the job's counts are final when it is marked failed.
  let failure: { error: unknown } | undefined;
  const runBudgetLeft = () => !failure && next - first < input.chunksPerRun && !workflowInfo().continueAsNewSuggested;
  while ((next < chunks.count && runBudgetLeft()) || inFlight.size > 0) {
    while (inFlight.size < maxInFlight && next < chunks.count && runBudgetLeft()) {
      const chunkIndex = next++;
      const running: Promise<void> = scoring
        .scoreChunk({
          jobId: plan.jobId,
          chunkIndex,
          ...chunks.at(chunkIndex),
          datasetKey: plan.datasetKey,
          datasetSha256: plan.datasetSha256,
          datasetFormat: plan.format,
          featureColumns: plan.featureColumns,
          idColumn: plan.idColumn,
          modelArtifactKey: plan.modelArtifactKey,
          modelSha256: plan.modelSha256,
          ...(plan.flagging ? { flagging: plan.flagging } : {}),
        })
        .then(
          (result) => {
            progress.chunksDone += 1;
            progress.rowsScored += result.rows;
            progress.anomaliesSoFar += result.anomalies;
          },
          (error: unknown) => {
            const malformed = malformedRowDetails(error);
            if (malformed) {
              progress.partialRows += malformed.rowsPersisted;
              progress.failedAt ??= { chunkIndex: malformed.chunkIndex, line: malformed.line, column: malformed.column };
            }
            failure ??= { error };
          },
        )
        .finally(() => inFlight.delete(running));
      inFlight.add(running);
    }
    if (inFlight.size > 0) await Promise.race(inFlight);
  }
  if (failure) throw failure.error;
  return next;
}

/** The details a chunk's MalformedRow failure carries (see scoreChunkActivity.ts). */
function malformedRowDetails(error: unknown): MalformedRowDetails | undefined {
  for (let current = error as { cause?: unknown } | undefined; current; current = current.cause as typeof current) {
    if (current instanceof ApplicationFailure && current.type === 'MalformedRow') {
      const details = current.details?.[0] as MalformedRowDetails | undefined;
      return details && typeof details.rowsPersisted === 'number' ? details : undefined;
    }
  }
  return undefined;
}
