/** Quantiles and a histogram of a job's scores: what the job row, the report and the CLI show. */
export interface ScoreSummary {
  min: number;
  max: number;
  mean: number;
  quantiles: Record<'p50' | 'p90' | 'p95' | 'p99' | 'p999', number>;
  histogram: { start: number; width: number; counts: number[] };
}

const QUANTILES = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99, p999: 0.999 } as const;

export function summarizeScores(scores: Float64Array, bins = 40): ScoreSummary {
  if (scores.length === 0) {
    return { min: 0, max: 0, mean: 0, quantiles: { p50: 0, p90: 0, p95: 0, p99: 0, p999: 0 }, histogram: { start: 0, width: 0, counts: [] } };
  }
  const n = scores.length;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = scores[i];
    sum += x;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  // Only a handful of order statistics are needed: select them (linear time) instead of sorting
  // every score (a 10-million-row job spent seconds in the sort).
  const order = orderStatistics(
    scores,
    min,
    max,
    Object.values(QUANTILES).flatMap((q) => {
      const low = Math.floor(q * (n - 1));
      return [low, Math.min(low + 1, n - 1)];
    }),
  );
  const at = (q: number) => {
    // numpy's linear interpolation, as the thresholds use
    const position = q * (n - 1);
    const low = Math.floor(position);
    const high = Math.min(low + 1, n - 1);
    return order.get(low)! + (order.get(high)! - order.get(low)!) * (position - low);
  };
  const width = max > min ? (max - min) / bins : 0;
  const counts = new Array<number>(width > 0 ? bins : 1).fill(0);
  for (let i = 0; i < n; i++) counts[width > 0 ? Math.min(bins - 1, Math.floor((scores[i] - min) / width)) : 0]++;
  return {
    min,
    max,
    mean: sum / n,
    quantiles: { p50: at(QUANTILES.p50), p90: at(QUANTILES.p90), p95: at(QUANTILES.p95), p99: at(QUANTILES.p99), p999: at(QUANTILES.p999) },
    histogram: { start: min, width, counts },
  };
}

/** Value buckets for orderStatistics: enough that a bucket holds few scores, small enough to count cheaply. */
const SELECT_BUCKETS = 1 << 16;

/**
 * The values the sorted scores would hold at the given positions. One pass counts the scores in
 * equal-width value buckets (the bucket of a value never decreases as the value grows), so each
 * position falls in a known bucket; a second pass copies out only those buckets' scores, and a
 * quickselect finds the position among them. Two reads of the scores and a few small copies,
 * instead of copying them all and partitioning the copy over and over.
 */
function orderStatistics(scores: Float64Array, min: number, max: number, positions: number[]): Map<number, number> {
  const wanted = [...new Set(positions)].sort((x, y) => x - y);
  const found = new Map<number, number>();
  const scale = SELECT_BUCKETS / (max - min);
  if (!(max > min) || !Number.isFinite(scale) || scale === 0) {
    if (max !== min) return quickselectAll(scores, wanted);
    for (const k of wanted) found.set(k, min);
    return found;
  }
  // x >= min, so truncation is floor; the largest scores round to the last bucket.
  const bucketOf = (x: number) => {
    const b = ((x - min) * scale) | 0;
    return b < SELECT_BUCKETS ? b : SELECT_BUCKETS - 1;
  };
  const counts = new Uint32Array(SELECT_BUCKETS);
  for (let i = 0; i < scores.length; i++) {
    const x = scores[i];
    if (x !== x) return quickselectAll(scores, wanted); // a NaN score has no bucket
    counts[bucketOf(x)]++;
  }
  // For each wanted position: its bucket, and how many scores come before that bucket.
  const slotOf = new Int32Array(SELECT_BUCKETS).fill(-1);
  const slots: Array<{ before: number; values: Float64Array; filled: number }> = [];
  const slotOfWanted: number[] = []; // parallel to `wanted`
  let before = 0;
  for (let b = 0; b < SELECT_BUCKETS && slotOfWanted.length < wanted.length; b++) {
    while (slotOfWanted.length < wanted.length && wanted[slotOfWanted.length] < before + counts[b]) {
      if (slotOf[b] < 0) {
        slotOf[b] = slots.length;
        slots.push({ before, values: new Float64Array(counts[b]), filled: 0 });
      }
      slotOfWanted.push(slotOf[b]);
    }
    before += counts[b];
  }
  for (let i = 0; i < scores.length; i++) {
    const slot = slotOf[bucketOf(scores[i])];
    if (slot >= 0) {
      const s = slots[slot];
      s.values[s.filled++] = scores[i];
    }
  }
  wanted.forEach((k, i) => {
    const slot = slots[slotOfWanted[i]];
    const r = k - slot.before;
    selectInPlace(slot.values, r, 0, slot.values.length - 1);
    found.set(k, slot.values[r]);
  });
  return found;
}

/** The positions' values by quickselect on one copy of the scores (when they cannot be bucketed by value). */
function quickselectAll(scores: Float64Array, wanted: number[]): Map<number, number> {
  const a = Float64Array.from(scores);
  const found = new Map<number, number>();
  let lo = 0;
  for (const k of wanted) {
    selectInPlace(a, k, lo, a.length - 1);
    found.set(k, a[k]);
    lo = k + 1; // everything after k is now >= a[k]: later positions are found there
  }
  return found;
}

/** Hoare-partition quickselect: afterwards a[k] holds the k-th smallest of a[lo..hi], smaller ones before it, larger after. */
function selectInPlace(a: Float64Array, k: number, lo: number, hi: number): void {
  while (hi > lo) {
    const x = a[lo];
    const y = a[lo + ((hi - lo) >> 1)];
    const z = a[hi];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y; // median of three
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    // a[lo..j] <= pivot <= a[i..hi]; anything between j and i equals the pivot
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}
