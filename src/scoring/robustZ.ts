/**
 * Robust z-score: per feature, how many robust standard deviations a value lies from the
 * training median,
 *   z_j = (x_j - median_j) / scale_j,   scale_j = 1.4826 · MAD_j,
 * where MAD_j = median(|x_j - median_j|) over the training rows (1.4826 makes the MAD a
 * consistent estimate of the standard deviation for normal data). Medians of an even count are
 * the mean of the two middle values, as numpy's.
 *
 * Row score = max_j |z_j| (not the mean): one wildly off feature is an anomaly however ordinary
 * the others are, and the score reads directly as "the worst feature is this many robust
 * standard deviations out".
 *
 * Zero-MAD policy (more than half a column's training values are equal), so no score is ever
 * Infinity or NaN:
 *   1. MAD_j > 0:                         scale_j = 1.4826 · MAD_j
 *   2. MAD_j = 0 but meanAD_j > 0:        scale_j = 1.253314 · meanAD_j, with meanAD_j the mean
 *                                         absolute deviation from the median (the modified z-score
 *                                         fallback of Iglewicz & Hoaglin; 1.253314 = √(π/2) makes
 *                                         it a consistent standard deviation estimate)
 *   3. constant column (meanAD_j = 0):    scale_j = 0 and the feature contributes 0 to every row,
 *                                         whatever the value: training gives no spread to measure
 *                                         a deviation against.
 * The model stores the per-feature median and scale.
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

const ALGORITHM = 'robust-z';

/** 1 / Φ⁻¹(3/4): turns a MAD into a standard deviation estimate for normal data. */
export const MAD_TO_SD = 1.4826;
/** √(π/2): turns a mean absolute deviation into a standard deviation estimate for normal data. */
export const MEAN_AD_TO_SD = 1.253314;

export const ROBUST_Z_SCORE_OPTIONS = {
  contamination: { default: 0.1, min: 0, max: 0.5, integer: false, exclusiveMin: true },
} as const;

export interface RobustZScoreOptions {
  contamination?: number;
}

export type RobustZScoreParams = ResolvedOptions<typeof ROBUST_Z_SCORE_OPTIONS>;

/** Median of a sorted array (mean of the two middle values for an even length). */
function sortedMedian(sorted: Float64Array): number {
  const n = sorted.length;
  const mid = n >>> 1;
  // 0.5·a + 0.5·b rather than (a + b) / 2, so two huge values cannot overflow to Infinity.
  return n % 2 === 1 ? sorted[mid] : 0.5 * sorted[mid - 1] + 0.5 * sorted[mid];
}

/** Max |z| per row into `out`; a feature with scale 0 contributes 0. */
function scoreRobustZ(center: Float64Array, scale: Float64Array, X: Matrix, out: Float64Array): void {
  const { rows, cols, data } = X;
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let worst = 0;
    for (let f = 0; f < cols; f++) {
      const s = scale[f];
      if (s > 0) {
        const z = Math.abs(data[base + f] - center[f]) / s;
        if (z > worst) worst = z;
      }
    }
    out[r] = worst;
  }
}

export class RobustZScore implements Detector {
  static readonly algorithm = ALGORITHM;
  readonly algorithm = ALGORITHM;

  private constructor(
    readonly nFeatures: number,
    readonly threshold: number,
    readonly params: RobustZScoreParams,
    /** Per-feature training median. */
    private readonly center: Float64Array,
    /** Per-feature robust standard deviation; 0 for a constant column. */
    private readonly scale: Float64Array,
  ) {}

  /** Copies of the fitted per-feature medians and scales. */
  get medians(): Float64Array {
    return this.center.slice();
  }

  get scales(): Float64Array {
    return this.scale.slice();
  }

  static fit(X: Matrix, options?: RobustZScoreOptions): RobustZScore {
    const params = resolveOptions(ALGORITHM, ROBUST_Z_SCORE_OPTIONS, options);
    checkFitInput(ALGORITHM, X);
    if (X.rows < 2) {
      throw new DetectorInputError(
        `${ALGORITHM}: cannot fit on a dataset with 1 row; at least 2 rows are needed to estimate a spread`,
      );
    }
    const { rows, cols, data } = X;
    const center = new Float64Array(cols);
    const scale = new Float64Array(cols);
    const column = new Float64Array(rows);
    for (let f = 0; f < cols; f++) {
      for (let r = 0; r < rows; r++) column[r] = data[r * cols + f];
      column.sort();
      const median = sortedMedian(column);
      let absSum = 0;
      for (let r = 0; r < rows; r++) {
        const d = Math.abs(column[r] - median);
        column[r] = d;
        absSum += d;
      }
      column.sort();
      const mad = sortedMedian(column);
      const meanAbsDeviation = absSum / rows;
      const s = mad > 0 ? MAD_TO_SD * mad : meanAbsDeviation > 0 ? MEAN_AD_TO_SD * meanAbsDeviation : 0;
      if (!Number.isFinite(s)) {
        throw new DetectorInputError(`${ALGORITHM}: column ${f} spreads too wide to measure in float64; rescale the data`);
      }
      center[f] = median;
      scale[f] = s;
    }
    const trainScores = new Float64Array(rows);
    scoreRobustZ(center, scale, X, trainScores);
    const threshold = thresholdFromContamination(trainScores, params.contamination);
    return new RobustZScore(cols, threshold, params, center, scale);
  }

  static fromState(state: DetectorState): RobustZScore {
    checkStateHeader(state, ALGORITHM);
    const params = resolveOptions(ALGORITHM, ROBUST_Z_SCORE_OPTIONS, state.params);
    const { nFeatures } = state;
    const fail = (why: string): never => {
      throw new DetectorInputError(`${ALGORITHM}: invalid model state: ${why}`);
    };
    const center = stateSection(state, 'median', Float64Array);
    const scale = stateSection(state, 'scale', Float64Array);
    if (center.length !== nFeatures || scale.length !== nFeatures) {
      fail(`expected ${nFeatures} medians and scales, got ${center.length} and ${scale.length}`);
    }
    for (let f = 0; f < nFeatures; f++) {
      if (!Number.isFinite(center[f])) fail(`feature ${f} has a non-finite median`);
      if (!(scale[f] >= 0 && scale[f] < Infinity)) fail(`feature ${f} has an invalid scale ${scale[f]}`);
    }
    return new RobustZScore(nFeatures, state.threshold, params, center, scale);
  }

  toState(): DetectorState {
    return {
      algorithm: this.algorithm,
      nFeatures: this.nFeatures,
      threshold: this.threshold,
      params: this.params,
      sections: [
        { name: 'median', data: this.center },
        { name: 'scale', data: this.scale },
      ],
    };
  }

  score(X: Matrix, out?: Float64Array): Float64Array {
    checkScoreInput(this, X, out?.length);
    const scores = out ?? new Float64Array(X.rows);
    scoreRobustZ(this.center, this.scale, X, scores);
    return scores;
  }

  predict(X: Matrix, out?: Uint8Array): Uint8Array {
    return predictInBlocks(this, X, out);
  }

  /**
   * Each feature's |z_j|, the quantity the score takes the maximum of: the largest contribution
   * of a row IS its score (not a sum: the score is a maximum), and a feature ranks above another
   * exactly when it lies more robust standard deviations out. A constant column contributes 0.
   */
  explain(X: Matrix, rows: RowSelection, out?: Float64Array): Float64Array {
    const selected = selectExplainedRows(this, X, rows, out?.length);
    const { cols, data } = selected;
    const contributions = out ?? new Float64Array(selected.rows * cols);
    for (let i = 0; i < data.length; i++) {
      const f = i % cols;
      const s = this.scale[f];
      contributions[i] = s > 0 ? Math.abs(data[i] - this.center[f]) / s : 0;
    }
    return contributions;
  }
}
