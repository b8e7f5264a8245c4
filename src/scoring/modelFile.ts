/**
 * What the platform stores as one model file: the fitted detector, plus what it keeps beside it
 * to flag and explain rows (codec attachments, so older files without them still load):
 *
 * - `calibrationScores`: the detector's scores of rows held out of its training sample, sorted
 *   ascending: conformal p-values count against them (src/scoring/conformal.ts);
 * - `featureQuantiles`: each feature's training-sample percentiles 0, 1, …, 100 (nFeatures × 101,
 *   row-major): where a flagged row's value sits among the rows the model learnt from.
 */
import { decodeModelWithAttachments, encodeModel, ModelCodecError } from './codec';
import type { Detector } from './detector';
import type { Matrix } from './matrix';

export const QUANTILE_STEPS = 101;

export interface ModelFile {
  detector: Detector;
  /** Ascending; absent in models trained before calibration was held out. */
  calibrationScores?: Float64Array;
  /** nFeatures × 101; absent in models trained before profiles were kept. */
  featureQuantiles?: Float64Array;
}

export function encodeModelFile(file: ModelFile): Uint8Array {
  const attachments = [];
  if (file.calibrationScores) attachments.push({ name: 'calibrationScores', data: file.calibrationScores });
  if (file.featureQuantiles) attachments.push({ name: 'featureQuantiles', data: file.featureQuantiles });
  return encodeModel(file.detector, attachments);
}

export function decodeModelFile(bytes: Uint8Array): ModelFile {
  const { detector, attachments } = decodeModelWithAttachments(bytes);
  const invalid = (why: string): never => {
    throw new ModelCodecError(`model file content is invalid: ${why}`, 'invalid');
  };
  const calibration = attachments.get('calibrationScores');
  const quantiles = attachments.get('featureQuantiles');
  if (calibration !== undefined) {
    if (!(calibration instanceof Float64Array)) invalid('calibrationScores must be float64');
    for (let i = 0; i < calibration.length; i++) {
      if (!Number.isFinite(calibration[i]) || (i > 0 && calibration[i] < calibration[i - 1])) invalid(`calibration score ${i} is not finite or out of order`);
    }
  }
  if (quantiles !== undefined && (!(quantiles instanceof Float64Array) || quantiles.length !== detector.nFeatures * QUANTILE_STEPS)) {
    invalid(`featureQuantiles must be float64 of ${detector.nFeatures} × ${QUANTILE_STEPS}`);
  }
  return {
    detector,
    ...(calibration ? { calibrationScores: calibration as Float64Array } : {}),
    ...(quantiles ? { featureQuantiles: quantiles as Float64Array } : {}),
  };
}

/**
 * Each column's percentiles 0…100 (numpy's linear interpolation) over its values present
 * (missing values, NaN, are left out; a column with none present gets zeros), nFeatures × 101 row-major.
 */
export function featureQuantilesOf(X: Matrix): Float64Array {
  const out = new Float64Array(X.cols * QUANTILE_STEPS);
  if (X.rows === 0) return out;
  const scratch = new Float64Array(X.rows);
  for (let c = 0; c < X.cols; c++) {
    let n = 0;
    for (let r = 0; r < X.rows; r++) {
      const v = X.data[r * X.cols + c];
      if (v === v) scratch[n++] = v;
    }
    if (n === 0) continue;
    const column = scratch.subarray(0, n).sort();
    for (let q = 0; q < QUANTILE_STEPS; q++) {
      const position = ((n - 1) * q) / (QUANTILE_STEPS - 1);
      const below = Math.floor(position);
      const above = Math.min(below + 1, n - 1);
      out[c * QUANTILE_STEPS + q] = column[below] + (column[above] - column[below]) * (position - below);
    }
  }
  return out;
}

/**
 * Where `value` sits among feature `f`'s training values, 0–100: the inverse of its quantile
 * curve, interpolated; a value on a flat stretch (many equal training values) gets that
 * stretch's middle; below the minimum 0, above the maximum 100.
 */
export function trainingPercentile(quantiles: Float64Array, f: number, value: number): number {
  const q = quantiles.subarray(f * QUANTILE_STEPS, (f + 1) * QUANTILE_STEPS);
  const last = QUANTILE_STEPS - 1;
  if (value !== value) return NaN; // a missing value has no place among them
  if (value < q[0]) return 0;
  if (value > q[last]) return 100;
  // first index with q[i] ≥ value, and first with q[i] > value
  let lo = 0;
  while (lo < last && q[lo] < value) lo++;
  let hi = lo;
  while (hi <= last && q[hi] === value) hi++;
  if (hi > lo) return ((lo + hi - 1) / 2) * (100 / last);
  // q[lo - 1] < value < q[lo]
  const t = (value - q[lo - 1]) / (q[lo] - q[lo - 1]);
  return (lo - 1 + t) * (100 / last);
}
