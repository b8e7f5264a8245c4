/**
 * What the benchmarks share: the seeded synthetic data, the raw file the scikit-learn peers read,
 * a description of the machine, and number formats for the reports.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { Matrix, SeededRandom } from '../../src/scoring';

/** Share of rows generated as outliers. */
export const OUTLIER_SHARE = 0.03;

/** Standard normal by Box–Muller from the seeded generator. */
export function normal(rng: SeededRandom): number {
  const u = 1 - rng.next(); // (0, 1]
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * Inliers: two Gaussian clusters (means ±1 per feature, sd 1, every other feature correlated
 * with its neighbour). Outliers (OUTLIER_SHARE of rows, at random positions): uniform in
 * [-8, 8] on every feature.
 */
export function generate(rows: number, cols: number, seed: number): { X: Matrix; labels: Uint8Array } {
  const rng = new SeededRandom(seed);
  const data = new Float64Array(rows * cols);
  const labels = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    if (rng.next() < OUTLIER_SHARE) {
      labels[r] = 1;
      for (let c = 0; c < cols; c++) data[base + c] = -8 + 16 * rng.next();
    } else {
      const centre = rng.next() < 0.6 ? 1 : -1;
      for (let c = 0; c < cols; c++) {
        const z = normal(rng);
        data[base + c] = c % 2 === 1 ? 0.8 * (data[base + c - 1] - centre) + 0.6 * z + centre : centre + z;
      }
    }
  }
  return { X: new Matrix(rows, cols, data), labels };
}

/** Latent factors behind generateTabular's columns. */
export const TABULAR_FACTORS = 4;
/** Standard deviation of generateTabular's per-column noise (the factors' loadings are ~1). */
export const TABULAR_NOISE = 0.1;

/**
 * Tabular-like rows: what real tables look like more than full-rank Gaussian rows do, columns
 * driven by a few shared causes. A loading matrix W (cols × TABULAR_FACTORS, each entry standard
 * normal) is drawn once from the seed; each inlier row is W·z + TABULAR_NOISE·e with z standard
 * normal (TABULAR_FACTORS values) and e standard normal (cols values), so the rows lie near a
 * 4-dimensional subspace. Outliers as in generate: OUTLIER_SHARE of rows, uniform in [-8, 8] on
 * every feature.
 */
export function generateTabular(rows: number, cols: number, seed: number): { X: Matrix; labels: Uint8Array } {
  const rng = new SeededRandom(seed);
  const W = Float64Array.from({ length: cols * TABULAR_FACTORS }, () => normal(rng));
  const z = new Float64Array(TABULAR_FACTORS);
  const data = new Float64Array(rows * cols);
  const labels = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    if (rng.next() < OUTLIER_SHARE) {
      labels[r] = 1;
      for (let c = 0; c < cols; c++) data[base + c] = -8 + 16 * rng.next();
      continue;
    }
    for (let f = 0; f < TABULAR_FACTORS; f++) z[f] = normal(rng);
    for (let c = 0; c < cols; c++) {
      let v = TABULAR_NOISE * normal(rng);
      for (let f = 0; f < TABULAR_FACTORS; f++) v += W[c * TABULAR_FACTORS + f] * z[f];
      data[base + c] = v;
    }
  }
  return { X: new Matrix(rows, cols, data), labels };
}

export function writeLittleEndian(file: string, values: Float64Array): void {
  if (os.endianness() !== 'LE') {
    const copy = Buffer.from(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    copy.swap64();
    fs.writeFileSync(file, copy);
    return;
  }
  fs.writeFileSync(file, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}

export function machine(): { nproc: string; cpu: string; node: string; os: string; load: string } {
  let nproc = String(os.availableParallelism());
  try {
    nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  } catch {
    /* keep availableParallelism */
  }
  let cpu = 'unknown';
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (match) cpu = match[1].trim();
  } catch {
    /* not Linux */
  }
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' / ');
  return { nproc, cpu, node: process.version, os: `${os.type()} ${os.release()} ${os.arch()}`, load };
}

export const rate = (rows: number, seconds: number): string => {
  const r = rows / seconds;
  return r >= 1e6 ? `${(r / 1e6).toFixed(2)} M` : r >= 1e3 ? `${(r / 1e3).toFixed(1)} k` : r.toFixed(0);
};
export const secs = (s: number): string => (s >= 10 ? s.toFixed(1) : s >= 0.1 ? s.toFixed(2) : s.toFixed(3));
export const mib = (bytes: number): string => (bytes / 1048576).toFixed(1);

