/**
 * ECOD, Empirical-Cumulative-distribution-based Outlier Detection (Li et al. 2022), as PyOD's
 * `ECOD` computes it. Parameter-free: per feature, the left and right tail probabilities of a
 * value under the training data's empirical CDFs, turned into -log tail scores, combined per
 * feature and summed over features.
 *
 * Per feature j, with F_l the ECDF (share of values <= x) and F_r the right-tail ECDF (share of
 * values >= x), both computed as PyOD's column_ecdf does:
 *   U_l = -log F_l(x),  U_r = -log F_r(x)
 *   U_skew = U_r when the feature's skewness is positive, U_l when negative, U_l + U_r when it is
 *            zero (PyOD: U_l·-sign(s-1) + U_r·sign(s+1) with s = sign(skew), NaN skew read as 0)
 *   O_j = max(U_l, U_r, U_skew)   (PyOD's code takes this maximum per feature, then sums; this
 *                                  differs from the paper's max over three aggregated sums)
 * score = Σ_j O_j.
 *
 * Training scores (PyOD's decision_scores_, which fix the threshold) use the training data's own
 * ECDFs and skewness. For new data PyOD appends the rows to the training data and recomputes the
 * ECDFs and skewness over the union. Here each row is appended on its own: score(X)[i] is exactly
 * what PyOD's decision_function(X[i:i+1]) returns (up to summation rounding), so a row's score
 * never depends on the other rows in the batch or on how a job is chunked. PyOD scoring a whole
 * batch at once appends every row together, which shifts scores slightly.
 *
 * The model keeps a sorted copy of every training column (like PyOD, which keeps X_train): the
 * ECDFs are binary searches in them, and the skewness of training ∪ {x} is an O(1) update of the
 * training column's central moments. Scoring allocates nothing per row.
 */
import {
  checkFitInput,
  checkScoreInput,
  Detector,
  DetectorInputError,
  DetectorState,
  resolveOptions,
  ResolvedOptions,
  checkStateHeader,
  stateSection,
  predictInBlocks,
  RowSelection,
  selectExplainedRows,
} from './detector';
import { Matrix } from './matrix';
import { thresholdFromContamination } from './threshold';

const ALGORITHM = 'ecod' as const;

export const ECOD_OPTIONS = {
  contamination: { default: 0.1, min: 0, max: 0.5, integer: false, exclusiveMin: true },
} as const;

export interface EcodOptions {
  contamination?: number;
}

export type EcodParams = ResolvedOptions<typeof ECOD_OPTIONS>;


/** How each feature's tail scores become its outlier score O_j (the only ECOD/COPOD difference). */
export type TailRule = 'ecod' | 'copod';

/** Rejects training data an ECDF-based detector cannot use (shared with COPOD). */
export function checkEcdfFitInput(algorithm: string, X: Matrix): void {
  checkFitInput(algorithm, X);
  if (X.rows < 2) {
    throw new DetectorInputError(
      `${algorithm}: cannot fit on a dataset with 1 row; at least 2 rows are needed to estimate each column's distribution`,
    );
  }
}

/** Number of values in sorted[base, base + n) that are <= x. */
function countAtMost(sorted: Float64Array, base: number, n: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[base + mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Number of values in sorted[base, base + n) that are < x. */
function countBelow(sorted: Float64Array, base: number, n: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[base + mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * scipy.stats.skew's sign (biased estimator), with its "nearly constant" rule: when the second
 * central moment is at most (eps·mean)² scipy returns NaN, which PyOD turns into 0.
 */
function skewSign(n: number, mean: number, sum2: number, sum3: number): number {
  const m2 = sum2 / n;
  const floor = Number.EPSILON * mean;
  if (m2 <= floor * floor) return 0;
  return sum3 > 0 ? 1 : sum3 < 0 ? -1 : 0;
}

/** O_j from the two tail scores and the skewness sign, as PyOD's ECOD or COPOD combines them. */
function combineTails(ul: number, ur: number, skew: number, copod: boolean): number {
  const uSkew = skew > 0 ? ur : skew < 0 ? ul : ul + ur;
  if (copod) {
    const mean = (ul + ur) / 2;
    return uSkew > mean ? uSkew : mean;
  }
  const larger = ul > ur ? ul : ur;
  return uSkew > larger ? uSkew : larger;
}

/**
 * The fitted state shared by ECOD and COPOD: each training column sorted ascending, stored
 * column after column, plus each column's mean and central moment sums (derived, never stored).
 */
export class EmpiricalTails {
  private readonly mean: Float64Array;
  /** Σ (x - mean)² and Σ (x - mean)³ per column. */
  private readonly sum2: Float64Array;
  private readonly sum3: Float64Array;

  private constructor(
    readonly rows: number,
    readonly cols: number,
    /** Column-major: column j is sorted[j·rows, (j+1)·rows), ascending. Treat as read-only. */
    readonly sorted: Float64Array,
  ) {
    this.mean = new Float64Array(cols);
    this.sum2 = new Float64Array(cols);
    this.sum3 = new Float64Array(cols);
    for (let j = 0; j < cols; j++) {
      const base = j * rows;
      let sum = 0;
      for (let i = 0; i < rows; i++) sum += sorted[base + i];
      const mean = sum / rows;
      let s2 = 0;
      let s3 = 0;
      for (let i = 0; i < rows; i++) {
        const d = sorted[base + i] - mean;
        const d2 = d * d;
        s2 += d2;
        s3 += d2 * d;
      }
      this.mean[j] = mean;
      this.sum2[j] = s2;
      this.sum3[j] = s3;
    }
  }

  /** Sorted copies of X's columns (X already checked: at least 2 rows, all finite). */
  static fromMatrix(X: Matrix): EmpiricalTails {
    const { rows, cols, data } = X;
    const sorted = new Float64Array(rows * cols);
    for (let j = 0; j < cols; j++) {
      const base = j * rows;
      for (let i = 0; i < rows; i++) sorted[base + i] = data[i * cols + j];
      sorted.subarray(base, base + rows).sort();
    }
    return new EmpiricalTails(rows, cols, sorted);
  }

  /** Rebuilds from a stored `sortedColumns` section, checking it can be searched safely. */
  static fromSorted(algorithm: string, sorted: Float64Array, cols: number): EmpiricalTails {
    const fail = (why: string): never => {
      throw new DetectorInputError(`${algorithm}: invalid model state: ${why}`);
    };
    if (sorted.length % cols !== 0) fail(`sortedColumns has ${sorted.length} values, not a multiple of ${cols} columns`);
    const rows = sorted.length / cols;
    if (rows < 2) fail(`sortedColumns holds ${rows} training rows; at least 2 are needed`);
    for (let j = 0; j < cols; j++) {
      const base = j * rows;
      for (let i = 0; i < rows; i++) {
        const v = sorted[base + i];
        if (!Number.isFinite(v)) fail(`column ${j} has a non-finite value`);
        if (i > 0 && v < sorted[base + i - 1]) fail(`column ${j} is not sorted`);
      }
    }
    return new EmpiricalTails(rows, cols, sorted);
  }

  /**
   * PyOD's decision_scores_: every row of the training matrix X (the one this was built from)
   * scored against the training ECDFs and training skewness.
   */
  trainingScores(X: Matrix, rule: TailRule, out: Float64Array): void {
    const { rows: n, cols, sorted } = this;
    const data = X.data;
    // np.linspace(1/n, 1, n) is the ECDF value of the k-th smallest value (k = 1..n).
    const start = 1 / n;
    const step = (1 - start) / (n - 1);
    const copod = rule === 'copod';
    out.fill(0);
    for (let j = 0; j < cols; j++) {
      const base = j * n;
      const skew = skewSign(n, this.mean[j], this.sum2[j], this.sum3[j]);
      for (let r = 0; r < X.rows; r++) {
        const x = data[r * cols + j];
        // x is a training value, so both counts are at least 1.
        const atMost = countAtMost(sorted, base, n, x);
        const atLeast = n - countBelow(sorted, base, n, x);
        const pl = atMost >= n ? 1 : (atMost - 1) * step + start;
        const pr = atLeast >= n ? 1 : (atLeast - 1) * step + start;
        out[r] += combineTails(-Math.log(pl), -Math.log(pr), skew, copod);
      }
    }
  }

  /**
   * Scores each row of X as PyOD scores it when it is appended alone to the training data: the
   * ECDFs and skewness are those of the n + 1 values training ∪ {x}. With `terms` (rows × cols),
   * each feature's O_j too: added in column order they give the score bit for bit.
   */
  appendedScores(X: Matrix, rule: TailRule, out: Float64Array, terms?: Float64Array): void {
    const { rows: n, cols, sorted } = this;
    const data = X.data;
    const n1 = n + 1;
    const start = 1 / n1;
    const step = (1 - start) / (n1 - 1);
    const cubeWeight = n * (n - 1);
    const copod = rule === 'copod';
    out.fill(0);
    for (let j = 0; j < cols; j++) {
      const base = j * n;
      const mean = this.mean[j];
      const sum2 = this.sum2[j];
      const sum3 = this.sum3[j];
      for (let r = 0; r < X.rows; r++) {
        const x = data[r * cols + j];
        // x itself is one of the n + 1 values, so each count gains one.
        const atMost = countAtMost(sorted, base, n, x) + 1;
        const atLeast = n - countBelow(sorted, base, n, x) + 1;
        const pl = atMost >= n1 ? 1 : (atMost - 1) * step + start;
        const pr = atLeast >= n1 ? 1 : (atLeast - 1) * step + start;
        // Central moments of training ∪ {x} by Pébay's one-point update.
        const delta = x - mean;
        const deltaN = delta / n1;
        const skew = skewSign(
          n1,
          mean + deltaN,
          sum2 + delta * deltaN * n,
          sum3 + delta * deltaN * deltaN * cubeWeight - 3 * deltaN * sum2,
        );
        const term = combineTails(-Math.log(pl), -Math.log(pr), skew, copod);
        out[r] += term;
        if (terms !== undefined) terms[r * cols + j] = term;
      }
    }
  }
}

/** Checks the parts of a decoded state every ECDF model shares (shared with COPOD). */
export function checkEcdfState(algorithm: string, state: DetectorState): EmpiricalTails {
  checkStateHeader(state, algorithm);
  return EmpiricalTails.fromSorted(algorithm, stateSection(state, 'sortedColumns', Float64Array), state.nFeatures);
}

/**
 * ECOD and COPOD keep the same model (sorted training columns) and differ only in how a
 * feature's tail scores combine, which `algorithm` (the TailRule) selects.
 */
export abstract class EmpiricalTailDetector implements Detector {
  abstract readonly algorithm: TailRule;

  protected constructor(
    readonly nFeatures: number,
    readonly threshold: number,
    readonly params: EcodParams,
    private readonly tails: EmpiricalTails,
  ) {}

  /** Fits the shared part: validated options, the tails, the threshold from training scores. */
  protected static fitTails(rule: TailRule, X: Matrix, options: unknown): { params: EcodParams; tails: EmpiricalTails; threshold: number } {
    const params = resolveOptions(rule, ECOD_OPTIONS, options);
    checkEcdfFitInput(rule, X);
    const tails = EmpiricalTails.fromMatrix(X);
    const trainScores = new Float64Array(X.rows);
    tails.trainingScores(X, rule, trainScores);
    return { params, tails, threshold: thresholdFromContamination(trainScores, params.contamination) };
  }

  protected static loadTails(rule: TailRule, state: DetectorState): { params: EcodParams; tails: EmpiricalTails } {
    return { params: resolveOptions(rule, ECOD_OPTIONS, state.params), tails: checkEcdfState(rule, state) };
  }

  /** Training rows kept (sorted per column) in the model. */
  get trainingRows(): number {
    return this.tails.rows;
  }

  toState(): DetectorState {
    return {
      algorithm: this.algorithm,
      nFeatures: this.nFeatures,
      threshold: this.threshold,
      params: this.params,
      sections: [{ name: 'sortedColumns', data: this.tails.sorted }],
    };
  }

  score(X: Matrix, out?: Float64Array): Float64Array {
    checkScoreInput(this, X, out?.length);
    const scores = out ?? new Float64Array(X.rows);
    this.tails.appendedScores(X, this.algorithm, scores);
    return scores;
  }

  predict(X: Matrix, out?: Uint8Array): Uint8Array {
    return predictInBlocks(this, X, out);
  }

  /**
   * Exact attribution: ECOD and COPOD are sums over features, so a feature's contribution is its
   * own outlier score O_j (see the file comments), computed exactly as score does, and a row's
   * contributions sum to its score (added in column order they give it bit for bit).
   */
  explain(X: Matrix, rows: RowSelection, out?: Float64Array): Float64Array {
    const selected = selectExplainedRows(this, X, rows, out?.length);
    const terms = out ?? new Float64Array(selected.rows * this.nFeatures);
    this.tails.appendedScores(selected, this.algorithm, new Float64Array(selected.rows), terms);
    return terms;
  }
}

export class Ecod extends EmpiricalTailDetector {
  static readonly algorithm = ALGORITHM;
  readonly algorithm = ALGORITHM;

  static fit(X: Matrix, options?: EcodOptions): Ecod {
    const { params, tails, threshold } = EmpiricalTailDetector.fitTails(ALGORITHM, X, options);
    return new Ecod(X.cols, threshold, params, tails);
  }

  static fromState(state: DetectorState): Ecod {
    const { params, tails } = EmpiricalTailDetector.loadTails(ALGORITHM, state);
    return new Ecod(state.nFeatures, state.threshold, params, tails);
  }
}
