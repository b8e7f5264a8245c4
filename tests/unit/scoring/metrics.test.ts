import { averagePrecision, rocAuc } from '../../../src/scoring/metrics';
import { SeededRandom } from '../../../src/scoring/random';

const u8 = (values: number[]) => Uint8Array.from(values);
const f64 = (values: number[]) => Float64Array.from(values);

/** O(n²) definition: P(score of a random positive > a random negative), ties count half. */
function pairwiseAuc(labels: Uint8Array, scores: Float64Array): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < labels.length; i++) {
    if (!labels[i]) continue;
    for (let j = 0; j < labels.length; j++) {
      if (labels[j]) continue;
      pairs++;
      wins += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  return wins / pairs;
}

describe('rocAuc', () => {
  it('matches the scikit-learn documentation example', () => {
    expect(rocAuc(u8([0, 0, 1, 1]), f64([0.1, 0.4, 0.35, 0.8]))).toBe(0.75);
  });

  it('scores perfect, reversed and all-tied rankings', () => {
    expect(rocAuc(u8([0, 0, 1, 1]), f64([1, 2, 3, 4]))).toBe(1);
    expect(rocAuc(u8([1, 1, 0, 0]), f64([1, 2, 3, 4]))).toBe(0);
    expect(rocAuc(u8([0, 1, 0, 1, 1]), f64([7, 7, 7, 7, 7]))).toBe(0.5);
  });

  it('counts a tie between a positive and a negative as half', () => {
    // Pairs (pos, neg): (0.5, 0.5) tie = 0.5, (0.5, 0.2) = 1, (0.9, 0.5) = 1, (0.9, 0.2) = 1.
    expect(rocAuc(u8([0, 1, 0, 1]), f64([0.5, 0.5, 0.2, 0.9]))).toBe(0.875);
    // Ties among positives only change nothing: 2 positives at 0.3 above 1 negative, below another.
    expect(rocAuc(u8([1, 1, 0, 0]), f64([0.3, 0.3, 0.1, 0.9]))).toBe(0.5);
  });

  it('agrees with the pairwise definition on random data with many ties', () => {
    const rng = new SeededRandom(4);
    for (let trial = 0; trial < 20; trial++) {
      const n = 50 + rng.nextInt(100);
      const labels = new Uint8Array(n);
      const scores = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        labels[i] = rng.next() < 0.3 ? 1 : 0;
        scores[i] = rng.nextInt(8) + labels[i] * rng.nextInt(3); // few distinct values
      }
      labels[0] = 1;
      labels[1] = 0;
      expect(rocAuc(labels, scores)).toBeCloseTo(pairwiseAuc(labels, scores), 12);
    }
  });
});

describe('averagePrecision', () => {
  it('matches the scikit-learn documentation example', () => {
    // Thresholds 0.8 (P=1, R=.5), 0.4 (R unchanged), 0.35 (P=2/3, R=1): .5·1 + .5·2/3.
    expect(averagePrecision(u8([0, 0, 1, 1]), f64([0.1, 0.4, 0.35, 0.8]))).toBeCloseTo(5 / 6, 15);
  });

  it('groups tied scores at one threshold', () => {
    // 0.5 admits a positive and a negative together (P=1/2, R=1/2), then 0.2 (P=2/3, R=1).
    expect(averagePrecision(u8([1, 0, 1, 0]), f64([0.5, 0.5, 0.2, 0.1]))).toBeCloseTo(0.25 + 1 / 3, 15);
    // All tied: one threshold, precision = prevalence.
    expect(averagePrecision(u8([1, 0, 0, 0]), f64([3, 3, 3, 3]))).toBe(0.25);
    // Order within a tie must not matter.
    expect(averagePrecision(u8([0, 1, 1, 0]), f64([0.5, 0.5, 0.2, 0.1]))).toBeCloseTo(0.25 + 1 / 3, 15);
  });

  it('steps without interpolation', () => {
    // 0.9 neg; 0.8 pos (P=1/2); 0.7 pos (P=2/3); 0.6 neg; 0.1 pos (P=3/5); each adds R=1/3.
    const ap = averagePrecision(u8([0, 1, 1, 0, 1]), f64([0.9, 0.8, 0.7, 0.6, 0.1]));
    expect(ap).toBeCloseTo(53 / 90, 15);
    expect(averagePrecision(u8([1, 1, 0]), f64([0.9, 0.8, 0.1]))).toBe(1);
  });
});

describe('metric input checks', () => {
  it('refuses a single class with a clear message', () => {
    for (const metric of [rocAuc, averagePrecision]) {
      expect(() => metric(u8([0, 0, 0]), f64([1, 2, 3]))).toThrow(/only one class is present \(0 anomalies among 3 rows\)/);
      expect(() => metric(u8([1, 1]), f64([1, 2]))).toThrow(/only one class is present \(2 anomalies among 2 rows\)/);
    }
  });

  it('refuses mismatched lengths, labels other than 0/1 and NaN scores', () => {
    expect(() => rocAuc(u8([0, 1]), f64([1]))).toThrow('rocAuc: 2 labels but 1 scores');
    expect(() => averagePrecision(u8([0, 2]), f64([1, 2]))).toThrow('averagePrecision: labels must be 0 or 1; label 1 is 2');
    expect(() => rocAuc(u8([0, 1]), f64([NaN, 1]))).toThrow('rocAuc: score 0 is NaN');
  });
});
