import { decodeModel, encodeModel } from '../../../src/scoring/codec';
import { DetectorInputError, DetectorOptionError, DetectorState } from '../../../src/scoring/detector';
import { LOF } from '../../../src/scoring/lof';
import { Matrix } from '../../../src/scoring/matrix';
import { rocAuc } from '../../../src/scoring/metrics';
import { SeededRandom } from '../../../src/scoring/random';
import { fitDetector, supportedAlgorithms } from '../../../src/scoring/registry';
import { thresholdFromContamination } from '../../../src/scoring/threshold';
import { clusterWithOutliers } from './syntheticData';

function column(values: number[]): Matrix {
  return new Matrix(values.length, 1, Float64Array.from(values));
}

function gaussianish(rows: number, cols: number, seed: number): Matrix {
  const rng = new SeededRandom(seed);
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.next() + rng.next() + rng.next() - 1.5;
  return new Matrix(rows, cols, data);
}

function section(model: LOF, name: string): Float64Array {
  const found = model.toState().sections.find((s) => s.name === name);
  if (!found) throw new Error(`no section ${name}`);
  return found.data as Float64Array;
}

function bytesOf(a: Float64Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * scikit-learn's LocalOutlierFactor written out plainly over a full distance matrix: neighbours
 * by a stable sort (ties to the lower index), training rows leaving themselves out.
 */
function referenceLof(train: Matrix, query: Matrix, k: number): { trainScores: number[]; scores: number[]; kDistance: number[]; lrd: number[] } {
  const dist = (A: Matrix, i: number, j: number): number => {
    let d2 = 0;
    for (let c = 0; c < A.cols; c++) {
      const e = A.data[i * A.cols + c] - train.data[j * train.cols + c];
      d2 += e * e;
    }
    return Math.sqrt(d2);
  };
  const neighbours = (A: Matrix, i: number, self: boolean): { j: number; d: number }[] =>
    Array.from({ length: train.rows }, (_, j) => ({ j, d: dist(A, i, j) }))
      .filter((n) => !(self && n.j === i))
      .sort((a, b) => a.d - b.d || a.j - b.j)
      .slice(0, k);
  const own = Array.from({ length: train.rows }, (_, i) => neighbours(train, i, true));
  const kDistance = own.map((list) => list[k - 1].d);
  const lrdOf = (list: { j: number; d: number }[]): number =>
    1 / (list.reduce((s, n) => s + Math.max(n.d, kDistance[n.j]), 0) / k + 1e-10);
  const lrd = own.map(lrdOf);
  const lofOf = (list: { j: number; d: number }[]): number => {
    const mine = lrdOf(list);
    return list.reduce((s, n) => s + lrd[n.j] / mine, 0) / k;
  };
  return {
    trainScores: own.map(lofOf),
    scores: Array.from({ length: query.rows }, (_, i) => lofOf(neighbours(query, i, false))),
    kDistance,
    lrd,
  };
}

describe('LOF', () => {
  // 0, 1, 2, 10 with k = 2 (training points leave themselves out):
  //   neighbours 0 → 1, 2   1 → 0, 2   2 → 1, 0   10 → 2, 1
  //   k-distance 2, 1, 2, 9
  //   lrd(0) = 1 / mean(max(1, 1), max(2, 2)) = 2/3     lrd(1) = 1 / mean(max(1, 2), max(1, 2)) = 1/2
  //   lrd(2) = 1 / mean(max(1, 1), max(2, 2)) = 2/3     lrd(10) = 1 / mean(max(8, 2), max(9, 1)) = 2/17
  //   LOF(0) = mean(1/2, 2/3) / (2/3) = 7/8    LOF(1) = mean(2/3, 2/3) / (1/2) = 4/3
  //   LOF(2) = 7/8                             LOF(10) = mean(2/3, 1/2) / (2/17) = 119/24
  const line = column([0, 1, 2, 10]);
  const lrdLine = [2 / 3, 1 / 2, 2 / 3, 2 / 17];

  it('stores the hand-worked k-distances and reachability densities', () => {
    const model = LOF.fit(line, { nNeighbors: 2 });
    expect(Array.from(section(model, 'kDistance'))).toEqual([2, 1, 2, 9]);
    // 1 / (mean reach + 1e-10): equal to the exact values to ~1e-10 relative.
    section(model, 'lrd').forEach((v, i) => expect(v).toBeCloseTo(lrdLine[i], 9));
    expect(Array.from(section(model, 'train'))).toEqual([0, 1, 2, 10]);
  });

  it('gives the hand-worked training LOFs (through the threshold)', () => {
    // Training scores 7/8, 4/3, 7/8, 119/24; sorted: 7/8, 7/8, 4/3, 119/24.
    // contamination 0.5 → halfway between 7/8 and 4/3; 0.25 → a quarter of the way from 4/3 to 119/24.
    expect(LOF.fit(line, { nNeighbors: 2, contamination: 0.5 }).threshold).toBeCloseTo((7 / 8 + 4 / 3) / 2, 8);
    expect(LOF.fit(line, { nNeighbors: 2, contamination: 0.25 }).threshold).toBeCloseTo(4 / 3 + 0.25 * (119 / 24 - 4 / 3), 8);
  });

  it('scores new points as scikit-learn novelty scoring does, a training point counting itself', () => {
    // 5 → 2 (3), 1 (4): reach max(3, 2), max(4, 1) → lrd 2/7; LOF = mean(2/3, 1/2) / (2/7) = 49/24.
    // 0 → 0 (0), 1 (1): reach max(0, 2), max(1, 1) → lrd 2/3; LOF = mean(2/3, 1/2) / (2/3) = 7/8.
    // 10 → 10 (0), 2 (8): reach max(0, 9), max(8, 2) → lrd 2/17; LOF = mean(2/17, 2/3) / (2/17) = 10/3,
    //   not its training LOF 119/24: as a new point it has itself as its nearest neighbour.
    const scores = LOF.fit(line, { nNeighbors: 2 }).score(column([5, 0, 10]));
    [49 / 24, 7 / 8, 10 / 3].forEach((v, i) => expect(scores[i]).toBeCloseTo(v, 8));
  });

  it('matches a plain scikit-learn-style reference on random data', () => {
    const train = gaussianish(400, 4, 1);
    const query = gaussianish(1500, 4, 2); // two scoring blocks
    const model = LOF.fit(train, { nNeighbors: 7, contamination: 0.08 });
    const ref = referenceLof(train, query, 7);
    expect(Array.from(section(model, 'kDistance'))).toEqual(ref.kDistance);
    expect(Array.from(section(model, 'lrd'))).toEqual(ref.lrd);
    expect(Array.from(model.score(query))).toEqual(ref.scores);
    expect(model.threshold).toBe(thresholdFromContamination(Float64Array.from(ref.trainScores), 0.08));
  });

  it('flags about `contamination` of fresh rows from the training distribution', () => {
    const model = LOF.fit(gaussianish(2000, 3, 5), { contamination: 0.1 });
    const fresh = gaussianish(3000, 3, 6);
    const flagged = model.predict(fresh).reduce((s, v) => s + v, 0) / fresh.rows;
    expect(flagged).toBeGreaterThan(0.07);
    expect(flagged).toBeLessThan(0.13);
  });

  it('scores far outliers above every inlier; inliers near 1', () => {
    const { X, labels } = clusterWithOutliers(1000, 10, 4, 7);
    const model = LOF.fit(X);
    const scores = model.score(X);
    expect(rocAuc(labels, scores)).toBe(1);
    let inlierSum = 0;
    for (let i = 0; i < 1000; i++) inlierSum += scores[i];
    expect(inlierSum / 1000).toBeGreaterThan(0.9);
    expect(inlierSum / 1000).toBeLessThan(1.1);
    const predicted = model.predict(X);
    for (let i = 1000; i < 1010; i++) expect(predicted[i]).toBe(1);
    for (let i = 0; i < X.rows; i++) expect(predicted[i]).toBe(scores[i] > model.threshold ? 1 : 0);
  });

  it('keeps duplicates finite, as scikit-learn does with its 1e-10', () => {
    // All rows identical: k-distance 0, lrd 1e10, every training LOF 1.
    const same = LOF.fit(new Matrix(30, 2, new Float64Array(60).fill(4)), { nNeighbors: 5 });
    expect(same.threshold).toBe(1);
    expect(Array.from(section(same, 'lrd'))).toEqual(new Array(30).fill(1e10));
    const scores = same.score(new Matrix(2, 2, Float64Array.from([4, 4, 7, 8])));
    expect(scores[0]).toBe(1);
    // A point at distance 5 from a region of density 1e10: LOF = 1e10 × (5 + 1e-10), finite.
    expect(scores[1]).toBeCloseTo(5e10, -1);
    expect(Number.isFinite(scores[1])).toBe(true);
  });

  it('ignores a constant column', () => {
    const X = gaussianish(150, 2, 3);
    const widened = new Float64Array(450);
    for (let r = 0; r < 150; r++) widened.set([-2, X.data[2 * r], X.data[2 * r + 1]], 3 * r);
    const plain = LOF.fit(X, { nNeighbors: 10 });
    const withConstant = LOF.fit(new Matrix(150, 3, widened), { nNeighbors: 10 });
    expect(withConstant.threshold).toBe(plain.threshold);
    expect(bytesOf(withConstant.score(new Matrix(150, 3, widened))).equals(bytesOf(plain.score(X)))).toBe(true);
  });

  it('keeps at most maxTrainRows rows with their k-distance and lrd', () => {
    const X = gaussianish(2500, 2, 4);
    const model = LOF.fit(X, { maxTrainRows: 300, seed: 8 });
    expect(model.nTrainRows).toBe(300);
    expect(section(model, 'kDistance').length).toBe(300);
    expect(section(model, 'lrd').length).toBe(300);
    expect(model.params).toEqual({ nNeighbors: 20, contamination: 0.1, maxTrainRows: 300, seed: 8 });
    expect(Buffer.from(encodeModel(LOF.fit(X, { maxTrainRows: 300, seed: 8 }))).equals(Buffer.from(encodeModel(model)))).toBe(true);
    expect(bytesOf(section(LOF.fit(X, { maxTrainRows: 300, seed: 9 }), 'train')).equals(bytesOf(section(model, 'train')))).toBe(false);
  });

  it('is registered and round-trips through the model codec', () => {
    expect(supportedAlgorithms()).toContain('lof');
    const { X } = clusterWithOutliers(500, 8, 3, 4);
    const model = fitDetector('lof', X, { nNeighbors: 15, contamination: 0.05 });
    expect(model).toBeInstanceOf(LOF);
    const bytes = encodeModel(model);
    const decoded = decodeModel(bytes);
    expect(decoded).toBeInstanceOf(LOF);
    expect(decoded.algorithm).toBe('lof');
    expect(decoded.threshold).toBe(model.threshold);
    expect(decoded.params).toEqual(model.params);
    expect(bytesOf(decoded.score(X)).equals(bytesOf(model.score(X)))).toBe(true);
    expect(decoded.predict(X)).toEqual(model.predict(X));
    expect(Buffer.from(encodeModel(decoded)).equals(Buffer.from(bytes))).toBe(true);
    expect(model.toState().sections.map((s) => s.name)).toEqual(['train', 'kDistance', 'lrd']);
  });

  it('rejects a malformed model state', () => {
    const model = LOF.fit(gaussianish(30, 2, 1), { nNeighbors: 4 });
    const state = model.toState();
    const replace = (name: string, data: Float64Array): DetectorState => ({
      ...state,
      sections: state.sections.map((s) => (s.name === name ? { name, data } : s)),
    });
    expect(() => LOF.fromState({ ...state, algorithm: 'knn' })).toThrow('lof: cannot load a model of algorithm "knn"');
    expect(() => LOF.fromState(replace('lrd', new Float64Array(29).fill(1)))).toThrow(
      'lof: invalid model state: "kDistance" and "lrd" must hold one value per training row (30); got 30 and 29',
    );
    expect(() => LOF.fromState(replace('lrd', new Float64Array(30)))).toThrow('lof: invalid model state: lrd 0 is 0');
    expect(() => LOF.fromState(replace('kDistance', new Float64Array(30).fill(-1)))).toThrow('lof: invalid model state: kDistance 0 is -1');
    expect(() => LOF.fromState(replace('train', new Float64Array(8)))).toThrow(/4 training rows cannot give 4 neighbours/);
    expect(() => LOF.fromState({ ...state, sections: state.sections.slice(0, 2) })).toThrow('lof: model state has no "lrd" section');
    expect(() => LOF.fromState({ ...state, threshold: NaN })).toThrow(/threshold is NaN/);
  });

  it('names bad options, and refuses fewer rows than nNeighbors + 1 (default 20)', () => {
    const X = gaussianish(20, 2, 1);
    expect(() => LOF.fit(X, { k: 3 } as never)).toThrow('lof: unknown option "k". Allowed options: nNeighbors, contamination, maxTrainRows, seed, index');
    expect(() => LOF.fit(X, { nNeighbors: 20.5 })).toThrow('lof: option "nNeighbors" must be an integer in [1, 10000]; got 20.5');
    expect(() => LOF.fit(X, { contamination: 0 })).toThrow('lof: option "contamination" must be a number in (0, 0.5]; got 0');
    let caught: unknown;
    try {
      LOF.fit(X);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DetectorOptionError);
    expect((caught as DetectorOptionError).option).toBe('nNeighbors');
    expect((caught as Error).message).toMatch(/^lof: option "nNeighbors" \(20\) must be less than the number of training rows \(20\)/);
    expect(LOF.fit(gaussianish(21, 2, 1)).nTrainRows).toBe(21);
    expect(LOF.fit(X, { nNeighbors: 19 }).nTrainRows).toBe(20);
  });

  it('rejects data it cannot use', () => {
    const X = gaussianish(40, 3, 1);
    expect(() => LOF.fit(Matrix.zeros(0, 3))).toThrow('lof: cannot fit on a dataset with 0 rows');
    for (const bad of [NaN, Infinity, -Infinity]) {
      const data = X.data.slice();
      data[3 * 5 + 1] = bad;
      expect(() => LOF.fit(new Matrix(40, 3, data))).toThrow(`lof: training data has a non-finite value (${bad}) at row 5, column 1`);
      expect(() => LOF.fit(X).score(new Matrix(40, 3, data))).toThrow(DetectorInputError);
    }
    const model = LOF.fit(X);
    expect(() => model.score(gaussianish(4, 4, 1))).toThrow('lof: model was fitted on 3 columns but the data has 4');
    expect(() => model.predict(gaussianish(4, 4, 1), new Uint8Array(4))).toThrow(/fitted on 3 columns/);
    expect(() => LOF.fit(new Matrix(40, 3, X.data.map((v) => v * 1e160)))).toThrow(/lof: training row \d+ got a non-finite score/);
  });
});
