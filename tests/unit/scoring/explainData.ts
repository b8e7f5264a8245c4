/** Seeded data for the explanation tests: N(0, I) inliers, anomalies shifted 5σ in one known feature. */
import { Matrix } from '../../../src/scoring/matrix';
import { SeededRandom } from '../../../src/scoring/random';

/** A standard normal draw (Box–Muller; 1 − next() keeps the log finite). */
export function gaussian(rng: SeededRandom): number {
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

export function gaussianMatrix(rows: number, cols: number, rng: SeededRandom): Matrix {
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = gaussian(rng);
  return new Matrix(rows, cols, data);
}

/**
 * `anomalies` N(0, I) rows, row a shifted by ±shift (alternating sign) in feature a mod cols:
 * `feature[a]` is the one feature that carries row a's anomaly.
 */
export function shiftedAnomalies(anomalies: number, cols: number, shift: number, rng: SeededRandom): { X: Matrix; feature: Int32Array } {
  const X = gaussianMatrix(anomalies, cols, rng);
  const feature = new Int32Array(anomalies);
  for (let a = 0; a < anomalies; a++) {
    feature[a] = a % cols;
    X.data[a * cols + feature[a]] += (a % 2 === 0 ? 1 : -1) * shift;
  }
  return { X, feature };
}
