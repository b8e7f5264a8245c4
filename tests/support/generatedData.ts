import { writeFileSync } from 'node:fs';
import { SeededRandom } from '../../src/scoring/random';

/**
 * Writes a CSV of `rows` × `features` Gaussian-ish inliers with ~1% far outliers and an `id`
 * column, generated from a seed so every run sees the same bytes.
 */
export function writeSyntheticCsv(file: string, rows: number, features: number, seed = 1): void {
  const random = new SeededRandom(seed);
  const header = ['id', ...Array.from({ length: features }, (_, j) => `f${j}`)].join(',');
  const lines: string[] = [header];
  for (let i = 0; i < rows; i++) {
    const outlier = random.next() < 0.01;
    const cells: string[] = [`r${i}`];
    for (let j = 0; j < features; j++) {
      const noise = random.next() + random.next() + random.next() - 1.5;
      cells.push((outlier ? 6 + noise * 3 : noise).toFixed(5));
    }
    lines.push(cells.join(','));
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}
