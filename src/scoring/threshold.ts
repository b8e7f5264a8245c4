/**
 * The decision threshold, as PyOD sets it: the (1 - contamination) percentile of the training
 * scores, so about `contamination` of the training rows score above it.
 */
import { DetectorOptionError } from './detector';

/**
 * numpy's linear interpolation (np.percentile default), including its two-sided lerp that is
 * exact at both ends, so thresholds match PyOD's bit for bit on the same scores.
 */
function lerp(a: number, b: number, t: number): number {
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** @param contamination the expected share of anomalies, in (0, 0.5] */
export function thresholdFromContamination(trainScores: Float64Array, contamination: number): number {
  if (!(contamination > 0 && contamination <= 0.5)) {
    throw new DetectorOptionError(`contamination must be a number in (0, 0.5]; got ${contamination}`, 'contamination');
  }
  const n = trainScores.length;
  if (n === 0) throw new RangeError('cannot set a threshold from 0 training scores');
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(trainScores[i])) {
      throw new RangeError(`training score ${i} is not finite (${trainScores[i]})`);
    }
  }
  const sorted = Float64Array.from(trainScores).sort();
  // Same arithmetic as np.percentile(scores, 100 * (1 - contamination)): percent, then / 100.
  const quantile = (100 * (1 - contamination)) / 100;
  const position = (n - 1) * quantile;
  const below = Math.floor(position);
  const above = Math.min(below + 1, n - 1);
  return lerp(sorted[below], sorted[above], position - below);
}
