/** Seeded synthetic datasets for the scoring tests: a dense inlier cluster plus far outliers. */
import { Matrix } from '../../../src/scoring/matrix';
import { SeededRandom } from '../../../src/scoring/random';

/** Roughly normal (sum of 4 uniforms, centred, sd ≈ 0.58) so the cluster has a dense core. */
function bell(rng: SeededRandom): number {
  return rng.next() + rng.next() + rng.next() + rng.next() - 2;
}

export function clusterWithOutliers(
  inliers: number,
  outliers: number,
  cols: number,
  seed: number,
): { X: Matrix; labels: Uint8Array } {
  const rng = new SeededRandom(seed);
  const rows = inliers + outliers;
  const data = new Float64Array(rows * cols);
  const labels = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    const outlier = r >= inliers;
    labels[r] = outlier ? 1 : 0;
    for (let c = 0; c < cols; c++) {
      // Outliers sit 6-9 units out on every axis, far beyond the cluster's ~±2 extent.
      data[r * cols + c] = outlier ? (rng.next() < 0.5 ? -1 : 1) * (6 + 3 * rng.next()) : bell(rng);
    }
  }
  return { X: new Matrix(rows, cols, data), labels };
}
