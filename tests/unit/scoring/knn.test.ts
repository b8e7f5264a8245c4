import { decodeModel, encodeModel } from '../../../src/scoring/codec';
import { DetectorInputError, DetectorOptionError, DetectorState } from '../../../src/scoring/detector';
import { KNN, KNN_ALGORITHMS, KnnMethod } from '../../../src/scoring/knn';
import { Matrix } from '../../../src/scoring/matrix';
import { rocAuc } from '../../../src/scoring/metrics';
import { SeededRandom } from '../../../src/scoring/random';
import { fitDetector, supportedAlgorithms } from '../../../src/scoring/registry';
import { thresholdFromContamination } from '../../../src/scoring/threshold';
import { clusterWithOutliers } from './syntheticData';

const METHODS: KnnMethod[] = ['largest', 'mean', 'median'];

function column(values: number[]): Matrix {
  return new Matrix(values.length, 1, Float64Array.from(values));
}

function gaussianish(rows: number, cols: number, seed: number): Matrix {
  const rng = new SeededRandom(seed);
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.next() + rng.next() + rng.next() - 1.5;
  return new Matrix(rows, cols, data);
}

/** Sorted distances from `row` of Q to every row of T except `skip`. */
function sortedDistances(T: Matrix, Q: Matrix, row: number, skip = -1): number[] {
  const out: number[] = [];
  for (let j = 0; j < T.rows; j++) {
    if (j === skip) continue;
    let d2 = 0;
    for (let c = 0; c < T.cols; c++) d2 += (Q.data[row * Q.cols + c] - T.data[j * T.cols + c]) ** 2;
    out.push(Math.sqrt(d2));
  }
  return out.sort((a, b) => a - b);
}

function referenceScore(method: KnnMethod, sorted: number[], k: number): number {
  const top = sorted.slice(0, k);
  if (method === 'largest') return top[k - 1];
  if (method === 'mean') return top.reduce((s, v) => s + v, 0) / k;
  return k % 2 ? top[(k - 1) / 2] : (top[k / 2 - 1] + top[k / 2]) / 2;
}

function bytesOf(a: Float64Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

describe('KNN', () => {
  // 0, 1, 3, 6, 10 with k = 3; each training point's neighbours leave itself out:
  //   0 → 1, 3, 6      1 → 1, 2, 5      3 → 2, 3, 3      6 → 3, 4, 5      10 → 4, 7, 9
  const line = column([0, 1, 3, 6, 10]);

  it('gives the hand-worked training scores (through the threshold) for each method', () => {
    // Training scores: largest [6, 5, 3, 5, 9], mean [10/3, 8/3, 8/3, 4, 20/3], median [3, 2, 3, 4, 7].
    // contamination 0.5 → their median; 0.2 → the 80th percentile, between the 4th and 5th values.
    const expected: Record<KnnMethod, [number, number]> = {
      largest: [5, 6 + 0.2 * 3],
      mean: [10 / 3, 4 + 0.2 * (20 / 3 - 4)],
      median: [3, 4 + 0.2 * 3],
    };
    for (const method of METHODS) {
      const [half, fifth] = expected[method];
      expect(KNN.fit(line, { nNeighbors: 3, contamination: 0.5 }, method).threshold).toBeCloseTo(half, 12);
      expect(KNN.fit(line, { nNeighbors: 3, contamination: 0.2 }, method).threshold).toBeCloseTo(fifth, 12);
    }
  });

  it('gives the hand-worked scores of new points, counting a training point itself at distance 0', () => {
    // 20 → 10, 14, 17;   0 → 0, 1, 3;   4.5 → 1.5 (3), 1.5 (6), 3.5 (1)
    const query = column([20, 0, 4.5]);
    const expected: Record<KnnMethod, number[]> = {
      largest: [17, 3, 3.5],
      mean: [41 / 3, 4 / 3, 6.5 / 3],
      median: [14, 1, 1.5],
    };
    for (const method of METHODS) {
      const scores = KNN.fit(line, { nNeighbors: 3 }, method).score(query);
      expected[method].forEach((value, i) => expect(scores[i]).toBeCloseTo(value, 12));
    }
    // An even k takes the mean of the two middle distances, like numpy's median.
    expect(KNN.fit(line, { nNeighbors: 2 }, 'median').score(column([20]))[0]).toBe(12);
  });

  it('matches a brute-force reference on random data, over several scoring blocks', () => {
    const train = gaussianish(700, 6, 1);
    const query = gaussianish(2100, 6, 2); // 3 blocks of 1024 rows, the last partial
    for (const method of METHODS) {
      const model = KNN.fit(train, { nNeighbors: 4, contamination: 0.07 }, method);
      const scores = model.score(query);
      for (let i = 0; i < query.rows; i += 97) expect(scores[i]).toBe(referenceScore(method, sortedDistances(train, query, i), 4));
      expect(scores[query.rows - 1]).toBe(referenceScore(method, sortedDistances(train, query, query.rows - 1), 4));
      // The threshold is the contamination percentile of the self-excluded training scores.
      const trainScores = Float64Array.from({ length: train.rows }, (_, i) =>
        referenceScore(method, sortedDistances(train, train, i, i), 4),
      );
      expect(model.threshold).toBe(thresholdFromContamination(trainScores, 0.07));
    }
  });

  it('flags about `contamination` of fresh rows from the training distribution', () => {
    const train = gaussianish(2000, 3, 5);
    const fresh = gaussianish(3000, 3, 6);
    for (const method of METHODS) {
      const model = KNN.fit(train, { contamination: 0.1 }, method);
      const flagged = model.predict(fresh).reduce((s, v) => s + v, 0) / fresh.rows;
      expect(flagged).toBeGreaterThan(0.07);
      expect(flagged).toBeLessThan(0.13);
    }
  });

  it('scores far outliers above every inlier', () => {
    const { X, labels } = clusterWithOutliers(1000, 10, 4, 7);
    for (const method of METHODS) {
      const model = KNN.fit(X, undefined, method);
      const scores = model.score(X);
      expect(rocAuc(labels, scores)).toBe(1);
      const predicted = model.predict(X);
      for (let i = 1000; i < 1010; i++) expect(predicted[i]).toBe(1);
      for (let i = 0; i < X.rows; i++) expect(predicted[i]).toBe(scores[i] > model.threshold ? 1 : 0);
    }
  });

  it('writes into caller buffers and predicts in blocks like score', () => {
    const train = gaussianish(300, 2, 8);
    const query = gaussianish(2500, 2, 9);
    const model = KNN.fit(train, { contamination: 0.2 });
    const out = new Float64Array(2500);
    expect(model.score(query, out)).toBe(out);
    expect(bytesOf(out).equals(bytesOf(model.score(query)))).toBe(true);
    const labels = new Uint8Array(2500);
    expect(model.predict(query, labels)).toBe(labels);
    let flagged = 0;
    for (let i = 0; i < 2500; i++) {
      expect(labels[i]).toBe(out[i] > model.threshold ? 1 : 0);
      flagged += labels[i];
    }
    expect(flagged).toBeGreaterThan(100);
    expect(() => model.score(query, new Float64Array(10))).toThrow('output buffer has length 10 but the data has 2500 rows');
  });

  it('ignores a constant column and handles identical rows', () => {
    const X = gaussianish(200, 2, 3);
    const widened = new Float64Array(600);
    for (let r = 0; r < 200; r++) widened.set([X.data[2 * r], 7, X.data[2 * r + 1]], 3 * r);
    const plain = KNN.fit(X);
    const withConstant = KNN.fit(new Matrix(200, 3, widened));
    expect(withConstant.threshold).toBe(plain.threshold);
    expect(bytesOf(withConstant.score(new Matrix(200, 3, widened))).equals(bytesOf(plain.score(X)))).toBe(true);

    const same = KNN.fit(new Matrix(10, 2, new Float64Array(20).fill(3)));
    expect(same.threshold).toBe(0);
    expect(Array.from(same.score(new Matrix(2, 2, Float64Array.from([3, 3, 6, 7]))))).toEqual([0, 5]);
  });

  it('keeps at most maxTrainRows rows: a seeded uniform sample in row order', () => {
    const X = gaussianish(3000, 2, 4);
    const model = KNN.fit(X, { maxTrainRows: 500, seed: 3 });
    expect(model.nTrainRows).toBe(500);
    const kept = model.toState().sections[0].data;
    expect(kept.length).toBe(1000);
    // Every kept row is a row of X, in increasing position.
    let from = 0;
    for (let r = 0; r < 500; r++) {
      while (from < 3000 && (X.data[2 * from] !== kept[2 * r] || X.data[2 * from + 1] !== kept[2 * r + 1])) from++;
      expect(from).toBeLessThan(3000);
      from++;
    }
    const again = KNN.fit(X, { maxTrainRows: 500, seed: 3 });
    expect(Buffer.from(encodeModel(again)).equals(Buffer.from(encodeModel(model)))).toBe(true);
    const otherSeed = KNN.fit(X, { maxTrainRows: 500, seed: 4 });
    expect(bytesOf(otherSeed.toState().sections[0].data as Float64Array).equals(bytesOf(kept as Float64Array))).toBe(false);
    expect(KNN.fit(X).nTrainRows).toBe(3000);
    expect(model.params).toEqual({ nNeighbors: 5, contamination: 0.1, maxTrainRows: 500, seed: 3 });
  });

  it('is registered under three names and round-trips through the model codec', () => {
    expect(supportedAlgorithms()).toEqual(expect.arrayContaining(['knn', 'knn-mean', 'knn-median']));
    const { X } = clusterWithOutliers(400, 8, 3, 2);
    for (const method of METHODS) {
      const algorithm = KNN_ALGORITHMS[method];
      const model = fitDetector(algorithm, X, { nNeighbors: 7, contamination: 0.05 });
      expect(model).toBeInstanceOf(KNN);
      expect((model as KNN).method).toBe(method);
      expect(model.algorithm).toBe(algorithm);
      const bytes = encodeModel(model);
      const decoded = decodeModel(bytes);
      expect(decoded).toBeInstanceOf(KNN);
      expect(decoded.algorithm).toBe(algorithm);
      expect(decoded.threshold).toBe(model.threshold);
      expect(decoded.params).toEqual(model.params);
      expect(bytesOf(decoded.score(X)).equals(bytesOf(model.score(X)))).toBe(true);
      expect(decoded.predict(X)).toEqual(model.predict(X));
      expect(Buffer.from(encodeModel(decoded)).equals(Buffer.from(bytes))).toBe(true);
      // The same fit encodes to the same bytes.
      expect(Buffer.from(encodeModel(fitDetector(algorithm, X, { nNeighbors: 7, contamination: 0.05 }))).equals(Buffer.from(bytes))).toBe(true);
    }
    const largest = encodeModel(fitDetector('knn', X));
    const mean = encodeModel(fitDetector('knn-mean', X));
    expect(Buffer.from(largest).equals(Buffer.from(mean))).toBe(false);
  });

  it('rejects a malformed model state', () => {
    const model = KNN.fit(gaussianish(20, 2, 1), { nNeighbors: 3 });
    const state = model.toState();
    const withTrain = (data: Float64Array): DetectorState => ({ ...state, sections: [{ name: 'train', data }] });
    expect(() => KNN.fromState({ ...state, algorithm: 'lof' })).toThrow('knn: cannot load a model of algorithm "lof"');
    expect(() => KNN.fromState(withTrain(new Float64Array(39)))).toThrow(
      'knn: invalid model state: the "train" section holds 39 values, not a whole number of 2-column rows',
    );
    expect(() => KNN.fromState(withTrain(new Float64Array(6)))).toThrow(/3 training rows cannot give 3 neighbours/);
    expect(() => KNN.fromState(withTrain(new Float64Array(40).fill(NaN)))).toThrow(/training value 0 is not finite/);
    expect(() => KNN.fromState({ ...state, sections: [] })).toThrow('knn: model state has no "train" section');
    expect(() => KNN.fromState({ ...state, params: { ...state.params, nNeighbors: 0 } })).toThrow(/option "nNeighbors" must be an integer in \[1, 10000\]; got 0/);
    expect(() => KNN.fromState({ ...state, nFeatures: 0 })).toThrow(/nFeatures is 0/);
    expect(KNN.fromState(state).score(gaussianish(5, 2, 2))).toEqual(model.score(gaussianish(5, 2, 2)));
  });

  it('names bad options with their value and range', () => {
    const X = gaussianish(50, 2, 1);
    expect(() => KNN.fit(X, { nNeighbours: 3 } as never)).toThrow(
      'knn: unknown option "nNeighbours". Allowed options: nNeighbors, contamination, maxTrainRows, seed, index',
    );
    expect(() => KNN.fit(X, { nNeighbors: 0 })).toThrow('knn: option "nNeighbors" must be an integer in [1, 10000]; got 0');
    expect(() => KNN.fit(X, { nNeighbors: 2.5 }, 'mean')).toThrow('knn-mean: option "nNeighbors" must be an integer in [1, 10000]; got 2.5');
    expect(() => KNN.fit(X, { contamination: 0.6 })).toThrow('knn: option "contamination" must be a number in (0, 0.5]; got 0.6');
    expect(() => KNN.fit(X, { maxTrainRows: 1 })).toThrow('knn: option "maxTrainRows" must be an integer in [2, 10000000]; got 1');
    expect(() => fitDetector('knn-median', X, { seed: '1' })).toThrow(/knn-median: option "seed" must be an integer in \[0, 4294967295\]; got string "1"/);
    expect(() => KNN.fit(X, { nNeighbors: 10, maxTrainRows: 10 })).toThrow('knn: option "nNeighbors" (10) must be less than option "maxTrainRows" (10)');
  });

  it('refuses fewer training rows than nNeighbors + 1, naming nNeighbors', () => {
    const five = gaussianish(5, 2, 1);
    let caught: unknown;
    try {
      KNN.fit(five);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DetectorOptionError);
    expect((caught as DetectorOptionError).option).toBe('nNeighbors');
    expect((caught as Error).message).toBe(
      'knn: option "nNeighbors" (5) must be less than the number of training rows (5): each training row is scored by its 5 nearest other rows; lower nNeighbors or fit on more rows',
    );
    expect(KNN.fit(gaussianish(6, 2, 1)).nTrainRows).toBe(6);
    expect(KNN.fit(five, { nNeighbors: 4 }).nTrainRows).toBe(5);
  });

  it('rejects data it cannot use', () => {
    const X = gaussianish(50, 3, 1);
    expect(() => KNN.fit(Matrix.zeros(0, 3))).toThrow('knn: cannot fit on a dataset with 0 rows');
    expect(() => KNN.fit(Matrix.zeros(10, 0))).toThrow('knn: cannot fit on a dataset with 0 columns');
    for (const bad of [NaN, Infinity, -Infinity]) {
      const data = X.data.slice();
      data[3 * 17 + 2] = bad;
      expect(() => KNN.fit(new Matrix(50, 3, data))).toThrow(
        `knn: training data has a non-finite value (${bad}) at row 17, column 2; impute or drop missing values before fitting`,
      );
      const model = KNN.fit(X);
      expect(() => model.score(new Matrix(50, 3, data))).toThrow(`knn: data has a non-finite value (${bad}) at row 17, column 2`);
      expect(() => model.predict(new Matrix(50, 3, data))).toThrow(DetectorInputError);
    }
    const model = KNN.fit(X, undefined, 'mean');
    expect(() => model.score(gaussianish(4, 2, 1))).toThrow('knn-mean: model was fitted on 3 columns but the data has 2');
    expect(model.score(Matrix.zeros(0, 3)).length).toBe(0);
    // Values so large that squared distances overflow cannot set a threshold.
    const huge = X.data.map((v) => v * 1e160);
    expect(() => KNN.fit(new Matrix(50, 3, huge))).toThrow(/knn: training row 0 got a non-finite score \(Infinity\): values are too large.*rescale/);
  });
});
