/**
 * The contract every anomaly detector follows (modelled on PyOD's BaseDetector): fit once,
 * fix the decision threshold from the contamination at fit time, then score and predict any
 * number of matrices. Keeping one shape lets the platform swap and compare algorithms, and lets
 * the model codec store any detector as a JSON header plus typed-array sections.
 */
import { Matrix } from './matrix';

/** Typed arrays the model codec knows how to store. */
export type SectionArray =
  | Float64Array
  | Float32Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array;

export interface StateSection {
  readonly name: string;
  readonly data: SectionArray;
}

/**
 * Everything needed to rebuild a fitted detector. Sections are ordered so that encoding is
 * deterministic. The arrays may be the detector's own: treat them as read-only.
 */
export interface DetectorState {
  readonly algorithm: string;
  readonly nFeatures: number;
  readonly threshold: number;
  readonly params: Readonly<Record<string, number>>;
  readonly sections: readonly StateSection[];
  /**
   * String-valued settings that are not numbers, e.g. a pipeline's standardiser kind
   * ('zscore') or an ensemble's normalisation ('ecdf'). Omitted (or empty) for most detectors.
   */
  readonly settings?: Readonly<Record<string, string>>;
  /**
   * The states of the detectors a composite detector (pipeline, ensemble) is built from, in
   * order. The model codec stores them recursively. Omitted (or empty) for plain detectors.
   */
  readonly children?: readonly DetectorState[];
}

export interface Detector {
  /** Registry name, e.g. 'isolation-forest'. */
  readonly algorithm: string;
  readonly nFeatures: number;
  /** Scores strictly above this are anomalies; fixed at fit time from contamination. */
  readonly threshold: number;
  /** The resolved options (defaults filled in), including contamination and seed. */
  readonly params: Readonly<Record<string, number>>;
  /** Anomaly score per row; higher = more anomalous. Writes into `out` when given. */
  score(X: Matrix, out?: Float64Array): Float64Array;
  /** 1 where score > threshold, else 0. Writes into `out` when given. */
  predict(X: Matrix, out?: Uint8Array): Uint8Array;
  /**
   * Why the given rows of X score as they do: one contribution per feature for each row, row-major
   * (rows.length × nFeatures), higher = the feature pushed the row toward anomalous. Each detector's
   * doc says which attribution it uses and what property holds (e.g. the row's contributions sum to
   * its score). Writes into `out` when given. Deterministic: same model, data and rows, same bytes.
   */
  explain(X: Matrix, rows: RowSelection, out?: Float64Array): Float64Array;
  /** The fitted state for the model codec. */
  toState(): DetectorState;
}

/** Row indices of a matrix, e.g. the rows a job flagged. */
export type RowSelection = Int32Array | readonly number[];

/** Bad detector options: a user error that no retry can fix. */
export class DetectorOptionError extends Error {
  constructor(
    message: string,
    /** The offending option, when one is to blame. */
    readonly option?: string,
  ) {
    super(message);
    this.name = 'DetectorOptionError';
  }
}

/** Data a detector cannot use (no rows, NaN/Infinity, wrong number of columns). */
export class DetectorInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DetectorInputError';
  }
}

/** One numeric option: its default and allowed range. */
export interface NumericOptionSpec {
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
  /** When true the range excludes `min` itself, e.g. contamination in (0, 0.5]. */
  readonly exclusiveMin?: boolean;
  readonly exclusiveMax?: boolean;
}

export type OptionSpecs = Readonly<Record<string, NumericOptionSpec>>;

export type ResolvedOptions<S extends OptionSpecs> = { readonly [K in keyof S]: number };

function describeRange(spec: NumericOptionSpec): string {
  const open = spec.exclusiveMin ? '(' : '[';
  const close = spec.exclusiveMax ? ')' : ']';
  return `${spec.integer ? 'an integer' : 'a number'} in ${open}${spec.min}, ${spec.max}${close}`;
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`;
  if (typeof value === 'number') return String(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

/**
 * Checks `options` (possibly straight from user JSON) against `specs` and returns every option
 * with defaults filled in, frozen, in spec order (so model headers serialize identically).
 * Unknown names, non-numbers, non-finite, out-of-range and non-integer values throw a
 * DetectorOptionError naming the option, the value and what is allowed.
 */
export function resolveOptions<S extends OptionSpecs>(
  algorithm: string,
  specs: S,
  options: unknown,
): ResolvedOptions<S> {
  const allowed = Object.keys(specs);
  if (options !== undefined && options !== null && (typeof options !== 'object' || Array.isArray(options))) {
    throw new DetectorOptionError(
      `${algorithm}: options must be an object with any of ${allowed.join(', ')}; got ${describeValue(options)}`,
    );
  }
  const given = (options ?? {}) as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    // hasOwnProperty, not `in`: 'toString' or '__proto__' must not pass as a known option.
    if (!Object.prototype.hasOwnProperty.call(specs, name)) {
      throw new DetectorOptionError(
        `${algorithm}: unknown option "${name}". Allowed options: ${allowed.join(', ')}`,
        name,
      );
    }
  }
  const resolved: Record<string, number> = {};
  for (const name of allowed) {
    const spec = specs[name];
    const value = given[name];
    if (value === undefined) {
      resolved[name] = spec.default;
      continue;
    }
    const expected = describeRange(spec);
    if (typeof value !== 'number') {
      throw new DetectorOptionError(
        `${algorithm}: option "${name}" must be ${expected}; got ${describeValue(value)}`,
        name,
      );
    }
    const belowMin = spec.exclusiveMin ? value <= spec.min : value < spec.min;
    const aboveMax = spec.exclusiveMax ? value >= spec.max : value > spec.max;
    if (!Number.isFinite(value) || belowMin || aboveMax || (spec.integer && !Number.isInteger(value))) {
      throw new DetectorOptionError(`${algorithm}: option "${name}" must be ${expected}; got ${value}`, name);
    }
    resolved[name] = value;
  }
  return Object.freeze(resolved) as ResolvedOptions<S>;
}

/** The first NaN or ±Infinity in X, if any (a separate pass keeps the scoring loops branch-free). */
function findNonFinite(X: Matrix): { row: number; col: number; value: number } | undefined {
  const data = X.data;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    // v - v is 0 for every finite v and NaN for NaN and ±Infinity.
    if (v - v !== 0) return { row: Math.floor(i / X.cols), col: i % X.cols, value: v };
  }
  return undefined;
}

/** Rejects training data no detector can learn from. */
export function checkFitInput(algorithm: string, X: Matrix): void {
  if (X.rows === 0) throw new DetectorInputError(`${algorithm}: cannot fit on a dataset with 0 rows`);
  if (X.cols === 0) throw new DetectorInputError(`${algorithm}: cannot fit on a dataset with 0 columns`);
  const bad = findNonFinite(X);
  if (bad) {
    throw new DetectorInputError(
      `${algorithm}: training data has a non-finite value (${bad.value}) at row ${bad.row}, column ${bad.col}; ` +
        'impute or drop missing values before fitting',
    );
  }
}

/** Rejects data a fitted detector cannot score, and checks a caller's `out` buffer. */
export function checkScoreInput(detector: Detector, X: Matrix, outLength?: number): void {
  if (X.cols !== detector.nFeatures) {
    throw new DetectorInputError(
      `${detector.algorithm}: model was fitted on ${detector.nFeatures} columns but the data has ${X.cols}`,
    );
  }
  if (outLength !== undefined && outLength !== X.rows) {
    throw new RangeError(`output buffer has length ${outLength} but the data has ${X.rows} rows`);
  }
  const bad = findNonFinite(X);
  if (bad) {
    throw new DetectorInputError(
      `${detector.algorithm}: data has a non-finite value (${bad.value}) at row ${bad.row}, column ${bad.col}` +
        (Number.isNaN(bad.value) ? ' (a missing value: this model was trained on data without any, so it has no fill-in value for one)' : ''),
    );
  }
}

/**
 * Checks what every decoded state shares — the algorithm it was saved by, a positive whole
 * number of features, a finite threshold — so each detector's fromState checks only its own parts.
 * `accepts` is the algorithm name, or a test for detectors saved under several names (KNN).
 */
export function checkStateHeader(state: DetectorState, algorithm: string, accepts: (name: string) => boolean = (n) => n === algorithm): void {
  if (!accepts(state.algorithm)) {
    throw new DetectorInputError(`${algorithm}: cannot load a model of algorithm "${state.algorithm}"`);
  }
  if (!Number.isInteger(state.nFeatures) || state.nFeatures < 1) {
    throw new DetectorInputError(`${state.algorithm}: invalid model state: nFeatures is ${state.nFeatures}`);
  }
  if (!Number.isFinite(state.threshold)) {
    throw new DetectorInputError(`${state.algorithm}: invalid model state: threshold is ${state.threshold}`);
  }
}

/**
 * Fetches a named section from a decoded state, checking its type, so a detector's fromState
 * reads plainly and a malformed file fails with a message naming the section.
 */
export function stateSection<T extends SectionArray>(
  state: DetectorState,
  name: string,
  type: { new (length: number): T; readonly name: string },
): T {
  const found = state.sections.find((s) => s.name === name);
  if (!found) throw new DetectorInputError(`${state.algorithm}: model state has no "${name}" section`);
  if (!(found.data instanceof type)) {
    throw new DetectorInputError(
      `${state.algorithm}: model state section "${name}" must be a ${type.name}, got ${found.data.constructor.name}`,
    );
  }
  return found.data as T;
}

/** Rows scored at a time by predict, bounding its scratch memory whatever the matrix size. */
const PREDICT_BLOCK = 65_536;

/** Every detector's predict: score block by block into one scratch buffer, 1 where score > threshold. */
export function predictInBlocks(detector: Detector, X: Matrix, out?: Uint8Array): Uint8Array {
  checkScoreInput(detector, X, out?.length);
  const labels = out ?? new Uint8Array(X.rows);
  const scratch = new Float64Array(Math.min(X.rows, PREDICT_BLOCK));
  for (let start = 0; start < X.rows; start += PREDICT_BLOCK) {
    const end = Math.min(start + PREDICT_BLOCK, X.rows);
    const scores = detector.score(X.sliceRows(start, end), scratch.subarray(0, end - start));
    for (let i = 0; i < scores.length; i++) labels[start + i] = scores[i] > detector.threshold ? 1 : 0;
  }
  return labels;
}

/**
 * Every detector's explain input check: X has the model's columns (a DetectorInputError
 * otherwise), every index is a row of X, `out` (if given) holds rows.length × nFeatures values,
 * and the selected rows are finite (unless `missingAllowed`: a detector that fills NaN in). Returns the selected rows as their own matrix, so a detector
 * explains them with its row-wise scoring code; only those rows are scanned, not all of X.
 */
export function selectExplainedRows(detector: Detector, X: Matrix, rows: RowSelection, outLength?: number, options: { missingAllowed?: boolean } = {}): Matrix {
  if (X.cols !== detector.nFeatures) {
    throw new DetectorInputError(
      `${detector.algorithm}: cannot explain rows of ${X.cols} columns with a model fitted on ${detector.nFeatures} columns`,
    );
  }
  const expected = rows.length * detector.nFeatures;
  if (outLength !== undefined && outLength !== expected) {
    throw new RangeError(`explanation buffer has length ${outLength} but ${rows.length} rows × ${detector.nFeatures} features need ${expected}`);
  }
  const indices = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (!Number.isInteger(r) || r < 0 || r >= X.rows) {
      throw new RangeError(`row index ${r} at position ${i} is not a row of the data (0 to ${X.rows - 1})`);
    }
    indices[i] = r;
  }
  const selected = X.selectRows(indices);
  // A detector that fills in missing values (imputer.ts) takes NaN; its inner detector checks the rest.
  if (!options.missingAllowed) checkScoreInput(detector, selected);
  return selected;
}

/** 0, 1, …, n − 1: every row of a matrix of n rows. */
export function allRows(n: number): Int32Array {
  const rows = new Int32Array(n);
  for (let i = 0; i < n; i++) rows[i] = i;
  return rows;
}
