import { decodeModel, encodeModel } from '../../../src/scoring/codec';
import { DetectorInputError, DetectorOptionError, DetectorState } from '../../../src/scoring/detector';
import { Ecod, EcodOptions, EmpiricalTails } from '../../../src/scoring/ecod';
import { Matrix } from '../../../src/scoring/matrix';
import { rocAuc } from '../../../src/scoring/metrics';
import { SeededRandom } from '../../../src/scoring/random';
import { fitDetector, supportedAlgorithms } from '../../../src/scoring/registry';
import { thresholdFromContamination } from '../../../src/scoring/threshold';
import { clusterWithOutliers } from './syntheticData';

/**
 * PyOD's ECOD.decision_function on a whole dataset, written straight from PyOD's code with plain
 * arrays: column_ecdf (ties take the ECDF of the last equal value), scipy's biased skewness
 * (NaN, read as 0, when m2 <= (eps·mean)²), U_skew = U_l·-sign(s-1) + U_r·sign(s+1),
 * O = max(U_l, U_r, U_skew) per feature, summed.
 */
function pyodEcod(rows: number[][]): number[] {
  const n = rows.length;
  const scores = new Array<number>(n).fill(0);
  const ecdf = (values: number[]): number[] =>
    values.map((v) => values.filter((w) => w <= v).length / n);
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
      scores[i] += Math.max(ul, ur, uSkew);
    }
  }
  return scores;
}

function toRows(X: Matrix): number[][] {
  const rows: number[][] = [];
  for (let r = 0; r < X.rows; r++) rows.push(Array.from(X.row(r)));
  return rows;
}

/** Skewed columns, so the skewness rules matter: right-skewed, left-skewed, symmetric, discrete with ties. */
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
  EmpiricalTails.fromMatrix(X).trainingScores(X, 'ecod', out);
  return out;
}

const column = (...values: number[]): Matrix => new Matrix(values.length, 1, Float64Array.from(values));

describe('Ecod', () => {
  const { X, labels } = clusterWithOutliers(1000, 10, 4, 7);

  it('gives hand-worked training scores: max(-log F_l, -log F_r) per feature', () => {
    // 1, 2, 3, 4, 10: F_l = k/5 for the k-th smallest, F_r = (6-k)/5; skewness is positive.
    const train = column(1, 2, 3, 4, 10);
    const expected = [Math.log(5), Math.log(2.5), Math.log(5 / 3), Math.log(2.5), Math.log(5)];
    const scores = trainingScores(train);
    for (let i = 0; i < 5; i++) expect(scores[i]).toBeCloseTo(expected[i], 14);
    // Sorted scores log(5/3), log 2.5, log 2.5, log 5, log 5: the 90th percentile is log 5.
    const model = Ecod.fit(train);
    expect(model.threshold).toBeCloseTo(Math.log(5), 14);
    expect(model.threshold).toBe(thresholdFromContamination(scores, 0.1));
  });

  it('adds both tails on a feature with zero skewness (PyOD’s U_skew = U_l + U_r)', () => {
    // 1, 2, 3 is symmetric: the middle value has U_l = U_r = log 1.5 and O = 2·log 1.5.
    const scores = trainingScores(column(1, 2, 3));
    expect(scores[0]).toBeCloseTo(Math.log(3), 14);
    expect(scores[1]).toBeCloseTo(2 * Math.log(1.5), 14);
    expect(scores[2]).toBeCloseTo(Math.log(3), 14);
    // Scoring 2 against 1, 3 appends it: 1, 2, 3 again, so the same 2·log 1.5.
    expect(Ecod.fit(column(1, 3)).score(column(2))[0]).toBeCloseTo(2 * Math.log(1.5), 14);
    // 1, 3, 4, 5 plus 2 is 1..5, symmetric although 2 is not the training mean (3.25): the
    // skewness update must land on exactly 0. F_l = 2/5, F_r = 4/5 → log 2.5 + log 1.25 (with a
    // non-zero skewness it would be max(log 2.5, log 1.25) = log 2.5).
    expect(Ecod.fit(column(1, 3, 4, 5)).score(column(2))[0]).toBeCloseTo(Math.log(2.5) + Math.log(1.25), 14);
  });

  it('scores a new row as PyOD does when that row is appended to the training data', () => {
    // Training 1, 2, 3, 4, 10 plus x: the ECDFs run over 6 values.
    const model = Ecod.fit(new Matrix(5, 2, Float64Array.from([1, 5, 2, 5, 3, 5, 4, 5, 10, 5])));
    const scores = model.score(new Matrix(4, 2, Float64Array.from([5, 5, 0, 5, 3, 5, 5, 6])));
    // x = 5: F_l = 5/6, F_r = 2/6 → log 3. x = 0: F_l = 1/6 → log 6. x = 3: F_l = F_r = 4/6 → log 1.5.
    // Column 1 is constant 5: 0 while the value stays 5; 6 has F_r = 1/6 → log 6 more.
    const expected = [Math.log(3), Math.log(6), Math.log(1.5), Math.log(3) + Math.log(6)];
    for (let i = 0; i < 4; i++) expect(scores[i]).toBeCloseTo(expected[i], 14);
  });

  it('matches a naive transcription of PyOD on skewed and tied data, for training and new rows', () => {
    const train = skewedData(120, 3);
    const fresh = skewedData(40, 4);
    const reference = pyodEcod(toRows(train));
    const scores = trainingScores(train);
    for (let i = 0; i < train.rows; i++) expect(scores[i]).toBeCloseTo(reference[i], 10);

    const model = Ecod.fit(train);
    const newScores = model.score(fresh);
    const trainRows = toRows(train);
    for (let i = 0; i < fresh.rows; i++) {
      const appended = pyodEcod([...trainRows, Array.from(fresh.row(i))]);
      expect(newScores[i]).toBeCloseTo(appended[appended.length - 1], 10);
    }
  });

  it('scores each row independently of the rest of the batch', () => {
    const model = Ecod.fit(X);
    const batch = skewedData(30, 9).data.subarray(0, 120);
    const together = model.score(new Matrix(30, 4, batch));
    for (let i = 0; i < 30; i++) {
      expect(model.score(new Matrix(1, 4, batch.slice(i * 4, i * 4 + 4)))[0]).toBe(together[i]);
    }
  });

  it('scores far outliers above every inlier and flags about `contamination` of the training rows', () => {
    const model = Ecod.fit(X);
    expect(model.params).toEqual({ contamination: 0.1 });
    expect(model.trainingRows).toBe(1010);
    const scores = model.score(X);
    expect(rocAuc(labels, scores)).toBe(1);
    for (const contamination of [0.05, 0.1, 0.25]) {
      const fitted = Ecod.fit(X, { contamination });
      expect(fitted.threshold).toBe(thresholdFromContamination(trainingScores(X), contamination));
      const flagged = fitted.predict(X).reduce((sum, v) => sum + v, 0);
      // predict appends each training row once more (n + 1 values), so the count is near, not exact.
      expect(Math.abs(flagged - contamination * X.rows)).toBeLessThanOrEqual(0.01 * X.rows);
    }
    expect(supportedAlgorithms()).toContain('ecod');
    expect(fitDetector('ecod', X)).toBeInstanceOf(Ecod);
  });

  it('handles a constant column: 0 at the constant, log(n + 1) for any other value', () => {
    const data = new Float64Array(20);
    for (let r = 0; r < 10; r++) {
      data[2 * r] = r;
      data[2 * r + 1] = 3;
    }
    const model = Ecod.fit(new Matrix(10, 2, data));
    const base = model.score(new Matrix(1, 2, Float64Array.from([4.5, 3])))[0];
    const moved = model.score(new Matrix(2, 2, Float64Array.from([4.5, 2, 4.5, 1000])));
    expect(moved[0] - base).toBeCloseTo(Math.log(11), 12);
    expect(moved[1] - base).toBeCloseTo(Math.log(11), 12);
    for (const v of trainingScores(new Matrix(4, 1, new Float64Array(4).fill(2)))) expect(v).toBe(0);
  });

  it('round-trips through the model codec with identical scores and bytes', () => {
    const train = skewedData(300, 5);
    const model = Ecod.fit(train, { contamination: 0.2 });
    const bytes = encodeModel(model);
    const decoded = decodeModel(bytes);
    expect(decoded).toBeInstanceOf(Ecod);
    expect(decoded.threshold).toBe(model.threshold);
    expect(decoded.params).toEqual({ contamination: 0.2 });
    const fresh = skewedData(50, 6);
    expect(decoded.score(fresh)).toEqual(model.score(fresh));
    expect(decoded.predict(train)).toEqual(model.predict(train));
    expect(Buffer.from(encodeModel(decoded)).equals(Buffer.from(bytes))).toBe(true);
    expect(Buffer.from(encodeModel(Ecod.fit(train, { contamination: 0.2 }))).equals(Buffer.from(bytes))).toBe(true);
    const [section] = model.toState().sections;
    expect(section.name).toBe('sortedColumns');
    expect(section.data.length).toBe(300 * 4);
  });

  it('writes into a caller-provided buffer and checks its length', () => {
    const model = Ecod.fit(X);
    const expected = model.score(X);
    const out = new Float64Array(X.rows).fill(5);
    expect(model.score(X, out)).toBe(out);
    expect(out).toEqual(expected);
    const labelsOut = new Uint8Array(X.rows);
    model.predict(X, labelsOut);
    for (let i = 0; i < X.rows; i++) expect(labelsOut[i]).toBe(expected[i] > model.threshold ? 1 : 0);
    expect(() => model.predict(X, new Uint8Array(2))).toThrow(/output buffer has length 2 but the data has 1010 rows/);
  });

  it('rejects empty, one-row and non-finite data, and the wrong number of columns', () => {
    expect(() => Ecod.fit(new Matrix(0, 3, new Float64Array(0)))).toThrow(/ecod: cannot fit on a dataset with 0 rows/);
    expect(() => Ecod.fit(new Matrix(1, 3, Float64Array.from([1, 2, 3])))).toThrow(DetectorInputError);
    expect(() => Ecod.fit(new Matrix(1, 3, Float64Array.from([1, 2, 3])))).toThrow(/ecod: cannot fit on a dataset with 1 row/);
    expect(() => Ecod.fit(column(1, NaN, 3))).toThrow(/ecod: training data has a non-finite value \(NaN\) at row 1, column 0/);
    const model = Ecod.fit(X);
    expect(() => model.score(new Matrix(1, 4, Float64Array.from([0, -Infinity, 0, 0])))).toThrow(
      /ecod: data has a non-finite value \(-Infinity\) at row 0, column 1/,
    );
    expect(() => model.score(column(1))).toThrow('ecod: model was fitted on 4 columns but the data has 1');
  });

  it('names a bad option', () => {
    expect(() => Ecod.fit(X, { contamination: 0.55 })).toThrow('ecod: option "contamination" must be a number in (0, 0.5]; got 0.55');
    try {
      Ecod.fit(X, { nJobs: 2 } as unknown as EcodOptions);
      throw new Error('expected an option error');
    } catch (error) {
      expect(error).toBeInstanceOf(DetectorOptionError);
      expect((error as DetectorOptionError).option).toBe('nJobs');
      expect((error as Error).message).toBe('ecod: unknown option "nJobs". Allowed options: contamination');
    }
  });

  it('rejects a crafted model state', () => {
    const state = Ecod.fit(column(1, 2, 3, 4)).toState();
    const withSorted = (data: Float64Array, nFeatures = 1): DetectorState => ({
      ...state,
      nFeatures,
      sections: [{ name: 'sortedColumns', data }],
    });
    expect(() => Ecod.fromState(withSorted(Float64Array.from([1, 3, 2, 4])))).toThrow(/ecod: invalid model state: column 0 is not sorted/);
    expect(() => Ecod.fromState(withSorted(Float64Array.from([1, 2, NaN, 4])))).toThrow(/column 0 has a non-finite value/);
    expect(() => Ecod.fromState(withSorted(Float64Array.from([1, 2, 3]), 2))).toThrow(/not a multiple of 2 columns/);
    expect(() => Ecod.fromState(withSorted(Float64Array.from([1])))).toThrow(/holds 1 training rows/);
    expect(() => Ecod.fromState({ ...state, sections: [] })).toThrow(/model state has no "sortedColumns" section/);
    expect(() => Ecod.fromState({ ...state, algorithm: 'copod' })).toThrow(/cannot load a model of algorithm "copod"/);
  });
});
