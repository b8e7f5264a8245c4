/**
 * "At most n alerts": flag a job's highest-scoring rows, never more than n of them.
 *
 * Ties: rows with equal scores are treated alike. When the n-th and (n+1)-th highest scores are
 * equal, flagging some of the tied rows and not others would depend on row order (and so on how
 * the job was chunked), and flagging all of them would break the promise of at most n. So the
 * whole tied group at the boundary is left out: fewer than n rows are flagged, and
 * `excludedByTie` says how many of the top n were left out for it. The rule is "score > cutoff",
 * with cutoff the (n+1)-th highest score (-Infinity when the job has at most n rows), which each
 * chunk can apply once the job's cutoff is known.
 */
export interface MaxAlertsResult {
  /** Rows scoring strictly above this are flagged. */
  readonly cutoff: number;
  /** 1 for a flagged row, in the order of the scores given. */
  readonly flagged: Uint8Array;
  readonly count: number;
  /** Rows among the n highest left unflagged because they tie with the first row past n. */
  readonly excludedByTie: number;
}

export function maxAlerts(scores: Float64Array, n: number): MaxAlertsResult {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`maxAlerts needs a whole number of alerts ≥ 0; got ${n}`);
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i])) throw new RangeError(`score ${i} is NaN; rows cannot be ranked by it`);
  }
  const flagged = new Uint8Array(scores.length);
  let cutoff = -Infinity;
  if (scores.length > n) {
    const descending = Float64Array.from(scores).sort().reverse();
    cutoff = descending[n];
  }
  let count = 0;
  for (let i = 0; i < scores.length; i++) {
    if (scores[i] > cutoff) {
      flagged[i] = 1;
      count++;
    }
  }
  return { cutoff, flagged, count, excludedByTie: Math.min(n, scores.length) - count };
}
