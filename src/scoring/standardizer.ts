/**
 * Per-column standardisation fitted on training data and stored with a model, so scoring data
 * is transformed exactly as the training data was: z = (x − center) / scale.
 *
 *   'zscore'  center = mean, scale = population standard deviation (ddof 0) — scikit-learn's
 *             StandardScaler, and what PyOD's PCA applies first.
 *   'robust'  center = median, scale = interquartile range (75th − 25th percentile, numpy's
 *             linear interpolation) — scikit-learn's RobustScaler with its defaults.
 *
 * Zero-spread policy (as scikit-learn's): a column whose spread is zero, or below 10·ε (so
 * dividing by it would only amplify rounding), gets scale 1. A constant column (every value
 * identical) also gets its value as the center exactly, so it standardises to exactly 0
 * (a computed mean of identical values can be off in the last bit). For 'robust', an IQR of 0
 * on a column that is not constant (mostly one value, a few others) likewise gets scale 1.
 */
import { checkFitInput, DetectorInputError, StateSection } from './detector';
import { Matrix } from './matrix';

export type StandardizerKind = 'zscore' | 'robust';

export const STANDARDIZER_KINDS: readonly StandardizerKind[] = ['zscore', 'robust'];

export function isStandardizerKind(value: unknown): value is StandardizerKind {
  return typeof value === 'string' && (STANDARDIZER_KINDS as readonly string[]).includes(value);
}

/** A spread below this is treated as zero (scikit-learn: 10 × float64 machine epsilon). */
const ZERO_SPREAD = 10 * Number.EPSILON;

/** np.percentile(sorted, q) with the default linear interpolation; `sorted` is ascending. */
function percentile(sorted: Float64Array, q: number): number {
  const position = ((sorted.length - 1) * q) / 100;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  const t = position - below;
  const a = sorted[below];
  const b = sorted[above];
  // numpy's two-sided lerp: exact at both ends.
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

export class Standardizer {
  private constructor(
    readonly kind: StandardizerKind,
    /** Subtracted from each column (read-only). */
    readonly center: Float64Array,
    /** Each centered column is divided by this; always finite and > 0 (read-only). */
    readonly scale: Float64Array,
  ) {}

  get nFeatures(): number {
    return this.center.length;
  }

  /** Fits per-column center and scale; rejects empty or non-finite data like a detector's fit. */
  static fit(X: Matrix, kind: StandardizerKind = 'zscore'): Standardizer {
    if (!isStandardizerKind(kind)) {
      throw new DetectorInputError(`standardizer: kind must be one of ${STANDARDIZER_KINDS.join(', ')}; got ${String(kind)}`);
    }
    checkFitInput(`${kind} standardizer`, X);
    const { rows, cols, data } = X;
    const center = new Float64Array(cols);
    const scale = new Float64Array(cols);
    const column = new Float64Array(rows);
    for (let c = 0; c < cols; c++) {
      let min = Infinity;
      let max = -Infinity;
      for (let r = 0; r < rows; r++) {
        const v = data[r * cols + c];
        column[r] = v;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      if (min === max) {
        center[c] = min;
        scale[c] = 1;
        continue;
      }
      let spread: number;
      if (kind === 'zscore') {
        // Two passes (mean, then squared deviations) for accuracy.
        let sum = 0;
        for (let r = 0; r < rows; r++) sum += column[r];
        const mean = sum / rows;
        let squares = 0;
        for (let r = 0; r < rows; r++) {
          const dev = column[r] - mean;
          squares += dev * dev;
        }
        center[c] = mean;
        spread = Math.sqrt(squares / rows);
      } else {
        column.sort();
        center[c] = percentile(column, 50);
        spread = percentile(column, 75) - percentile(column, 25);
      }
      scale[c] = spread < ZERO_SPREAD || !Number.isFinite(spread) ? 1 : spread;
    }
    return new Standardizer(kind, center, scale);
  }

  /** Rebuilds a stored standardizer, checking the arrays so a damaged model cannot divide by 0. */
  static fromArrays(kind: string, center: Float64Array, scale: Float64Array): Standardizer {
    if (!isStandardizerKind(kind)) {
      throw new DetectorInputError(`standardizer: unknown kind "${kind}"; expected one of ${STANDARDIZER_KINDS.join(', ')}`);
    }
    if (center.length !== scale.length || center.length === 0) {
      throw new DetectorInputError(
        `standardizer: center and scale must be non-empty and of equal length; got ${center.length} and ${scale.length}`,
      );
    }
    for (let c = 0; c < center.length; c++) {
      if (!Number.isFinite(center[c])) throw new DetectorInputError(`standardizer: center of column ${c} is ${center[c]}`);
      if (!(scale[c] > 0) || !Number.isFinite(scale[c])) {
        throw new DetectorInputError(`standardizer: scale of column ${c} is ${scale[c]}; it must be finite and > 0`);
      }
    }
    return new Standardizer(kind, center, scale);
  }

  /**
   * Standardises rows [start, end) of X into `out` (row-major, (end − start) × cols values)
   * and returns them as a Matrix view over `out`. Lets callers stream a huge matrix through a
   * small reused buffer.
   */
  transformRows(X: Matrix, start: number, end: number, out: Float64Array): Matrix {
    const cols = this.center.length;
    if (X.cols !== cols) {
      throw new DetectorInputError(`standardizer: fitted on ${cols} columns but the data has ${X.cols}`);
    }
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > X.rows) {
      throw new RangeError(`row range [${start}, ${end}) is out of range [0, ${X.rows}]`);
    }
    const n = (end - start) * cols;
    if (out.length < n) throw new RangeError(`output buffer holds ${out.length} values; ${n} are needed`);
    const { center, scale } = this;
    const data = X.data;
    const offset = start * cols;
    for (let i = 0; i < n; i += cols) {
      for (let c = 0; c < cols; c++) out[i + c] = (data[offset + i + c] - center[c]) / scale[c];
    }
    return new Matrix(end - start, cols, out.length === n ? out : out.subarray(0, n));
  }

  /** A standardised copy of the whole matrix (for tests and small data; scoring uses transformRows). */
  transform(X: Matrix): Matrix {
    return this.transformRows(X, 0, X.rows, new Float64Array(X.rows * X.cols));
  }

  /** The stored form: 'center' and 'scale' sections, optionally prefixed (e.g. 'standardizer.'). */
  toSections(prefix = ''): StateSection[] {
    return [
      { name: `${prefix}center`, data: this.center },
      { name: `${prefix}scale`, data: this.scale },
    ];
  }
}
