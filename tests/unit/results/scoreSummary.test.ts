import { summarizeScores } from '../../../src/results/scoreSummary';

/** numpy's default (linear) quantile, from a full sort. */
function sortedQuantile(values: Float64Array, q: number): number {
  const sorted = Float64Array.from(values).sort();
  const position = q * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const QUANTILES = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99, p999: 0.999 } as const;

describe('summarizeScores', () => {
  const random = seeded(7);
  const cases: Record<string, Float64Array> = {
    uniform: Float64Array.from({ length: 20_001 }, () => random()),
    // Almost every score in a narrow band and a few far outliers: most land in one value bucket.
    clustered: Float64Array.from({ length: 50_000 }, (_, i) => (i % 997 === 0 ? 1e6 * random() : 0.5 + 1e-9 * random())),
    ties: Float64Array.from({ length: 10_000 }, (_, i) => i % 3),
    'one score': Float64Array.of(0.25),
    'all equal': new Float64Array(1000).fill(0.7),
    'with infinity': Float64Array.from({ length: 1000 }, (_, i) => (i === 999 ? Infinity : i / 1000)),
  };

  it.each(Object.keys(cases))('gives the quantiles a full sort gives: %s', (name) => {
    const scores = cases[name];
    const before = Float64Array.from(scores);
    const summary = summarizeScores(scores);
    for (const [key, q] of Object.entries(QUANTILES)) expect(summary.quantiles[key as keyof typeof QUANTILES]).toBe(sortedQuantile(scores, q));
    expect(scores).toEqual(before); // the job's scores are not reordered
  });

  it('counts every score once in the histogram, with min, max and mean', () => {
    const scores = cases.uniform;
    const summary = summarizeScores(scores, 40);
    expect(summary.histogram.counts.reduce((a, b) => a + b, 0)).toBe(scores.length);
    expect(summary.min).toBe(Math.min(...scores));
    expect(summary.max).toBe(Math.max(...scores));
    expect(summary.mean).toBeCloseTo(scores.reduce((a, b) => a + b, 0) / scores.length, 12);
  });
});
