import { decodeModel, encodeModel } from '../../../src/scoring/codec';
import { DetectorInputError, DetectorOptionError, DetectorState } from '../../../src/scoring/detector';
import { Hbos, HbosOptions } from '../../../src/scoring/hbos';
import { Matrix } from '../../../src/scoring/matrix';
import { rocAuc } from '../../../src/scoring/metrics';
import { fitDetector, supportedAlgorithms } from '../../../src/scoring/registry';
import { thresholdFromContamination } from '../../../src/scoring/threshold';
import { clusterWithOutliers } from './syntheticData';

const s = (density: number, alpha = 0.1): number => -Math.log2(density + alpha);

/** Rows of [a, b] pairs as a 2-column matrix. */
function pairs(...rows: [number, number][]): Matrix {
  return new Matrix(rows.length, 2, Float64Array.from(rows.flat()));
}

describe('Hbos', () => {
  const { X, labels } = clusterWithOutliers(1000, 10, 4, 7);

  // Column 0: 0, 0, 0, 1, 4 → with 4 bins the edges are 0, 1, 2, 3, 4 and np.histogram counts
  // [0,1): 3, [1,2): 1, [2,3): 0, [3,4]: 1, so the densities are 0.6, 0.2, 0, 0.2.
  // Column 1 is constant (7) and contributes 0 to every score.
  const train = pairs([0, 7], [0, 7], [0, 7], [1, 7], [4, 7]);

  it('stores np.histogram edges and densities, a constant column as all-equal edges and zero densities', () => {
    const model = Hbos.fit(train, { nBins: 4 });
    const [edges, density] = model.toState().sections;
    expect(edges.name).toBe('edges');
    expect(Array.from(edges.data)).toEqual([0, 1, 2, 3, 4, 7, 7, 7, 7, 7]);
    expect(density.name).toBe('density');
    expect(Array.from(density.data)).toEqual([0.6, 0.2, 0, 0.2, 0, 0, 0, 0]);
  });

  it('scores each feature -log2(density + alpha) with PyOD’s np.digitize(right=True) bins', () => {
    const model = Hbos.fit(train, { nBins: 4 });
    // 1 lies on the inner edge 1: np.histogram counted it in [1,2), but PyOD scores it with the
    // bin below, (0,1]. 4 is the max and falls in the last bin.
    expect(Array.from(model.score(train))).toEqual([s(0.6), s(0.6), s(0.6), s(0.6), s(0.2)]);
    const scores = model.score(
      pairs(
        [2.5, 7], // bin [2,3): empty
        [1.5, 7], // bin 1
        [2, 100], // on edge 2 → bin (1,2]; the constant column ignores 100
        [3, -5], // on edge 3 → bin (2,3]: empty
        [-0.5, 7], // 0.5 left of the range: within tol·width = 0.5 → first bin
        [-0.51, 7], // beyond tol → the worst bin score
        [4.5, 7], // 0.5 right of the range → last bin
        [4.51, 7], // beyond tol → the worst bin score
      ),
    );
    expect(Array.from(scores)).toEqual([s(0), s(0.2), s(0.2), s(0), s(0.6), s(0), s(0.2), s(0)]);
  });

  it('applies alpha and tol', () => {
    const model = Hbos.fit(train, { nBins: 4, alpha: 0.5, tol: 0.2 });
    // Reach 0.2: exactly 0.2 left of the range still counts (<=), 0.25 does not. (4.2 - 4 rounds above 0.2.)
    const scores = model.score(pairs([0, 7], [-0.2, 7], [-0.25, 7], [4.1, 7], [4.25, 7]));
    expect(Array.from(scores)).toEqual([s(0.6, 0.5), s(0.6, 0.5), s(0, 0.5), s(0.2, 0.5), s(0, 0.5)]);
  });

  it('sets the threshold at the (1 - contamination) percentile of the training scores', () => {
    const model = Hbos.fit(train, { nBins: 4 });
    // Sorted training scores a, a, a, a, b: the 90th percentile is at position 3.6.
    expect(model.threshold).toBeCloseTo(s(0.6) + 0.6 * (s(0.2) - s(0.6)), 14);
    expect(Array.from(model.predict(train))).toEqual([0, 0, 0, 0, 1]);
  });

  it('uses PyOD’s defaults', () => {
    expect(Hbos.fit(X).params).toEqual({ nBins: 10, alpha: 0.1, tol: 0.5, contamination: 0.1 });
    expect(Hbos.fit(X).toState().sections[0].data.length).toBe(4 * 11);
    expect(supportedAlgorithms()).toContain('hbos');
    expect(fitDetector('hbos', X)).toBeInstanceOf(Hbos);
  });

  it('scores far outliers above every inlier', () => {
    const model = Hbos.fit(X);
    const scores = model.score(X);
    expect(rocAuc(labels, scores)).toBe(1);
    const predicted = model.predict(X);
    for (let i = 1000; i < 1010; i++) expect(predicted[i]).toBe(1);
    // New points far outside the training range get the worst score on every feature.
    const far = model.score(new Matrix(1, 4, Float64Array.from([50, -50, 50, -50])));
    let maxTrain = -Infinity;
    for (const v of scores) maxTrain = Math.max(maxTrain, v);
    expect(far[0]).toBeGreaterThan(maxTrain);
  });

  it('flags about `contamination` of the training rows', () => {
    for (const contamination of [0.05, 0.1, 0.25]) {
      const model = Hbos.fit(X, { contamination, nBins: 25 });
      expect(model.threshold).toBe(thresholdFromContamination(model.score(X), contamination));
      const flagged = model.predict(X).reduce((sum, v) => sum + v, 0);
      expect(flagged).toBeLessThanOrEqual(Math.ceil(contamination * X.rows));
      // Histogram scores tie within a bin, so strictly-above can flag fewer.
      expect(flagged).toBeGreaterThanOrEqual(Math.floor(contamination * X.rows * 0.5));
    }
  });

  it('round-trips through the model codec with identical scores and bytes', () => {
    const model = Hbos.fit(X, { nBins: 12, alpha: 0.05, contamination: 0.05 });
    const bytes = encodeModel(model);
    const decoded = decodeModel(bytes);
    expect(decoded).toBeInstanceOf(Hbos);
    expect(decoded.params).toEqual(model.params);
    expect(decoded.threshold).toBe(model.threshold);
    expect(decoded.score(X)).toEqual(model.score(X));
    expect(decoded.predict(X)).toEqual(model.predict(X));
    expect(Buffer.from(encodeModel(decoded)).equals(Buffer.from(bytes))).toBe(true);
    expect(Buffer.from(encodeModel(Hbos.fit(X, { nBins: 12, alpha: 0.05, contamination: 0.05 }))).equals(Buffer.from(bytes))).toBe(true);
  });

  it('writes into a caller-provided buffer, scores slices consistently and checks lengths', () => {
    const model = Hbos.fit(X);
    const expected = model.score(X);
    const out = new Float64Array(X.rows).fill(123);
    expect(model.score(X, out)).toBe(out);
    expect(out).toEqual(expected);
    const part = new Float64Array(10);
    model.score(X.sliceRows(995, 1005), part);
    expect(part).toEqual(expected.subarray(995, 1005));
    const labelsOut = new Uint8Array(X.rows).fill(7);
    expect(model.predict(X, labelsOut)).toBe(labelsOut);
    for (let i = 0; i < X.rows; i++) expect(labelsOut[i]).toBe(expected[i] > model.threshold ? 1 : 0);
    expect(() => model.score(X, new Float64Array(3))).toThrow(/output buffer has length 3 but the data has 1010 rows/);
  });

  it('rejects empty, one-row and non-finite data, and the wrong number of columns', () => {
    expect(() => Hbos.fit(new Matrix(0, 2, new Float64Array(0)))).toThrow(/hbos: cannot fit on a dataset with 0 rows/);
    expect(() => Hbos.fit(new Matrix(1, 2, Float64Array.from([1, 2])))).toThrow(DetectorInputError);
    expect(() => Hbos.fit(new Matrix(1, 2, Float64Array.from([1, 2])))).toThrow(/hbos: cannot fit on a dataset with 1 row/);
    const nan = Float64Array.from([1, 2, 3, NaN]);
    expect(() => Hbos.fit(new Matrix(2, 2, nan))).toThrow(/hbos: training data has a non-finite value \(NaN\) at row 1, column 1/);
    expect(() => Hbos.fit(pairs([-Infinity, 0], [1, 1]))).toThrow(/non-finite value \(-Infinity\) at row 0, column 0/);
    const model = Hbos.fit(X);
    expect(() => model.score(new Matrix(1, 4, Float64Array.from([0, 0, Infinity, 0])))).toThrow(
      /hbos: data has a non-finite value \(Infinity\) at row 0, column 2/,
    );
    expect(() => model.score(pairs([1, 2]))).toThrow('hbos: model was fitted on 4 columns but the data has 2');
    expect(() => model.predict(pairs([1, 2]))).toThrow(DetectorInputError);
    expect(() => Hbos.fit(pairs([-1e308, 0], [1e308, 1]))).toThrow(/column 0 spans .* a range too wide/);
  });

  it('gives every row 0 when all columns are constant', () => {
    const model = Hbos.fit(new Matrix(3, 2, new Float64Array(6).fill(4)));
    expect(Array.from(model.score(pairs([4, 4], [5, -3])))).toEqual([0, 0]);
    expect(model.threshold).toBe(0);
    expect(Array.from(model.predict(pairs([4, 4], [9, 9])))).toEqual([0, 0]);
  });

  it('names a bad option with its value and range', () => {
    const named = (options: unknown, option: string, message: RegExp) => {
      try {
        Hbos.fit(X, options as HbosOptions);
      } catch (error) {
        expect(error).toBeInstanceOf(DetectorOptionError);
        expect((error as DetectorOptionError).option).toBe(option);
        expect((error as Error).message).toMatch(message);
        return;
      }
      throw new Error(`expected ${JSON.stringify(options)} to be rejected`);
    };
    named({ bins: 10 }, 'bins', /hbos: unknown option "bins". Allowed options: nBins, alpha, tol, contamination/);
    named({ nBins: 1 }, 'nBins', /option "nBins" must be an integer in \[2, 65536\]; got 1/);
    named({ nBins: 2.5 }, 'nBins', /got 2.5/);
    named({ alpha: 0 }, 'alpha', /option "alpha" must be a number in \(0, 1\); got 0/);
    named({ alpha: 1 }, 'alpha', /got 1$/);
    named({ tol: 1.5 }, 'tol', /option "tol" must be a number in \(0, 1\); got 1.5/);
    named({ contamination: 0.6 }, 'contamination', /option "contamination" must be a number in \(0, 0.5\]; got 0.6/);
    expect(() => fitDetector('hbos', X, { nBins: 'auto' })).toThrow(/"nBins" must be an integer .* got string "auto"/);
  });

  it('rejects a crafted model state that would score NaN or read out of bounds', () => {
    const state = Hbos.fit(train, { nBins: 4 }).toState();
    const withSections = (edges: Float64Array, density: Float64Array): DetectorState => ({
      ...state,
      sections: [
        { name: 'edges', data: edges },
        { name: 'density', data: density },
      ],
    });
    const [edges, density] = state.sections.map((section) => section.data as Float64Array);
    expect(() => Hbos.fromState(withSections(edges.slice(0, 9), density))).toThrow(/expected 10 bin edges, got 9/);
    const badDensity = density.slice();
    badDensity[1] = NaN;
    expect(() => Hbos.fromState(withSections(edges, badDensity))).toThrow(/feature 0 has an invalid density NaN/);
    const badEdges = edges.slice();
    badEdges[2] = 5;
    expect(() => Hbos.fromState(withSections(badEdges, density))).toThrow(/feature 0 has decreasing bin edges/);
    expect(() => Hbos.fromState({ ...state, algorithm: 'ecod' })).toThrow(/cannot load a model of algorithm "ecod"/);
    expect(Hbos.fromState(state).score(train)).toEqual(Hbos.fit(train, { nBins: 4 }).score(train));
  });
});
