import { CancellationScope, defineQuery, isCancellation, ParentClosePolicy, setHandler, startChild, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { DetectionSummary, SourceRunOutcome } from '../api/results';
import type { DetectBatchInput } from '../api/inputs';
import type { JobWindow, WindowPeriod } from '../api/window';
import { validateDetectBackfillInput, type DetectBackfillInput, type ValidDetectBackfillInput } from '../api/backfillInput';
import { rootCauseMessage } from '../api/rootCause';
import { SEARCH_ATTRIBUTES } from '../api/searchAttributes';
import { detectBatch } from './detectBatch';

/** One window of a backfill: its job, and how it ended (rows and anomalies of a skipped window are the scoring job's). */
export interface BackfillWindowRow {
  window: JobWindow;
  status: 'pending' | 'running' | 'scored' | 'skipped' | 'no-data' | 'failed';
  rows: number;
  anomalies: number;
  /** The window's detectBatch job (its workflow id), known before it starts. */
  jobId: string;
  /** skipped: the job that scored this snapshot before. */
  scoredBy?: string;
  /** failed: why, the innermost cause. */
  error?: string;
}

export interface BackfillTotals {
  windows: number;
  scored: number;
  skipped: number;
  noData: number;
  failed: number;
  /** Over scored and skipped windows: the rows and anomalies of the data the range holds. */
  rows: number;
  anomalies: number;
}

/** What the `progress` query shows while the backfill runs, and what it returns at the end. */
export interface BackfillReport {
  backfillId: string;
  model: string;
  period: WindowPeriod;
  timeZone: string;
  windows: BackfillWindowRow[];
  totals: BackfillTotals;
}

export const backfillProgressQuery = defineQuery<BackfillReport>('progress');

/**
 * Scores a source over a range of past windows: one child detectBatch per window, at most
 * `maxConcurrentWindows` at once, each deciding for itself whether its window is new data
 * (scored), already scored (skipped) or empty (no-data). A failed window is recorded and the
 * others go on; only cancelling the backfill stops it, and then its children are cancelled too.
 *
 * History stays bounded without continue-as-new: validation caps a backfill at
 * MAX_BACKFILL_WINDOWS (1000) windows, each costing a handful of events (child initiated,
 * started, completed) and one child result, well under Temporal's history limits.
 */
export async function detectBackfill(rawInput: DetectBackfillInput): Promise<BackfillReport> {
  const backfillId = workflowInfo().workflowId;
  let input: ValidDetectBackfillInput;
  try {
    input = validateDetectBackfillInput(rawInput);
  } catch (err) {
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.jobStatus, value: 'failed' }]);
    throw err;
  }
  const rows: BackfillWindowRow[] = input.windows.map((window) => ({ window, status: 'pending', rows: 0, anomalies: 0, jobId: windowJobId(backfillId, window) }));
  const report = (): BackfillReport => ({ backfillId, model: input.model, period: input.period, timeZone: input.timeZone, windows: rows, totals: totalsOf(rows) });
  setHandler(backfillProgressQuery, report);
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.model, value: input.model.split('@')[0] },
    { key: SEARCH_ATTRIBUTES.jobStatus, value: 'running' },
  ]);

  const cancelled = await runWindows(input, rows);
  const done = report();
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.jobStatus, value: cancelled ? 'cancelled' : done.totals.failed > 0 ? 'completed-with-failures' : 'completed' }]);
  if (cancelled) throw cancelled.error;
  return done;
}

/**
 * A sliding window over the range: a finished window job makes room for the next. Returns the
 * cancellation when the backfill itself was cancelled (no window starts after it).
 */
async function runWindows(input: ValidDetectBackfillInput, rows: BackfillWindowRow[]): Promise<{ error: unknown } | undefined> {
  const inFlight = new Set<Promise<void>>();
  let next = 0;
  let cancelled: { error: unknown } | undefined;
  const scope = CancellationScope.current();
  while ((next < rows.length && !cancelled) || inFlight.size > 0) {
    while (inFlight.size < input.maxConcurrentWindows && next < rows.length && !cancelled && !scope.consideredCancelled) {
      const row = rows[next++];
      row.status = 'running';
      const running: Promise<void> = runWindow(input, row)
        .catch((error: unknown) => {
          row.status = 'failed';
          row.error = isCancellation(error) ? 'cancelled' : rootCauseMessage(error);
          if (isCancellation(error) && scope.consideredCancelled) cancelled ??= { error };
        })
        .finally(() => inFlight.delete(running));
      inFlight.add(running);
    }
    if (scope.consideredCancelled && !cancelled && inFlight.size === 0) {
      // Cancelled between two windows: nothing in flight to carry the cancellation.
      cancelled = { error: await CancellationScope.current().cancelRequested.catch((err: unknown) => err) };
    }
    if (inFlight.size > 0) await Promise.race(inFlight);
  }
  return cancelled;
}

async function runWindow(input: ValidDetectBackfillInput, row: BackfillWindowRow): Promise<void> {
  const child = await startChild(detectBatch, {
    workflowId: row.jobId,
    // A backfill that is cancelled, terminated or times out takes its running window jobs with it.
    parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
    args: [windowInput(input, row.window)],
  });
  const outcome: DetectionSummary | SourceRunOutcome = await child.result();
  row.rows = outcome.rows;
  row.anomalies = outcome.anomalies;
  if (outcome.status === 'completed') {
    row.status = 'scored';
  } else {
    row.status = outcome.status;
    if (outcome.scoredBy) row.scoredBy = outcome.scoredBy;
  }
}

function windowInput(input: ValidDetectBackfillInput, window: JobWindow): DetectBatchInput {
  return {
    model: input.model,
    source: input.source,
    window,
    period: input.period,
    timeZone: input.timeZone,
    ...(input.chunkRows !== null ? { chunkRows: input.chunkRows } : {}),
    ...(input.maxConcurrentChunks !== null ? { maxConcurrentChunks: input.maxConcurrentChunks } : {}),
    ...(input.threshold !== null ? { threshold: input.threshold } : {}),
    ...(input.explain !== null ? { explain: input.explain } : {}),
    // Runs from before sinks had none in their input: their children's inputs are unchanged.
    ...(input.sink !== null ? { sink: input.sink } : {}),
  };
}

/** `${backfillId}-${window.start}` with what a workflow id should not hold (`:`) made a dash. */
export function windowJobId(backfillId: string, window: JobWindow): string {
  return `${backfillId}-${window.start}`.replace(/[^A-Za-z0-9_.-]/g, '-');
}

function totalsOf(rows: BackfillWindowRow[]): BackfillTotals {
  const totals: BackfillTotals = { windows: rows.length, scored: 0, skipped: 0, noData: 0, failed: 0, rows: 0, anomalies: 0 };
  for (const row of rows) {
    if (row.status === 'scored') totals.scored++;
    else if (row.status === 'skipped') totals.skipped++;
    else if (row.status === 'no-data') totals.noData++;
    else if (row.status === 'failed') totals.failed++;
    totals.rows += row.rows;
    totals.anomalies += row.anomalies;
  }
  return totals;
}
