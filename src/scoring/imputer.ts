/**
 * Missing values (NaN in the Matrix) filled in front of any detector, fitted on the training
 * sample and stored with the model, so scoring fills them exactly as training did:
 * score(X) = inner.score(impute(X)).
 *
 * Policies (trainModel's `missing`):
 *   'median'  a missing value becomes its column's training median (of the values present; 0 for
 *             a column with none), and each column that had a missing value in training gets one
 *             indicator feature after the original columns: 1 where the value was missing, else 0.
 *   'zero'    a missing value becomes 0; no indicators.
 *   'reject'  no imputation: a missing value is an error (checkNoMissing), today's behaviour.
 * Any column may be missing at scoring time, also one that never was in training: it gets its
 * fill value (no indicator, since the inner detector never saw one for that column).
 *
 * The composite's state: algorithm 'impute', setting `missing` (the policy), sections 'fill'
 * (float64, one per column) and 'indicators' (int32, the source column of each indicator), the
 * inner detector as its only child. Its threshold and params are the inner detector's.
 *
 * Explanations: the inner detector explains the imputed rows (columns + indicators); each
 * indicator's contribution is added to its source column, so every contribution names an
 * original column.
 */
import {
  checkStateHeader,
  Detector,
  DetectorInputError,
  DetectorOptionError,
  DetectorState,
  RowSelection,
  selectExplainedRows,
  allRows,
  StateSection,
  stateSection,
} from './detector';
import { Matrix } from './matrix';
import { inNestedDetector, parseNestedDetector, predictFromScores, rebuildOnlyChild, scoreInBlocks, type CheckByName, type FitByName, type RebuildDetector } from './pipeline';

const ALGORITHM = 'impute';

export type MissingPolicy = 'median' | 'zero' | 'reject';
export const MISSING_POLICIES: readonly MissingPolicy[] = ['median', 'zero', 'reject'];
export const DEFAULT_MISSING_POLICY: MissingPolicy = 'median';
/** The policies that fill values in (and so are stored in a model). */
export type FillPolicy = Exclude<MissingPolicy, 'reject'>;

export function isMissingPolicy(value: unknown): value is MissingPolicy {
  return typeof value === 'string' && (MISSING_POLICIES as readonly string[]).includes(value);
}

/** The first missing value (NaN) of X, or undefined. */
export function firstMissing(X: Matrix): { row: number; col: number } | undefined {
  const data = X.data;
  for (let i = 0; i < data.length; i++) if (data[i] !== data[i]) return { row: Math.floor(i / X.cols), col: i % X.cols };
  return undefined;
}

/** Counts of missing values per column of X, added into `counts`. */
export function countMissing(X: Matrix, counts: Float64Array): void {
  const { rows, cols, data } = X;
  for (let r = 0, o = 0; r < rows; r++) for (let c = 0; c < cols; c++, o++) if (data[o] !== data[o]) counts[c]++;
}

/** numpy's median of the values present (NaN skipped), or 0 when none are. */
function medianPresent(X: Matrix, c: number, scratch: Float64Array): number {
  let n = 0;
  for (let r = 0, o = c; r < X.rows; r++, o += X.cols) {
    const v = X.data[o];
    if (v === v) scratch[n++] = v;
  }
  if (n === 0) return 0;
  const sorted = scratch.subarray(0, n).sort();
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The fitted transform: fill values and indicator columns. */
export class Imputer {
  private constructor(
    readonly policy: FillPolicy,
    /** Each column's fill value (read-only). */
    readonly fill: Float64Array,
    /** The source column of each indicator feature, ascending (read-only). */
    readonly indicators: Int32Array,
  ) {}

  /** Columns in. */
  get nFeatures(): number {
    return this.fill.length;
  }

  /** Columns out: the originals, then one per indicator. */
  get nOutputs(): number {
    return this.fill.length + this.indicators.length;
  }

  /**
   * Fits on X (which may hold NaN). `missingSeen` (optional, per column) marks columns known to
   * have missing values beyond X, e.g. counted over the whole dataset while X is its sample:
   * they get an indicator too under 'median'.
   */
  static fit(X: Matrix, policy: FillPolicy, missingSeen?: ArrayLike<number>): Imputer {
    if (X.rows === 0 || X.cols === 0) throw new DetectorInputError(`${ALGORITHM}: cannot fit on a dataset with ${X.rows} rows and ${X.cols} columns`);
    const counts = new Float64Array(X.cols);
    countMissing(X, counts);
    const fill = new Float64Array(X.cols);
    const indicators: number[] = [];
    const scratch = new Float64Array(X.rows);
    for (let c = 0; c < X.cols; c++) {
      if (policy === 'median') {
        fill[c] = medianPresent(X, c, scratch);
        if (counts[c] > 0 || (missingSeen !== undefined && missingSeen[c] > 0)) indicators.push(c);
      }
    }
    return new Imputer(policy, fill, Int32Array.from(indicators));
  }

  /** Rebuilds a stored imputer, checking it so a damaged model fails on load, not while scoring. */
  static fromArrays(policy: string, fill: Float64Array, indicators: Int32Array): Imputer {
    if (policy !== 'median' && policy !== 'zero') throw new DetectorInputError(`${ALGORITHM}: unknown missing-value policy "${policy}"`);
    if (fill.length === 0) throw new DetectorInputError(`${ALGORITHM}: no fill values`);
    for (let c = 0; c < fill.length; c++) if (!Number.isFinite(fill[c])) throw new DetectorInputError(`${ALGORITHM}: fill value of column ${c} is ${fill[c]}`);
    for (let i = 0; i < indicators.length; i++) {
      if (indicators[i] < 0 || indicators[i] >= fill.length || (i > 0 && indicators[i] <= indicators[i - 1])) {
        throw new DetectorInputError(`${ALGORITHM}: indicator ${i} names column ${indicators[i]}; indicators must be ascending columns of 0 to ${fill.length - 1}`);
      }
    }
    if (policy === 'zero' && indicators.length > 0) throw new DetectorInputError(`${ALGORITHM}: the "zero" policy has no indicators`);
    return new Imputer(policy, fill, indicators);
  }

  /** Imputes rows [start, end) of X into `out` ((end − start) × nOutputs values) and returns them as a Matrix view of it. */
  transformRows(X: Matrix, start: number, end: number, out: Float64Array): Matrix {
    const cols = this.fill.length;
    if (X.cols !== cols) throw new DetectorInputError(`${ALGORITHM}: fitted on ${cols} columns but the data has ${X.cols}`);
    const width = this.nOutputs;
    const n = (end - start) * width;
    if (out.length < n) throw new RangeError(`output buffer holds ${out.length} values; ${n} are needed`);
    const { fill, indicators } = this;
    const data = X.data;
    for (let r = start, o = 0; r < end; r++, o += width) {
      const at = r * cols;
      for (let c = 0; c < cols; c++) {
        const v = data[at + c];
        out[o + c] = v === v ? v : fill[c];
      }
      for (let k = 0; k < indicators.length; k++) {
        const v = data[at + indicators[k]];
        out[o + cols + k] = v === v ? 0 : 1;
      }
    }
    return new Matrix(end - start, width, out.length === n ? out : out.subarray(0, n));
  }

  /** An imputed copy of the whole matrix (training and tests; scoring goes block by block). */
  transform(X: Matrix): Matrix {
    return this.transformRows(X, 0, X.rows, new Float64Array(X.rows * this.nOutputs));
  }

  /** Contributions over the outputs (rows × nOutputs) folded onto the original columns (rows × nFeatures). */
  foldContributions(contributions: Float64Array, rows: number, out: Float64Array): Float64Array {
    const cols = this.fill.length;
    const width = this.nOutputs;
    const { indicators } = this;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) out[r * cols + c] = contributions[r * width + c];
      for (let k = 0; k < indicators.length; k++) out[r * cols + indicators[k]] += contributions[r * width + cols + k];
    }
    return out;
  }

  toSections(): StateSection[] {
    return [
      { name: 'fill', data: this.fill },
      { name: 'indicators', data: this.indicators },
    ];
  }
}

/**
 * For the 'reject' policy: a clear error naming the first missing value's row (as the caller
 * names rows, e.g. "row 7") and column.
 */
export function checkNoMissing(X: Matrix, columns: readonly string[], rowName: (row: number) => string): void {
  const found = firstMissing(X);
  if (found) {
    throw new DetectorInputError(
      `${rowName(found.row)}, column "${columns[found.col] ?? `#${found.col + 1}`}": the value is missing, and the missing-value policy is "reject" (use "median" or "zero" to fill it in)`,
    );
  }
}

function parseImputedOptions(options: unknown): { missing: FillPolicy; nested: { algorithm: string; options: unknown } } {
  const given = (typeof options === 'object' && options !== null && !Array.isArray(options) ? options : undefined) as Record<string, unknown> | undefined;
  if (!given) throw new DetectorOptionError(`${ALGORITHM}: options must be an object like {"missing": "median", "detector": {"algorithm": "pca"}}`);
  for (const key of Object.keys(given)) {
    if (key !== 'missing' && key !== 'detector') throw new DetectorOptionError(`${ALGORITHM}: unknown option "${key}". Allowed options: missing, detector`, key);
  }
  const missing = given.missing ?? DEFAULT_MISSING_POLICY;
  if (missing !== 'median' && missing !== 'zero') {
    throw new DetectorOptionError(`${ALGORITHM}: option "missing" must be "median" or "zero"; got ${JSON.stringify(missing)}`, 'missing');
  }
  if (given.detector === undefined) throw new DetectorOptionError(`${ALGORITHM}: option "detector" is required, e.g. {"algorithm": "pca"}`, 'detector');
  return { missing, nested: parseNestedDetector(`${ALGORITHM}: option "detector"`, 'detector', given.detector) };
}

/** Missing values filled in front of a detector (see the file comment). */
export class Imputed implements Detector {
  static readonly algorithm = ALGORITHM;
  readonly algorithm = ALGORITHM;

  private constructor(
    readonly imputer: Imputer,
    readonly inner: Detector,
  ) {}

  get nFeatures(): number {
    return this.imputer.nFeatures;
  }

  get threshold(): number {
    return this.inner.threshold;
  }

  get params(): Readonly<Record<string, number>> {
    return this.inner.params;
  }

  /** Fits the imputer on X, then the inner detector (via `fitInner`) on the imputed X. */
  static fitWith(X: Matrix, policy: FillPolicy, fitInner: (imputed: Matrix) => Detector, missingSeen?: ArrayLike<number>): Imputed {
    const imputer = Imputer.fit(X, policy, missingSeen);
    const inner = fitInner(imputer.transform(X));
    if (inner.nFeatures !== imputer.nOutputs) {
      throw new DetectorInputError(`${ALGORITHM}: inner detector has ${inner.nFeatures} features, expected ${imputer.nOutputs}`);
    }
    return new Imputed(imputer, inner);
  }

  /** Fits from options {"missing": "median" | "zero", "detector": {"algorithm", "options"}}, as the registry does by name. */
  static fit(X: Matrix, options: unknown, fitByName: FitByName): Imputed {
    const { missing, nested } = parseImputedOptions(options);
    return Imputed.fitWith(X, missing, (imputed) => inNestedDetector(ALGORITHM, nested.algorithm, () => fitByName(nested.algorithm, imputed, nested.options)));
  }

  static checkOptions(options: unknown, checkByName: CheckByName): void {
    const { nested } = parseImputedOptions(options);
    inNestedDetector(ALGORITHM, nested.algorithm, () => checkByName(nested.algorithm, nested.options));
  }

  static fromState(state: DetectorState, rebuild: RebuildDetector): Imputed {
    const invalid = (why: string): never => {
      throw new DetectorInputError(`${ALGORITHM}: invalid model state: ${why}`);
    };
    checkStateHeader(state, ALGORITHM);
    if (Object.keys(state.params).length > 0) invalid(`unexpected params ${Object.keys(state.params).join(', ')}`);
    const imputer = Imputer.fromArrays(state.settings?.missing ?? '', stateSection(state, 'fill', Float64Array), stateSection(state, 'indicators', Int32Array));
    if (imputer.nFeatures !== state.nFeatures) invalid(`the imputer has ${imputer.nFeatures} columns but nFeatures is ${state.nFeatures}`);
    const inner = rebuildOnlyChild(state, rebuild, ALGORITHM, imputer.nOutputs, invalid);
    return new Imputed(imputer, inner);
  }

  toState(): DetectorState {
    return {
      algorithm: this.algorithm,
      nFeatures: this.nFeatures,
      threshold: this.threshold,
      params: {},
      settings: { missing: this.imputer.policy },
      sections: this.imputer.toSections(),
      children: [this.inner.toState()],
    };
  }

  /** Scores block by block through one reused buffer; the inner detector refuses what is still not finite (±Infinity). */
  score(X: Matrix, out?: Float64Array): Float64Array {
    if (X.cols !== this.nFeatures) {
      throw new DetectorInputError(`${ALGORITHM}: model was fitted on ${this.nFeatures} columns but the data has ${X.cols}`);
    }
    if (out !== undefined && out.length !== X.rows) throw new RangeError(`output buffer has length ${out.length} but the data has ${X.rows} rows`);
    return scoreInBlocks(this.inner, X, out ?? new Float64Array(X.rows), this.imputer.nOutputs, (M, start, end, buffer) => this.imputer.transformRows(M, start, end, buffer));
  }

  /** 1 where score > threshold (scores all rows at once: predictInBlocks would refuse the NaN this fills in). */
  predict(X: Matrix, out?: Uint8Array): Uint8Array {
    return predictFromScores(this, X, out);
  }

  /** The inner detector's explanation of the imputed rows, each indicator's share added to its source column. */
  explain(X: Matrix, rows: RowSelection, out?: Float64Array): Float64Array {
    const selected = selectExplainedRows(this, X, rows, out?.length, { missingAllowed: true });
    const inner = this.inner.explain(this.imputer.transform(selected), allRows(selected.rows));
    return this.imputer.foldContributions(inner, selected.rows, out ?? new Float64Array(selected.rows * this.nFeatures));
  }
}
