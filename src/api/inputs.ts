import { ApplicationFailure } from '@temporalio/common';
import type { DetectionPlan } from './results';
import type { CsvLayout } from '../data/csvLayout';
import { DetectorOptionError } from '../scoring/detector';
import { checkDetectorOptions, findDetectorFactory, trainableAlgorithms } from '../scoring/registry';
import { isMissingPolicy, MISSING_POLICIES, type MissingPolicy } from '../scoring/imputer';
import type { ChunkList } from '../data/formats/chunks';
import { DATASET_FORMATS, type DatasetFormatName } from '../data/formats/names';
import { datasetKey } from '../storage/keys';
import type { ChunkPlan } from '../data/chunkPolicy';
import { validateContinuation } from './detectContinuation';
import { validateSink, type SinkSpec } from './sinkInput';
import { validateSource, type SourceSpec } from './sourceInput';
import { validateTimeZone, validateWindow, WINDOW_PERIODS, type JobWindow, type WindowPeriod } from './window';
import { MAX_EXPLAIN_TOP, validateThreshold, type ThresholdRule } from './threshold';
import { validateFeatureChoice, type SchemaType, type TimestampPolicy } from './featureChoice';

/**
 * Input validation shared by the workflows (first thing they do) and the client (before it
 * starts one). Every workflow takes one JSON object, as the Temporal Web UI sends it; a bad
 * field fails the workflow at once with a non-retryable error that names the field.
 */

export function invalidInput(workflow: string, field: string, problem: string): never {
  throw ApplicationFailure.nonRetryable(`${workflow} input: "${field}" ${problem}`, 'InvalidInput');
}

export type Json = Record<string, unknown>;

/** What each workflow's input looks like, for the error a person sees when it is not one JSON object. */
export const INPUT_EXAMPLES: Readonly<Record<string, string>> = {
  registerDataset: '{"name": "cardio.csv", "objectKey": "sha256/49/49108b…2e54.csv", "sha256": "49108b…2e54", "format": "csv"} (nomaly datasets upload FILE does this for you)',
  trainModel: '{"datasetId": "ds_0123456789abcdef", "modelName": "cardio"}',
  detectBatch: '{"model": "cardio", "datasetId": "ds_0123456789abcdef"}',
  sendAlert: '{"jobId": "detect-…", "model": "cardio@1", "datasetId": "ds_0123456789abcdef", "rows": 1831, "anomalies": 192, "anomalyRate": 0.1049, "alertAnomalyRateAbove": 0.05, "report": "nomaly-results/jobs/detect-…/report.html"}',
};

export function asObject(workflow: string, input: unknown): Json {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    invalidInput(workflow, '(input)', `must be one JSON object, e.g. ${INPUT_EXAMPLES[workflow] ?? '{}'}`);
  }
  return input as Json;
}

export function rejectUnknown(workflow: string, input: Json, allowed: readonly string[]): void {
  for (const key of Object.keys(input)) {
    if (!allowed.includes(key)) invalidInput(workflow, key, `is not a known field (known: ${allowed.join(', ')})`);
  }
}

const NAME = /^[a-z0-9][a-z0-9_.-]{0,99}$/i;

export function requiredString(workflow: string, input: Json, field: string, pattern?: RegExp, hint = ''): string {
  const value = input[field];
  if (typeof value !== 'string' || value.length === 0) invalidInput(workflow, field, 'is required and must be a non-empty string');
  if (pattern && !pattern.test(value)) invalidInput(workflow, field, `"${value}" is not valid${hint}`);
  return value;
}

export function optionalNumber(workflow: string, input: Json, field: string, min: number, max: number, integer: boolean): number | undefined {
  const value = input[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    invalidInput(workflow, field, `must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

export { DATASET_FORMATS, type DatasetFormatName };

export interface RegisterDatasetWorkflowInput {
  name: string;
  /** Where the upload put the bytes: always `sha256/<first 2 hex>/<sha256>.<format>`. */
  objectKey: string;
  sha256: string;
  format?: DatasetFormatName;
}

export function validateRegisterDatasetInput(raw: unknown): Required<RegisterDatasetWorkflowInput> {
  const w = 'registerDataset';
  const input = asObject(w, raw);
  rejectUnknown(w, input, ['name', 'objectKey', 'sha256', 'format']);
  const format = input.format ?? 'csv';
  if (!DATASET_FORMATS.includes(format as never)) {
    invalidInput(w, 'format', `"${String(format)}" is not supported (supported: ${DATASET_FORMATS.join(', ')})`);
  }
  // Lengths first, so that a huge value is not quoted back in the error.
  if (typeof input.sha256 === 'string' && input.sha256.length > 64) invalidInput(w, 'sha256', `must be 64 lowercase hex digits, got ${input.sha256.length} characters`);
  const sha256 = requiredString(w, input, 'sha256', /^[0-9a-f]{64}$/, ' (64 lowercase hex digits)');
  const objectKey = requiredString(w, input, 'objectKey');
  // Content-addressed: the key is a function of the digest, so no key can point outside the dataset prefix.
  const expectedKey = datasetKey(sha256, String(format));
  if (objectKey !== expectedKey) {
    const shown = objectKey.length > 200 ? `${objectKey.slice(0, 200)}…` : objectKey;
    invalidInput(w, 'objectKey', `"${shown}" is refused: a dataset's key must be "${expectedKey}" (its sha256 under the sha256/ prefix; keys that escape it are not allowed)`);
  }
  return { name: datasetName(w, input), objectKey, sha256, format: format as DatasetFormatName };
}

/** The registry's dataset name column is varchar(255): a longer name is refused here, not by the database. */
export const MAX_DATASET_NAME_CHARS = 255;

function datasetName(w: string, input: Json): string {
  const name = requiredString(w, input, 'name');
  if (name.length > MAX_DATASET_NAME_CHARS) invalidInput(w, 'name', `is ${name.length} characters long; a dataset name has at most ${MAX_DATASET_NAME_CHARS}`);
  if (/[\u0000-\u001f\u007f]/.test(name)) invalidInput(w, 'name', 'holds a control character (a line break, tab or NUL); use printable text');
  if (name.trim() === '') invalidInput(w, 'name', 'is blank; give the dataset a name');
  return name;
}

/** The scoring core's algorithms, from its registry; the pipeline is offered as the `standardize` field instead. */
export const ALGORITHMS: readonly string[] = trainableAlgorithms();
export type Algorithm = string;
export const STANDARDIZATIONS = ['none', 'zscore', 'robust'] as const;

export interface TrainModelInput {
  /** An uploaded dataset; or, instead, a `source` read for `window`. */
  datasetId?: string;
  /** Data where it lives, as detectBatch takes it (src/api/sourceInput.ts); needs `window` and `featureColumns`. */
  source?: SourceSpec;
  window?: JobWindow;
  /** The zone `{date}` and `$date` are counted in, and timestamp features' hour of day and weekday (IANA name, default UTC). */
  timeZone?: string;
  modelName: string;
  algorithm?: Algorithm;
  /** The algorithm's own options, e.g. {"nTrees": 200} or {"nNeighbors": 10}; checked by the detector. */
  params?: Record<string, unknown>;
  /** The columns to learn from, in order (src/api/featureChoice.ts); default every typed column but the label and the id. */
  features?: string[];
  /** The older name of `features`. */
  featureColumns?: string[];
  /** Columns not to learn from. */
  exclude?: string[];
  /** A column's type, over the one registration inferred: {"country": "category", "created_at": "timestamp", "note": "exclude"}. */
  schema?: Record<string, SchemaType>;
  /** Timestamp columns as hour-of-day and weekday features ("cyclic", the default), or left out ("exclude"). */
  timestamps?: TimestampPolicy;
  /** Expected share of anomalies; sets the threshold (every algorithm has it). */
  contamination?: number;
  /** A standardiser fitted in front of the detector and stored with it. */
  standardize?: (typeof STANDARDIZATIONS)[number];
  /**
   * Missing feature values (src/scoring/imputer.ts): "median" (default) fills the training median
   * and adds a missing-indicator feature per column that had any; "zero" fills 0; "reject" fails
   * the training on the first missing value.
   */
  missing?: MissingPolicy;
  /** Seeds the training sample and the held-out split (and the detector, when it takes a seed and params has none). Default 0. */
  seed?: number;
  /** Rows kept in memory to fit on (a seeded reservoir sample while streaming); default per algorithm, see README. */
  maxTrainRows?: number;
  /** The rule the model's jobs flag with unless a job gives its own (src/api/threshold.ts); default contamination. */
  threshold?: ThresholdRule;
}

export interface ValidTrainModelInput {
  /** Exactly one of datasetId and source (with its window). */
  datasetId: string | null;
  source: { spec: SourceSpec; window: JobWindow; timeZone: string } | null;
  modelName: string;
  algorithm: Algorithm;
  featureColumns?: string[];
  /** The rest of the column choice, each only when given (so older inputs are what they were). */
  exclude?: string[];
  schema?: Record<string, SchemaType>;
  timestamps?: TimestampPolicy;
  /** Training on a dataset: the zone of timestamp features, when given (a source's is in `source`). */
  timeZone?: string;
  params: Record<string, unknown>;
  standardize: (typeof STANDARDIZATIONS)[number];
  /** Only when given (the default, "median", is the fitting's). */
  missing?: MissingPolicy;
  seed: number;
  maxTrainRows?: number;
  threshold: ThresholdRule | null;
}


/**
 * `detectorOptions: false` skips the detector's own option checks (for runs recorded before the
 * workflow made them); `sourceFeaturesRequired` refuses training on a source without chosen
 * features (runs recorded before sources had inferred types).
 */
export function validateTrainModelInput(raw: unknown, checks: { detectorOptions: boolean; sourceFeaturesRequired?: boolean } = { detectorOptions: true }): ValidTrainModelInput {
  const w = 'trainModel';
  const input = asObject(w, raw);
  rejectUnknown(w, input, ['datasetId', 'source', 'window', 'timeZone', 'modelName', 'algorithm', 'params', 'features', 'featureColumns', 'exclude', 'schema', 'timestamps', 'contamination', 'standardize', 'missing', 'seed', 'maxTrainRows', 'threshold']);
  const algorithm = input.algorithm ?? 'isolation-forest';
  if (!ALGORITHMS.includes(algorithm as never)) {
    invalidInput(w, 'algorithm', `"${String(algorithm)}" is not a known algorithm (known: ${ALGORITHMS.join(', ')})`);
  }
  const standardize = input.standardize ?? 'none';
  if (!STANDARDIZATIONS.includes(standardize as never)) {
    invalidInput(w, 'standardize', `"${String(standardize)}" is not one of ${STANDARDIZATIONS.join(', ')}`);
  }
  if (input.missing !== undefined && !isMissingPolicy(input.missing)) {
    invalidInput(w, 'missing', `"${String(input.missing)}" is not one of ${MISSING_POLICIES.join(', ')}`);
  }
  const choice = validateFeatureChoice(w, input);
  const rawParams = input.params ?? {};
  if (typeof rawParams !== 'object' || rawParams === null || Array.isArray(rawParams)) {
    invalidInput(w, 'params', 'must be a JSON object of the algorithm\'s options, e.g. {"nTrees": 200}');
  }
  const params: Record<string, unknown> = { ...(rawParams as Record<string, unknown>) };
  const contamination = optionalNumber(w, input, 'contamination', 0.0001, 0.5, false);
  if (contamination !== undefined) params.contamination = contamination;
  const seed = optionalNumber(w, input, 'seed', 0, 4294967295, true) ?? 0;
  if (input.seed !== undefined && findDetectorFactory(algorithm as string)?.takesSeed && params.seed === undefined) params.seed = seed;
  const maxTrainRows = optionalNumber(w, input, 'maxTrainRows', 1, 50_000_000, true);
  if (checks.detectorOptions) checkAlgorithmOptions(w, algorithm as string, params);
  const source = trainingSource(w, input, checks.sourceFeaturesRequired === true);
  return {
    seed,
    maxTrainRows,
    datasetId: source ? null : requiredString(w, input, 'datasetId', /^ds_[0-9a-f]{16}$/, ' (dataset ids look like ds_0123456789abcdef)'),
    source,
    modelName: requiredString(w, input, 'modelName', NAME, ' (1-100 letters, digits, _ . -; starting with a letter or digit)'),
    algorithm: algorithm as Algorithm,
    featureColumns: choice.features,
    ...(input.exclude !== undefined ? { exclude: choice.exclude } : {}),
    ...(input.schema !== undefined ? { schema: choice.schema } : {}),
    ...(input.timestamps !== undefined ? { timestamps: choice.timestamps } : {}),
    ...(!source && input.timeZone !== undefined ? { timeZone: validateTimeZone(w, 'timeZone', input.timeZone) } : {}),
    params,
    standardize: standardize as ValidTrainModelInput['standardize'],
    ...(input.missing !== undefined ? { missing: input.missing as MissingPolicy } : {}),
    threshold: input.threshold === undefined ? null : validateThreshold(w, 'threshold', input.threshold),
  };
}

/** Training on a source: the source and its window (required: training has no schedule to take one from). */
function trainingSource(w: string, input: Json, featuresRequired: boolean): ValidTrainModelInput['source'] {
  if (input.source === undefined) {
    if (input.window !== undefined) invalidInput(w, 'window', 'applies to training on a source only');
    return null;
  }
  if (input.datasetId !== undefined) invalidInput(w, 'source', 'and "datasetId" go one at a time: give one of them');
  const spec = validateSource(w, input.source);
  if (input.window === undefined) invalidInput(w, 'window', 'is required to train on a source, e.g. {"start": "2026-11-01", "end": "2026-12-01"}');
  if (featuresRequired && input.featureColumns === undefined && input.features === undefined) invalidInput(w, 'featureColumns', 'is required to train on a source (its columns are not profiled in advance): list the columns to learn from (here or as "features"; their types in "schema" when not numbers)');
  return { spec, window: validateWindow(w, 'window', input.window), timeZone: validateTimeZone(w, 'timeZone', input.timeZone) };
}

/**
 * The detector's own checks of its options (the core's option specs are the one source), run
 * before anything is reserved; the same checks fitModel would make, minus those that need the data.
 */
function checkAlgorithmOptions(workflow: string, algorithm: string, params: Record<string, unknown>): void {
  try {
    checkDetectorOptions(algorithm, params);
  } catch (err) {
    if (err instanceof DetectorOptionError) invalidInput(workflow, err.option === undefined ? 'params' : `params.${err.option}`, `is refused: ${err.message}`);
    // Anything else (an ensemble nested past the stack's depth) must still end the workflow, not fail its task for ever.
    invalidInput(workflow, 'params', `could not be checked: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export interface DetectBatchInput {
  /** `NAME` (the active version) or `NAME@VERSION`. */
  model: string;
  /** An uploaded dataset; or, instead, a `source`. */
  datasetId?: string;
  /** Data where it lives (objects under a prefix, a PostgreSQL query), read for `window` (src/api/sourceInput.ts). */
  source?: SourceSpec;
  /** The time range a source job scores; a scheduled run derives it from its start time and `period`. */
  window?: JobWindow;
  /** A scheduled run's window: the period before the one it is due in (default day). */
  period?: WindowPeriod;
  /** The zone windows, dates and periods are counted in (IANA name, default UTC). */
  timeZone?: string;
  /** Rows per chunk; by default chosen from the dataset's size (src/data/chunkPolicy.ts). */
  chunkRows?: number;
  maxConcurrentChunks?: number;
  /** Post an alert to the configured webhook when the job's anomaly rate exceeds this share (0-1). */
  alertAnomalyRateAbove?: number;
  /** Chunks one run starts before it continues as new (default 500), keeping each run's history small. */
  chunksPerRun?: number;
  /** Also write every row's score as CSV (row, id when the dataset has one, score, is_anomaly) next to scores.f64. */
  exportCsv?: boolean;
  /** Which rows are anomalies (src/api/threshold.ts); default the model's rule, else its contamination threshold. */
  threshold?: ThresholdRule;
  /** Top features stored with each anomaly (0 to 32, default 5; 0 explains nothing). */
  explain?: number;
  /** Also upsert the job's anomalies (or every score) into a PostgreSQL table (src/api/sinkInput.ts). */
  sink?: SinkSpec;
  /**
   * Set by the workflow itself when it continues as new: the plan, the cursor and the totals so
   * far. Refused in any input but a continued run's own (see validateDetectBatchInput).
   */
  continuation?: DetectContinuation;
}

/**
 * What a run hands the next. Runs started before the planning activity carry `chunkPlan` (and
 * `layout` for CSV); newer ones carry `chunkList`, the chunks as planning returned them.
 */
export interface DetectContinuation {
  plan: DetectionPlan;
  chunkList?: ChunkList;
  chunkPlan?: ChunkPlan;
  layout?: CsvLayout;
  nextChunk: number;
  chunksDone: number;
  rowsScored: number;
  anomaliesSoFar: number;
  scoringStartedAt?: number;
}

/** How a job runs its chunks; how big they are is the planning activity's (src/data/chunkPolicy.ts). */
export const DETECT_DEFAULTS = {
  maxConcurrentChunks: 4,
  chunksPerRun: 500,
} as const;

export type ValidDetectBatchInput = Required<Omit<DetectBatchInput, 'chunkRows' | 'alertAnomalyRateAbove' | 'continuation' | 'datasetId' | 'source' | 'window' | 'threshold' | 'explain' | 'sink'>> & {
  /** null: no sink. */
  sink: SinkSpec | null;
  /** null: the model's rule. */
  threshold: ThresholdRule | null;
  /** null: the default (DEFAULT_EXPLAIN_TOP). */
  explain: number | null;
  /** Exactly one of datasetId and source. */
  datasetId: string | null;
  source: SourceSpec | null;
  window: JobWindow | null;
  /** null: the chunking policy's default for the dataset's rows. */
  chunkRows: number | null;
  alertAnomalyRateAbove: number | null;
  continuation?: DetectContinuation;
};

/**
 * `continuedJobId`: the job's id when this run was continued as new from an earlier run of it
 * (workflowInfo().continuedFromExecutionRunId is set); only such a run may carry a
 * `continuation`, and it is checked field by field like the rest of the input.
 */
export function validateDetectBatchInput(raw: unknown, run: { continuedJobId?: string } = {}): ValidDetectBatchInput {
  const w = 'detectBatch';
  const input = asObject(w, raw);
  if (input.continuation !== undefined && run.continuedJobId === undefined) {
    invalidInput(w, 'continuation', 'is set by detectBatch itself when a long job continues as new; leave it out');
  }
  // The internal field is not offered to a person as a known one.
  const userFields = ['model', 'datasetId', 'source', 'window', 'period', 'timeZone', 'chunkRows', 'maxConcurrentChunks', 'alertAnomalyRateAbove', 'chunksPerRun', 'exportCsv', 'threshold', 'explain', 'sink'];
  rejectUnknown(w, input, run.continuedJobId === undefined ? userFields : [...userFields, 'continuation']);
  if (input.exportCsv !== undefined && typeof input.exportCsv !== 'boolean') invalidInput(w, 'exportCsv', `must be true or false, got ${JSON.stringify(input.exportCsv)}`);
  if (input.datasetId === undefined && input.source === undefined) {
    invalidInput(w, 'datasetId', 'is required (an uploaded dataset), unless "source" names data where it lives');
  }
  if (input.datasetId !== undefined && input.source !== undefined) invalidInput(w, 'source', 'and "datasetId" go one at a time: give one of them');
  const source = input.source === undefined ? null : validateSource(w, input.source);
  if (!source && (input.window !== undefined || input.period !== undefined || input.timeZone !== undefined)) {
    invalidInput(w, input.window !== undefined ? 'window' : input.period !== undefined ? 'period' : 'timeZone', 'applies to a job over a source only (an uploaded dataset is scored whole)');
  }
  if (input.period !== undefined && !WINDOW_PERIODS.includes(input.period as never)) {
    invalidInput(w, 'period', `${JSON.stringify(input.period)?.slice(0, 40)} is not one of ${WINDOW_PERIODS.join(', ')}`);
  }
  return {
    model: requiredString(w, input, 'model', /^[a-z0-9][a-z0-9_.-]{0,99}(@[1-9][0-9]*)?$/i, ' (use NAME or NAME@VERSION)'),
    datasetId: source ? null : requiredString(w, input, 'datasetId', /^ds_[0-9a-f]{16}$/, ' (dataset ids look like ds_0123456789abcdef)'),
    source,
    window: input.window === undefined ? null : validateWindow(w, 'window', input.window),
    period: (input.period as WindowPeriod | undefined) ?? 'day',
    timeZone: validateTimeZone(w, 'timeZone', input.timeZone),
    chunkRows: optionalNumber(w, input, 'chunkRows', 100, 10_000_000, true) ?? null,
    maxConcurrentChunks: optionalNumber(w, input, 'maxConcurrentChunks', 1, 100, true) ?? DETECT_DEFAULTS.maxConcurrentChunks,
    alertAnomalyRateAbove: optionalNumber(w, input, 'alertAnomalyRateAbove', 0, 1, false) ?? null,
    chunksPerRun: optionalNumber(w, input, 'chunksPerRun', 1, 5000, true) ?? DETECT_DEFAULTS.chunksPerRun,
    exportCsv: input.exportCsv === true,
    threshold: input.threshold === undefined ? null : validateThreshold(w, 'threshold', input.threshold),
    explain: optionalNumber(w, input, 'explain', 0, MAX_EXPLAIN_TOP, true) ?? null,
    sink: input.sink === undefined ? null : validateSink(w, input.sink),
    continuation: run.continuedJobId === undefined || input.continuation === undefined ? undefined : validateContinuation(input.continuation, run.continuedJobId),
  };
}
