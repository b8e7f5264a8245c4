import { CHUNK_POLICY } from '../data/chunkPolicy';
import { SNAPSHOT_FORMAT } from '../data/formats/names';
import { DATASET_FORMATS, invalidInput, type DetectContinuation, type Json } from './inputs';
import { MAX_EXPLAIN_TOP, validateThreshold } from './threshold';

/**
 * The continuation a detectBatch run hands to the next when it continues as new, checked field
 * by field before the run trusts it: a malformed one ends the job with a non-retryable error
 * naming the field, never a workflow task that fails (and is retried) for ever.
 */

const W = 'detectBatch';
const SHA256 = /^[0-9a-f]{64}$/;
/** An uploaded dataset's id, or a pinned source snapshot's (src/activities/sourceActivities.ts). */
const DATASET_ID = /^(ds|snap)_[0-9a-f]{16}$/;
/** Far above any real row or byte count, and still an exact integer in a double. */
const MAX_COUNT = Number.MAX_SAFE_INTEGER;
/** What every chunk of a dataset shares (a CSV's header end and index reference): small by design. */
const MAX_SHARED_BYTES = 4096;

function fail(path: string, problem: string): never {
  return invalidInput(W, `continuation${path ? `.${path}` : ''}`, problem);
}

function object(path: string, value: unknown, required: readonly string[], optional: readonly string[] = []): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'must be an object');
  const known = [...required, ...optional];
  for (const key of Object.keys(value as Json)) if (!known.includes(key)) fail(path, `has an unknown field "${key}"`);
  for (const key of required) if ((value as Json)[key] === undefined) fail(path ? `${path}.${key}` : key, 'is missing');
  return value as Json;
}

function integer(path: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(path, `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function text(path: string, value: unknown, pattern?: RegExp): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 1024 || (pattern && !pattern.test(value))) {
    fail(path, `is not valid: ${JSON.stringify(value)?.slice(0, 80)}`);
  }
  return value;
}

function checkPlan(value: unknown, jobId: string): DetectContinuation['plan'] {
  const plan = object('plan', value, [
    'jobId', 'modelId', 'modelName', 'modelVersion', 'modelArtifactKey', 'modelSha256',
    'datasetId', 'datasetKey', 'datasetSha256', 'featureColumns', 'idColumn', 'format', 'rows',
  ], ['flagging']);
  if (plan.jobId !== jobId) fail('plan.jobId', `must be this job's id "${jobId}"`);
  integer('plan.modelId', plan.modelId, 1, MAX_COUNT);
  text('plan.modelName', plan.modelName);
  integer('plan.modelVersion', plan.modelVersion, 1, MAX_COUNT);
  text('plan.modelArtifactKey', plan.modelArtifactKey);
  text('plan.modelSha256', plan.modelSha256, SHA256);
  text('plan.datasetId', plan.datasetId, DATASET_ID);
  text('plan.datasetKey', plan.datasetKey);
  text('plan.datasetSha256', plan.datasetSha256, SHA256);
  const columns = plan.featureColumns;
  if (!Array.isArray(columns) || columns.length === 0 || !columns.every((c) => typeof c === 'string' && c.length > 0)) {
    fail('plan.featureColumns', 'must be a non-empty list of column names');
  }
  if (plan.idColumn !== null) text('plan.idColumn', plan.idColumn);
  if (!DATASET_FORMATS.includes(plan.format as never) && plan.format !== SNAPSHOT_FORMAT) fail('plan.format', `must be one of ${[...DATASET_FORMATS, SNAPSHOT_FORMAT].join(', ')}`);
  integer('plan.rows', plan.rows, 0, MAX_COUNT);
  if (plan.flagging !== undefined) {
    const flagging = object('plan.flagging', plan.flagging, ['rule', 'explainTop']);
    validateThreshold(W, 'continuation.plan.flagging.rule', flagging.rule);
    integer('plan.flagging.explainTop', flagging.explainTop, 0, MAX_EXPLAIN_TOP);
  }
  return plan as unknown as DetectContinuation['plan'];
}

function checkLayout(value: unknown, chunks: number): void {
  const layout = object('layout', value, ['headerEnd', 'dataRows', 'chunkStarts'], ['index']);
  integer('layout.headerEnd', layout.headerEnd, 0, MAX_COUNT);
  integer('layout.dataRows', layout.dataRows, 0, MAX_COUNT);
  const starts = layout.chunkStarts;
  if (!Array.isArray(starts) || starts.length !== chunks + 1) fail('layout.chunkStarts', `must list ${chunks + 1} byte offsets`);
  (starts as unknown[]).forEach((start, i) => {
    integer(`layout.chunkStarts[${i}]`, start, i === 0 ? 0 : (starts as number[])[i - 1], MAX_COUNT);
  });
  if (layout.index !== undefined) {
    const index = object('layout.index', layout.index, ['key', 'sha256']);
    text('layout.index.key', index.key);
    text('layout.index.sha256', index.sha256, SHA256);
  }
}

/** A planned chunk list: row bounds from 0 to the dataset's rows, the format's bounds in order, a small shared part. */
function checkChunkList(value: unknown, rows: number): number {
  const list = object('chunkList', value, ['chunks', 'rowBounds', 'bounds', 'shared']);
  const chunks = integer('chunkList.chunks', list.chunks, 0, CHUNK_POLICY.maxChunksPerJob);
  const rowBounds = list.rowBounds;
  if (!Array.isArray(rowBounds) || rowBounds.length !== chunks + 1) fail('chunkList.rowBounds', `must list ${chunks + 1} row numbers`);
  (rowBounds as unknown[]).forEach((row, i) => {
    integer(`chunkList.rowBounds[${i}]`, row, i === 0 ? 0 : (rowBounds as number[])[i - 1] + 1, i === 0 ? 0 : rows);
  });
  if ((rowBounds as number[])[chunks] !== rows) fail(`chunkList.rowBounds[${chunks}]`, `must be the dataset's ${rows} rows`);
  const bounds = list.bounds;
  if (!Array.isArray(bounds) || bounds.length !== chunks + 1) fail('chunkList.bounds', `must list ${chunks + 1} positions`);
  (bounds as unknown[]).forEach((at, i) => {
    integer(`chunkList.bounds[${i}]`, at, i === 0 ? 0 : (bounds as number[])[i - 1], MAX_COUNT);
  });
  const shared = object('chunkList.shared', list.shared, [], ['headerEnd', 'index', 'plan']);
  if (JSON.stringify(shared).length > MAX_SHARED_BYTES) fail('chunkList.shared', `must be under ${MAX_SHARED_BYTES} bytes of JSON`);
  if (shared.headerEnd !== undefined) integer('chunkList.shared.headerEnd', shared.headerEnd, 0, MAX_COUNT);
  if (shared.index !== undefined) {
    const index = object('chunkList.shared.index', shared.index, ['key', 'sha256']);
    text('chunkList.shared.index.key', index.key);
    text('chunkList.shared.index.sha256', index.sha256, SHA256);
  }
  if (shared.plan !== undefined) {
    const plan = object('chunkList.shared.plan', shared.plan, ['key', 'sha256']);
    text('chunkList.shared.plan.key', plan.key);
    text('chunkList.shared.plan.sha256', plan.sha256, SHA256);
  }
  return chunks;
}

/** `value` as a continuation of job `jobId`, or a non-retryable InvalidInput failure naming the first bad field. */
export function validateContinuation(value: unknown, jobId: string): DetectContinuation {
  const state = object('', value, ['plan', 'nextChunk', 'chunksDone', 'rowsScored', 'anomaliesSoFar'], ['chunkList', 'chunkPlan', 'layout', 'scoringStartedAt']);
  const plan = checkPlan(state.plan, jobId);
  let chunks: number;
  if (state.chunkList !== undefined) {
    if (state.chunkPlan !== undefined || state.layout !== undefined) fail('chunkList', 'comes without chunkPlan and layout');
    chunks = checkChunkList(state.chunkList, plan.rows);
  } else {
    if (state.chunkPlan === undefined) fail('chunkList', 'is missing');
    const chunkPlan = object('chunkPlan', state.chunkPlan, ['chunkRows', 'chunks']);
    const chunkRows = integer('chunkPlan.chunkRows', chunkPlan.chunkRows, 1, MAX_COUNT);
    chunks = integer('chunkPlan.chunks', chunkPlan.chunks, 0, MAX_COUNT);
    if (chunks !== Math.ceil(plan.rows / chunkRows)) fail('chunkPlan.chunks', `must be ${Math.ceil(plan.rows / chunkRows)} for ${plan.rows} rows of ${chunkRows}`);
    if (state.layout !== undefined) checkLayout(state.layout, chunks);
  }
  integer('nextChunk', state.nextChunk, 0, chunks);
  integer('chunksDone', state.chunksDone, 0, chunks);
  const rowsScored = integer('rowsScored', state.rowsScored, 0, plan.rows);
  integer('anomaliesSoFar', state.anomaliesSoFar, 0, rowsScored);
  if (state.scoringStartedAt !== undefined && (typeof state.scoringStartedAt !== 'number' || !Number.isFinite(state.scoringStartedAt))) {
    fail('scoringStartedAt', 'must be a time in milliseconds');
  }
  return state as unknown as DetectContinuation;
}
