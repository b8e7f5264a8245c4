import { decodeModel, encodeModel } from '../../../src/scoring/codec';
import { allRows, DetectorInputError } from '../../../src/scoring/detector';
import { Matrix } from '../../../src/scoring/matrix';
import { SeededRandom } from '../../../src/scoring/random';
import { fitDetector, supportedAlgorithms } from '../../../src/scoring/registry';
import { gaussianMatrix, shiftedAnomalies } from './explainData';

const COLS = 8;
const train = gaussianMatrix(2000, COLS, new SeededRandom(11));
const { X: anomalies, feature } = shiftedAnomalies(160, COLS, 5, new SeededRandom(12));

/** Options per registry name; every name in the registry must fit here (composites need theirs). */
const OPTIONS: Record<string, unknown> = {
  'isolation-forest': { seed: 3 },
  pipeline: { standardize: 'robust', detector: { algorithm: 'pca' } },
  impute: { missing: 'median', detector: { algorithm: 'hbos' } },
  encode: { columns: Array(COLS).fill('number'), detector: { algorithm: 'ecod' } },
  ensemble: { members: [{ algorithm: 'isolation-forest', options: { seed: 3 } }, { algorithm: 'ecod' }, { algorithm: 'knn' }] },
};

const fitted = new Map(supportedAlgorithms().map((algorithm) => [algorithm, fitDetector(algorithm, train, OPTIONS[algorithm])]));

/** Whether `feature` has the strictly largest contribution of the row (a tie is not a win). */
function ranksFirst(contributions: Float64Array, row: number, cols: number, feature: number): boolean {
  const top = contributions[row * cols + feature];
  for (let c = 0; c < cols; c++) if (c !== feature && contributions[row * cols + c] >= top) return false;
  return true;
}

function rowSums(contributions: Float64Array, rows: number, cols: number): Float64Array {
  const sums = new Float64Array(rows);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) sums[r] += contributions[r * cols + c];
  return sums;
}

describe('explain: the feature that carries the anomaly ranks first', () => {
  it.each(supportedAlgorithms())('%s', (algorithm) => {
    const detector = fitted.get(algorithm)!;
    const contributions = detector.explain(anomalies, allRows(anomalies.rows));
    expect(contributions).toHaveLength(anomalies.rows * COLS);
    let first = 0;
    for (let a = 0; a < anomalies.rows; a++) if (ranksFirst(contributions, a, COLS, feature[a])) first++;
    expect(first / anomalies.rows).toBeGreaterThanOrEqual(0.95);
  });
});

describe('explain: what each attribution adds up to', () => {
  const everyRow = allRows(anomalies.rows);
  const scoresOf = (algorithm: string): Float64Array => fitted.get(algorithm)!.score(anomalies);
  const sumsOf = (algorithm: string): Float64Array => rowSums(fitted.get(algorithm)!.explain(anomalies, everyRow), anomalies.rows, COLS);

  it.each(['hbos', 'ecod', 'copod', 'pca', 'pipeline', 'impute', 'encode'])('%s: contributions sum to the score within 1e-9', (algorithm) => {
    const scores = scoresOf(algorithm);
    const sums = sumsOf(algorithm);
    for (let r = 0; r < scores.length; r++) expect(Math.abs(sums[r] - scores[r])).toBeLessThanOrEqual(1e-9);
  });

  it.each(['hbos', 'ecod', 'copod'])('%s: added in column order, the terms give the score bit for bit', (algorithm) => {
    expect(sumsOf(algorithm)).toEqual(scoresOf(algorithm));
  });

  it.each(['knn', 'knn-mean', 'knn-median', 'lof'])('%s: contributions are ≥ 0 and sum to the score (to rounding)', (algorithm) => {
    const contributions = fitted.get(algorithm)!.explain(anomalies, everyRow);
    expect(contributions.every((c) => c >= 0)).toBe(true);
    const scores = scoresOf(algorithm);
    const sums = sumsOf(algorithm);
    for (let r = 0; r < scores.length; r++) expect(Math.abs(sums[r] - scores[r])).toBeLessThanOrEqual(1e-9 * Math.max(1, scores[r]));
  });

  it.each(['ecdf', 'rank'])('ensemble (%s) of members with non-negative contributions: they sum to the ensemble score', (normalization) => {
    const ensemble = fitDetector('ensemble', train, { normalization, members: [{ algorithm: 'ecod' }, { algorithm: 'pca' }, { algorithm: 'knn-mean' }] });
    const contributions = ensemble.explain(anomalies, everyRow);
    expect(contributions.every((c) => c >= 0)).toBe(true);
    const scores = ensemble.score(anomalies);
    const sums = rowSums(contributions, anomalies.rows, COLS);
    for (let r = 0; r < scores.length; r++) expect(Math.abs(sums[r] - scores[r])).toBeLessThanOrEqual(1e-9);
  });

  it('robust-z: the largest contribution is the score, exactly', () => {
    const contributions = fitted.get('robust-z')!.explain(anomalies, everyRow);
    const scores = scoresOf('robust-z');
    for (let r = 0; r < scores.length; r++) expect(Math.max(...contributions.subarray(r * COLS, r * COLS + COLS))).toBe(scores[r]);
  });

  it('isolation-forest: contributions sum to 1 + log2(score), the share of the expected path saved', () => {
    const scores = scoresOf('isolation-forest');
    const sums = sumsOf('isolation-forest');
    for (let r = 0; r < scores.length; r++) expect(Math.abs(sums[r] - (1 + Math.log2(scores[r])))).toBeLessThanOrEqual(1e-9);
    // Inliers isolate no faster than a typical training row: their credits sum to about 0 or less.
    const inliers = gaussianMatrix(200, COLS, new SeededRandom(13));
    const inlierSums = rowSums(fitted.get('isolation-forest')!.explain(inliers, allRows(200)), 200, COLS);
    expect(inlierSums.reduce((a, b) => a + b, 0) / 200).toBeLessThan(0.05);
  });
});

describe('explain: rows, buffers and determinism', () => {
  it.each(supportedAlgorithms())('%s: same seed and data give the same bytes; rows are explained as chosen', (algorithm) => {
    const again = fitDetector(algorithm, train, OPTIONS[algorithm]);
    const rows = [5, 0, 17, 5];
    const first = fitted.get(algorithm)!.explain(anomalies, rows);
    const second = again.explain(anomalies, Int32Array.from(rows));
    expect(Buffer.from(second.buffer).equals(Buffer.from(first.buffer))).toBe(true);
    // The same row twice gets the same contributions, and a row alone gets what it gets among others.
    expect(first.subarray(3 * COLS, 4 * COLS)).toEqual(first.subarray(0, COLS));
    const whole = again.explain(anomalies, allRows(anomalies.rows));
    expect(first.subarray(2 * COLS, 3 * COLS)).toEqual(whole.subarray(17 * COLS, 18 * COLS));
    // A caller's buffer is filled and returned, whatever it held.
    const out = new Float64Array(rows.length * COLS).fill(7);
    expect(again.explain(anomalies, rows, out)).toBe(out);
    expect(out).toEqual(first);
  });

  it.each(supportedAlgorithms())('%s: a saved and reloaded model explains with the same bytes', (algorithm) => {
    const detector = fitted.get(algorithm)!;
    const rows = allRows(anomalies.rows);
    const reloaded = decodeModel(encodeModel(detector)).explain(anomalies, rows);
    expect(Buffer.from(reloaded.buffer).equals(Buffer.from(detector.explain(anomalies, rows).buffer))).toBe(true);
  });

  it.each(supportedAlgorithms())('%s: rows of another number of features are a clear error', (algorithm) => {
    const detector = fitted.get(algorithm)!;
    const narrow = Matrix.zeros(3, COLS - 1);
    expect(() => detector.explain(narrow, [0])).toThrow(DetectorInputError);
    expect(() => detector.explain(narrow, [0])).toThrow(`cannot explain rows of ${COLS - 1} columns with a model fitted on ${COLS} columns`);
  });

  it('a row index outside the data, a wrong buffer and a non-finite row are refused', () => {
    const detector = fitted.get('ecod')!;
    expect(() => detector.explain(anomalies, [anomalies.rows])).toThrow(RangeError);
    expect(() => detector.explain(anomalies, [1.5])).toThrow(RangeError);
    expect(() => detector.explain(anomalies, [0, 1], new Float64Array(COLS))).toThrow(RangeError);
    const withNaN = new Matrix(2, COLS, new Float64Array(2 * COLS));
    withNaN.data[COLS + 3] = NaN;
    expect(detector.explain(withNaN, [0])).toHaveLength(COLS);
    expect(() => detector.explain(withNaN, [1])).toThrow(DetectorInputError);
  });

  it('no rows give an empty explanation', () => {
    expect(fitted.get('isolation-forest')!.explain(anomalies, [])).toHaveLength(0);
  });
});
