import { decodeModel, encodeModel } from '../../../src/scoring/codec';
import { Copod, CopodOptions } from '../../../src/scoring/copod';
import { DetectorInputError, DetectorOptionError } from '../../../src/scoring/detector';
import { Ecod, EmpiricalTails } from '../../../src/scoring/ecod';
import { Matrix } from '../../../src/scoring/matrix';
import { rocAuc } from '../../../src/scoring/metrics';
import { SeededRandom } from '../../../src/scoring/random';
import { fitDetector, supportedAlgorithms } from '../../../src/scoring/registry';
import { thresholdFromContamination } from '../../../src/scoring/threshold';
import { clusterWithOutliers } from './syntheticData';

/**
 * PyOD's COPOD.decision_function on a whole dataset, written straight from PyOD's code with
 * plain arrays: ECDFs counting values <= x (ties share the larger value), scipy's biased
 * skewness (NaN, read as 0, when m2 <= (eps·mean)²), U_skew = U_l·-sign(s-1) + U_r·sign(s+1),
 * O = max(U_skew, (U_l + U_r) / 2) per feature, summed.
 */
function pyodCopod(rows: number[][]): number[] {
  const n = rows.length;
  const scores = new Array<number>(n).fill(0);
  const ecdf = (values: number[]): number[] => values.map((v) => values.filter((w) => w <= v).length / n);
  for (let j = 0; j < rows[0].length; j++) {
    const column = rows.map((row) => row[j]);
    const left = ecdf(column);
    const right = ecdf(column.map((v) => -v));
    const mean = column.reduce((a, v) => a + v, 0) / n;
    const m2 = column.reduce((a, v) => a + (v - mean) ** 2, 0) / n;
    const m3 = column.reduce((a, v) => a + (v - mean) ** 3, 0) / n;
    const skew = m2 <= (Number.EPSILON * mean) ** 2 ? 0 : Math.sign(m3 / m2 ** 1.5);
    for (let i = 0; i < n; i++) {
      const ul = -Math.log(left[i]);
      const ur = -Math.log(right[i]);
      const uSkew = ul * -1 * Math.sign(skew - 1) + ur * Math.sign(skew + 1);
      scores[i] += Math.max(uSkew, (ul + ur) / 2);
    }
  }
  return scores;
}

function toRows(X: Matrix): number[][] {
  const rows: number[][] = [];
  for (let r = 0; r < X.rows; r++) rows.push(Array.from(X.row(r)));
  return rows;
}

/** Right-skewed, left-skewed, symmetric and discrete (tied) columns. */
function skewedData(rows: number, seed: number): Matrix {
  const rng = new SeededRandom(seed);
  const data = new Float64Array(rows * 4);
  for (let r = 0; r < rows; r++) {
    data[r * 4] = -Math.log(1 - rng.next());
    data[r * 4 + 1] = Math.log(1 - rng.next()) * 3;
    data[r * 4 + 2] = rng.next() + rng.next() - 1;
    data[r * 4 + 3] = rng.nextInt(4);
  }
  return new Matrix(rows, 4, data);
}

function trainingScores(X: Matrix): Float64Array {
  const out = new Float64Array(X.rows);
  EmpiricalTails.fromMatrix(X).trainingScores(X, 'copod', out);
  return out;
}

const column = (...values: number[]): Matrix => new Matrix(values.length, 1, Float64Array.from(values));

describe('Copod', () => {
  const { X, labels } = clusterWithOutliers(1000, 10, 4, 7);

  it('follows the skewness: the right tail counts fully on a right-skewed feature, the left one half', () => {
    // 1, 2, 3, 4, 10 (positive skewness): O = max(U_r, (U_l + U_r) / 2).
    const scores = trainingScores(column(1, 2, 3, 4, 10));
    const expected = [
      Math.log(5) / 2, // U_l = log 5, U_r = 0
      (Math.log(2.5) + Math.log(1.25)) / 2, // U_l = log 2.5 > U_r = log 1.25
      Math.log(5 / 3), // U_l = U_r
      Math.log(2.5), // U_r = log 2.5
      Math.log(5), // U_r = log 5
    ];
    for (let i = 0; i < 5; i++) expect(scores[i]).toBeCloseTo(expected[i], 14);
    // Mirrored data (negative skewness) swaps the roles of the tails.
    const mirrored = trainingScores(column(-1, -2, -3, -4, -10));
    for (let i = 0; i < 5; i++) expect(mirrored[i]).toBeCloseTo(expected[i], 14);
    // ECOD would score the low end like the high end: max(U_l, U_r) = log 5.
    const ecod = new Float64Array(5);
    EmpiricalTails.fromMatrix(column(1, 2, 3, 4, 10)).trainingScores(column(1, 2, 3, 4, 10), 'ecod', ecod);
    expect(ecod[0]).toBeCloseTo(Math.log(5), 14);
  });

  it('scores a new row as PyOD does when that row is appended to the training data', () => {
    const model = Copod.fit(column(1, 2, 3, 4, 10));
    const scores = model.score(column(0, 20, 5));
    // 0: F_l = 1/6, F_r = 1; the union stays right-skewed → (log 6 + 0) / 2.
    expect(scores[0]).toBeCloseTo(Math.log(6) / 2, 14);
    // 20: F_r = 1/6 → log 6.
    expect(scores[1]).toBeCloseTo(Math.log(6), 14);
    // 5: F_l = 5/6, F_r = 2/6 → U_r = log 3.
    expect(scores[2]).toBeCloseTo(Math.log(3), 14);
    // Differs from ECOD on the low outlier.
    expect(Ecod.fit(column(1, 2, 3, 4, 10)).score(column(0))[0]).toBeCloseTo(Math.log(6), 14);
  });

  it('matches a naive transcription of PyOD on skewed and tied data, for training and new rows', () => {
    const train = skewedData(120, 13);
    const fresh = skewedData(40, 14);
    const reference = pyodCopod(toRows(train));
    const scores = trainingScores(train);
    for (let i = 0; i < train.rows; i++) expect(scores[i]).toBeCloseTo(reference[i], 10);

    const model = Copod.fit(train);
    expect(model.threshold).toBe(thresholdFromContamination(scores, 0.1));
    const newScores = model.score(fresh);
    const trainRows = toRows(train);
    for (let i = 0; i < fresh.rows; i++) {
      const appended = pyodCopod([...trainRows, Array.from(fresh.row(i))]);
      expect(newScores[i]).toBeCloseTo(appended[appended.length - 1], 10);
      // One row alone scores the same as within the batch.
      expect(model.score(fresh.sliceRows(i, i + 1))[0]).toBe(newScores[i]);
    }
  });

  it('handles a constant column: 0 in training, log(n + 1) for a new value off the constant', () => {
    for (const v of trainingScores(new Matrix(5, 1, new Float64Array(5).fill(-2)))) expect(v).toBe(0);
    const model = Copod.fit(new Matrix(5, 1, new Float64Array(5).fill(-2)));
    const scores = model.score(column(-2, -3, 8));
    expect(scores[0]).toBe(0);
    expect(scores[1]).toBeCloseTo(Math.log(6), 14);
    expect(scores[2]).toBeCloseTo(Math.log(6), 14);
    expect(model.threshold).toBe(0);
  });

  it('scores far outliers above every inlier and flags about `contamination` of the training rows', () => {
    const model = Copod.fit(X);
    expect(model.params).toEqual({ contamination: 0.1 });
    expect(rocAuc(labels, model.score(X))).toBe(1);
    for (const contamination of [0.05, 0.1, 0.25]) {
      const fitted = Copod.fit(X, { contamination });
      expect(fitted.threshold).toBe(thresholdFromContamination(trainingScores(X), contamination));
      const flagged = fitted.predict(X).reduce((sum, v) => sum + v, 0);
      expect(Math.abs(flagged - contamination * X.rows)).toBeLessThanOrEqual(0.01 * X.rows);
    }
    expect(supportedAlgorithms()).toContain('copod');
    expect(fitDetector('copod', X, { contamination: 0.2 }).params).toEqual({ contamination: 0.2 });
  });

  it('round-trips through the model codec with identical scores and bytes', () => {
    const train = skewedData(250, 15);
    const model = Copod.fit(train, { contamination: 0.05 });
    const bytes = encodeModel(model);
    const decoded = decodeModel(bytes);
    expect(decoded).toBeInstanceOf(Copod);
    expect(decoded.algorithm).toBe('copod');
    expect(decoded.threshold).toBe(model.threshold);
    const fresh = skewedData(60, 16);
    expect(decoded.score(fresh)).toEqual(model.score(fresh));
    expect(decoded.predict(fresh)).toEqual(model.predict(fresh));
    expect(Buffer.from(encodeModel(decoded)).equals(Buffer.from(bytes))).toBe(true);
    expect(Buffer.from(encodeModel(Copod.fit(train, { contamination: 0.05 }))).equals(Buffer.from(bytes))).toBe(true);
  });

  it('writes into a caller-provided buffer and checks its length', () => {
    const model = Copod.fit(X);
    const expected = model.score(X);
    const out = new Float64Array(X.rows);
    expect(model.score(X, out)).toBe(out);
    expect(out).toEqual(expected);
    const labelsOut = model.predict(X);
    for (let i = 0; i < X.rows; i++) expect(labelsOut[i]).toBe(expected[i] > model.threshold ? 1 : 0);
    expect(() => model.score(X, new Float64Array(1))).toThrow(RangeError);
  });

  it('rejects empty, one-row and non-finite data, and the wrong number of columns', () => {
    expect(() => Copod.fit(new Matrix(0, 1, new Float64Array(0)))).toThrow(/copod: cannot fit on a dataset with 0 rows/);
    expect(() => Copod.fit(column(4))).toThrow(/copod: cannot fit on a dataset with 1 row/);
    expect(() => Copod.fit(column(1, Infinity))).toThrow(DetectorInputError);
    expect(() => Copod.fit(column(1, Infinity))).toThrow(/non-finite value \(Infinity\) at row 1, column 0/);
    const model = Copod.fit(X);
    expect(() => model.score(new Matrix(1, 4, Float64Array.from([NaN, 0, 0, 0])))).toThrow(/copod: data has a non-finite value \(NaN\) at row 0, column 0/);
    expect(() => model.predict(new Matrix(1, 5, new Float64Array(5)))).toThrow('copod: model was fitted on 4 columns but the data has 5');
  });

  it('names a bad option', () => {
    expect(() => Copod.fit(X, { contamination: -0.1 })).toThrow('copod: option "contamination" must be a number in (0, 0.5]; got -0.1');
    try {
      Copod.fit(X, { n_jobs: 1 } as unknown as CopodOptions);
      throw new Error('expected an option error');
    } catch (error) {
      expect(error).toBeInstanceOf(DetectorOptionError);
      expect((error as DetectorOptionError).option).toBe('n_jobs');
    }
  });

  it('refuses to load another algorithm’s state', () => {
    const state = Ecod.fit(column(1, 2, 3)).toState();
    expect(() => Copod.fromState(state)).toThrow(/copod: cannot load a model of algorithm "ecod"/);
    expect(Copod.fromState({ ...state, algorithm: 'copod' }).score(column(2))).toEqual(Copod.fit(column(1, 2, 3)).score(column(2)));
  });
});
