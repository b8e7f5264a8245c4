/**
 * The Benjamini–Hochberg procedure (1995): given m p-values, flag the k smallest, with k the
 * largest rank such that p_(k) ≤ α · k / m. When the p-values of the unremarkable rows are
 * (super-)uniform and positively dependent (conformal p-values against one calibration set are,
 * Bates et al. 2023), the expected share of false alarms among the flagged rows is at most α.
 *
 * The result depends only on the multiset of p-values, never on their order: a job's rows flag
 * the same whichever chunks they arrived in, as long as the procedure runs over the whole job.
 */
import { checkFdrLevel } from './conformal';

export interface BenjaminiHochbergResult {
  /** Rows with a p-value ≤ cutoff are flagged; 0 (and nothing flagged) when no p-value qualifies. */
  readonly cutoff: number;
  /** 1 for a flagged row, in the order of the p-values given. */
  readonly flagged: Uint8Array;
  /** How many rows are flagged. */
  readonly count: number;
}

export function benjaminiHochberg(pValues: Float64Array, alpha: number): BenjaminiHochbergResult {
  checkFdrLevel(alpha);
  const m = pValues.length;
  for (let i = 0; i < m; i++) {
    const p = pValues[i];
    if (!(p >= 0 && p <= 1)) throw new RangeError(`p-value ${i} must be in [0, 1]; got ${p}`);
  }
  const sorted = Float64Array.from(pValues).sort();
  let cutoff = 0;
  let count = 0;
  for (let k = 1; k <= m; k++) {
    // Written p · m ≤ α · k, as conformalFdrCutoff does, so both make the same decision bit for bit.
    if (sorted[k - 1] * m <= alpha * k) {
      cutoff = sorted[k - 1];
      count = k;
    }
  }
  const flagged = new Uint8Array(m);
  if (count > 0) for (let i = 0; i < m; i++) flagged[i] = pValues[i] <= cutoff ? 1 : 0;
  return { cutoff, flagged, count };
}
