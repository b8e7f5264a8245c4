import { invalidInput, optionalNumber, rejectUnknown, requiredString, type Json } from './inputs';
import { validateSink, type SinkSpec } from './sinkInput';
import { validateSource, type SourceSpec } from './sourceInput';
import { MAX_EXPLAIN_TOP, validateThreshold, type ThresholdRule } from './threshold';
import { MAX_BACKFILL_WINDOWS, parseInstant, validateTimeZone, WINDOW_PERIODS, windowsBetween, type JobWindow, type WindowPeriod } from './window';

/**
 * A backfill scores a source over a range of past windows (days or hours in a zone): one
 * detectBatch job per window. Checked by the detectBackfill workflow first thing, and by the
 * client before it starts one, so that every window's job gets an input that detectBatch takes.
 */
export interface DetectBackfillInput {
  /** `NAME` (the active version) or `NAME@VERSION`. */
  model: string;
  source: SourceSpec;
  /** A date `YYYY-MM-DD` (its local midnight in `timeZone`) or an ISO-8601 instant with a zone. */
  from: string;
  /** The end of the range, excluded; a `to` inside a period ends with that whole period. */
  to: string;
  /** default day */
  period?: WindowPeriod;
  /** IANA name, default UTC. */
  timeZone?: string;
  /** Window jobs running at once (default 2, at most 16). */
  maxConcurrentWindows?: number;
  /** Passed to every window's job. */
  chunkRows?: number;
  maxConcurrentChunks?: number;
  threshold?: ThresholdRule;
  explain?: number;
  /** Passed to every window's job: each upserts its rows under its own run key. */
  sink?: SinkSpec;
}

export interface ValidDetectBackfillInput {
  model: string;
  source: SourceSpec;
  from: string;
  to: string;
  period: WindowPeriod;
  timeZone: string;
  maxConcurrentWindows: number;
  chunkRows: number | null;
  maxConcurrentChunks: number | null;
  threshold: ThresholdRule | null;
  explain: number | null;
  sink: SinkSpec | null;
  /** The windows the range covers, in order: at most MAX_BACKFILL_WINDOWS. */
  windows: JobWindow[];
}

export const BACKFILL_DEFAULTS = { maxConcurrentWindows: 2 } as const;
export const MAX_CONCURRENT_WINDOWS = 16;

const W = 'detectBackfill';
const EXAMPLE = '{"model": "orders", "source": {"kind": "objects", "connection": "lake", "bucket": "sales", "prefix": "orders/dt={date}/", "format": "parquet"}, "from": "2026-11-01", "to": "2026-12-01"}';

/** A value quoted back in an error, cut so a huge input never fills the error (and the history). */
function shown(value: unknown): string {
  if (typeof value !== 'string') return value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value;
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}

function rangeBound(input: Json, field: 'from' | 'to'): string {
  const value = input[field];
  if (typeof value !== 'string' || value === '') invalidInput(W, field, 'is required: a date (YYYY-MM-DD) or an ISO-8601 date-time with a zone, e.g. "2026-11-01"');
  if (!parseInstant(value)) {
    invalidInput(W, field, `${shown(value)} is not a date (YYYY-MM-DD, the local midnight in "timeZone") or an ISO-8601 date-time with a zone (e.g. 2026-11-01T00:00:00Z)`);
  }
  return value;
}

export function validateDetectBackfillInput(raw: unknown): ValidDetectBackfillInput {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) invalidInput(W, '(input)', `must be one JSON object, e.g. ${EXAMPLE}`);
  const input = raw as Json;
  rejectUnknown(W, input, ['model', 'source', 'from', 'to', 'period', 'timeZone', 'maxConcurrentWindows', 'chunkRows', 'maxConcurrentChunks', 'threshold', 'explain', 'sink']);
  const model = requiredString(W, input, 'model', /^[a-z0-9][a-z0-9_.-]{0,99}(@[1-9][0-9]*)?$/i, ' (use NAME or NAME@VERSION)');
  if (input.source === undefined) invalidInput(W, 'source', `is required: the data each window's job reads, e.g. ${EXAMPLE}`);
  const source = validateSource(W, input.source);
  if (input.period !== undefined && !WINDOW_PERIODS.includes(input.period as never)) {
    invalidInput(W, 'period', `${shown(input.period)} is not one of ${WINDOW_PERIODS.join(', ')}`);
  }
  const period = (input.period as WindowPeriod | undefined) ?? 'day';
  const timeZone = validateTimeZone(W, 'timeZone', input.timeZone);
  const from = rangeBound(input, 'from');
  const to = rangeBound(input, 'to');
  let windows: JobWindow[];
  try {
    windows = windowsBetween(from, to, period, timeZone);
  } catch (err) {
    // Both bounds parse, so what is left is their order or the range's length: both about "to".
    invalidInput(W, 'to', windowsProblem(from, to, period, err));
  }
  return {
    model,
    source,
    from,
    to,
    period,
    timeZone,
    maxConcurrentWindows: optionalNumber(W, input, 'maxConcurrentWindows', 1, MAX_CONCURRENT_WINDOWS, true) ?? BACKFILL_DEFAULTS.maxConcurrentWindows,
    // The same bounds as detectBatch's, so no window's job refuses what the backfill took.
    chunkRows: optionalNumber(W, input, 'chunkRows', 100, 10_000_000, true) ?? null,
    maxConcurrentChunks: optionalNumber(W, input, 'maxConcurrentChunks', 1, 100, true) ?? null,
    threshold: input.threshold === undefined ? null : validateThreshold(W, 'threshold', input.threshold),
    explain: optionalNumber(W, input, 'explain', 0, MAX_EXPLAIN_TOP, true) ?? null,
    sink: input.sink === undefined ? null : validateSink(W, input.sink),
    windows,
  };
}

function windowsProblem(from: string, to: string, period: WindowPeriod, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/must be before/.test(message)) return `(${shown(to)}) must be after "from" (${shown(from)})`;
  if (/more than/.test(message)) return `is too far from "from": ${shown(from)} to ${shown(to)} by ${period} is more than ${MAX_BACKFILL_WINDOWS} windows; split it into smaller ranges`;
  return `could not be turned into windows: ${message}`;
}
