/**
 * Conformal p-values: how unusual a new score is against calibration scores, i.e. scores the
 * fitted model gave rows held out of its training sample and drawn like the data it will see.
 *
 *   p(s) = (1 + #{calibration scores ≥ s}) / (n + 1)
 *
 * For a row drawn like the calibration rows (exchangeable with them), P(p ≤ t) ≤ t for every t:
 * p is (discretely) uniform on {1/(n+1), …, 1}, so thresholding p-values gives a false-alarm rate
 * a person chooses, whatever the detector's score scale. The smallest p-value is 1/(n+1): n
 * calibration scores cannot vouch for a rarer event than that.
 *
 * A job's p-values take only the n + 1 values j/(n+1), so a job can be summarised by a tally of
 * how many of its rows got each one: tallies of chunks add up to the job's, in any order and any
 * chunking, and the Benjamini–Hochberg cutoff computed from the job's tally (conformalFdrCutoff)
 * is exactly the one benjaminiHochberg computes over all the job's p-values.
 */
import { DetectorInputError } from './detector';

/** A sorted copy of `scores`, checked to be finite and non-empty, ready for conformalPValues. */
export function sortCalibrationScores(scores: Float64Array): Float64Array {
  if (scores.length === 0) throw new DetectorInputError('conformal p-values need at least 1 calibration score; got 0');
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i])) throw new DetectorInputError(`calibration score ${i} is not finite (${scores[i]})`);
  }
  return Float64Array.from(scores).sort();
}

/** Rejects a calibration array that is empty, unsorted or not finite. */
function checkSortedCalibration(sorted: Float64Array): void {
  if (sorted.length === 0) throw new DetectorInputError('conformal p-values need at least 1 calibration score; got 0');
  for (let i = 0; i < sorted.length; i++) {
    if (!Number.isFinite(sorted[i])) throw new DetectorInputError(`calibration score ${i} is not finite (${sorted[i]})`);
    if (i > 0 && sorted[i] < sorted[i - 1]) throw new DetectorInputError(`calibration scores must be sorted ascending (see sortCalibrationScores); score ${i} is out of order`);
  }
}

/** #{sorted ≥ s}: the entries at or after the first one ≥ s. */
function countAtLeast(sorted: Float64Array, s: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < s) lo = mid + 1;
    else hi = mid;
  }
  return sorted.length - lo;
}

/**
 * One score's p-value, without conformalPValues' checks of the calibration array: for a caller
 * that checked it once (a decoded model file's calibration is checked on decode).
 */
export function pValueOf(sortedCalibration: Float64Array, score: number): number {
  return (1 + countAtLeast(sortedCalibration, score)) / (sortedCalibration.length + 1);
}

/**
 * The score cutoff equal to a p-value cutoff: p(s) ≤ pCutoff exactly when s > the returned
 * score (+Infinity when no score can have such a p-value, -Infinity when every score does).
 * p(s) ≤ j/(n+1) ⇔ #{calibration ≥ s} ≤ j − 1 ⇔ s is above the j-th largest calibration score.
 */
export function scoreCutoffForPValue(sortedCalibration: Float64Array, pCutoff: number): number {
  const n = sortedCalibration.length;
  // The largest j with j/(n+1) ≤ pCutoff, by the same division pValueOf makes.
  let j = Math.min(n + 1, Math.floor(pCutoff * (n + 1)) + 1);
  while (j > 0 && j / (n + 1) > pCutoff) j--;
  if (j === 0) return Infinity;
  if (j > n) return -Infinity;
  return sortedCalibration[n - j];
}

function checkScores(scores: Float64Array): void {
  for (let i = 0; i < scores.length; i++) {
    // NaN would count no calibration score as ≥ it and look maximally anomalous.
    if (Number.isNaN(scores[i])) throw new DetectorInputError(`score ${i} is NaN; a p-value needs a score`);
  }
}

/**
 * p(s) = (1 + #{calibration ≥ s}) / (n + 1) for each score, into `out` when given.
 * `sortedCalibration` must be ascending (sortCalibrationScores makes it so).
 */
export function conformalPValues(sortedCalibration: Float64Array, scores: Float64Array, out?: Float64Array): Float64Array {
  checkSortedCalibration(sortedCalibration);
  checkScores(scores);
  if (out !== undefined && out.length !== scores.length) {
    throw new RangeError(`p-value buffer has length ${out.length} but there are ${scores.length} scores`);
  }
  const pValues = out ?? new Float64Array(scores.length);
  const n1 = sortedCalibration.length + 1;
  for (let i = 0; i < scores.length; i++) pValues[i] = (1 + countAtLeast(sortedCalibration, scores[i])) / n1;
  return pValues;
}

/**
 * Adds `scores` to a tally of conformal p-values: tally[j] counts the rows whose p-value is
 * j/(n+1) (j = 1 … n+1; tally[0] stays 0). Pass the tally of earlier chunks to extend it; a new
 * one (length n + 2) is made otherwise. Tallies of separate chunks can also be added elementwise.
 */
export function tallyPValues(sortedCalibration: Float64Array, scores: Float64Array, tally?: Float64Array): Float64Array {
  checkSortedCalibration(sortedCalibration);
  checkScores(scores);
  const size = sortedCalibration.length + 2;
  if (tally !== undefined && tally.length !== size) {
    throw new RangeError(`a tally for ${sortedCalibration.length} calibration scores has ${size} entries; got ${tally.length}`);
  }
  const counts = tally ?? new Float64Array(size);
  for (let i = 0; i < scores.length; i++) counts[1 + countAtLeast(sortedCalibration, scores[i])]++;
  return counts;
}

/** Checks α for a false-discovery rate: a number in (0, 1). */
export function checkFdrLevel(alpha: number): void {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`the false-discovery level alpha must be a number in (0, 1); got ${alpha}`);
}

/**
 * The Benjamini–Hochberg cutoff at level α from a job's tally (tallyPValues): the largest
 * p = j/(n+1) with p ≤ α · R_j / m, where R_j is the number of rows with a p-value ≤ p and m the
 * job's rows; the rows with a p-value ≤ the cutoff are flagged (`flagged` of them). The cutoff is
 * 0 and nothing is flagged when no p-value qualifies. Same arithmetic as benjaminiHochberg, so
 * the two agree exactly.
 */
export function conformalFdrCutoff(tally: Float64Array, alpha: number): { cutoff: number; flagged: number } {
  checkFdrLevel(alpha);
  const n1 = tally.length - 1;
  if (n1 < 2) throw new RangeError(`a tally has n + 2 ≥ 3 entries for n ≥ 1 calibration scores; got ${tally.length}`);
  let m = 0;
  for (let j = 1; j <= n1; j++) m += tally[j];
  let cutoff = 0;
  let flagged = 0;
  let atMost = 0;
  for (let j = 1; j <= n1; j++) {
    if (tally[j] === 0) continue;
    atMost += tally[j];
    const p = j / n1;
    if (p * m <= alpha * atMost) {
      cutoff = p;
      flagged = atMost;
    }
  }
  return { cutoff, flagged };
}
