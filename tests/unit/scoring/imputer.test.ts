import { decodeModel, encodeModel } from '../../../src/scoring/codec';
import { DetectorInputError, DetectorOptionError } from '../../../src/scoring/detector';
import { checkNoMissing, Imputed, Imputer } from '../../../src/scoring/imputer';
import { Matrix } from '../../../src/scoring/matrix';
import { featureQuantilesOf, QUANTILE_STEPS } from '../../../src/scoring/modelFile';
import { fitDetector, fitPipeline } from '../../../src/scoring/registry';
import { clusterWithOutliers } from './syntheticData';

function sameBits(a: Float64Array, b: Float64Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** A cluster with outliers, and every `every`-th cell of columns 0 and 2 missing. */
function withMissing(every: number, seed = 3): { X: Matrix; labels: Uint8Array } {
  const { X, labels } = clusterWithOutliers(400, 8, 4, seed);
  const data = X.data.slice();
  for (let r = 0; r < X.rows; r += every) {
    data[r * 4] = NaN;
    data[((r + 1) % X.rows) * 4 + 2] = NaN;
  }
  return { X: new Matrix(X.rows, 4, data), labels };
}

describe('Imputer', () => {
  it('fills the median of the values present (numpy: the mean of the middle two for an even count) and adds an indicator per column with a missing value', () => {
    const X = new Matrix(5, 3, Float64Array.from([1, 10, 7, NaN, 20, 7, 3, NaN, 7, 8, 40, 7, 2, 30, 7]));
    const imputer = Imputer.fit(X, 'median');
    expect(Array.from(imputer.fill)).toEqual([2.5, 25, 7]);
    expect(Array.from(imputer.indicators)).toEqual([0, 1]);
    expect(Array.from(imputer.transform(X).data)).toEqual([1, 10, 7, 0, 0, 2.5, 20, 7, 1, 0, 3, 25, 7, 0, 1, 8, 40, 7, 0, 0, 2, 30, 7, 0, 0]);
  });

  it('an all-missing column is filled with 0, and the indicator comes from missingSeen too', () => {
    const X = new Matrix(3, 2, Float64Array.from([NaN, 1, NaN, 2, NaN, 3]));
    const imputer = Imputer.fit(X, 'median', [0, 5]);
    expect(Array.from(imputer.fill)).toEqual([0, 2]);
    expect(Array.from(imputer.indicators)).toEqual([0, 1]);
    expect(Array.from(imputer.transform(new Matrix(1, 2, Float64Array.from([4, NaN]))).data)).toEqual([4, 2, 0, 1]);
  });

  it('"zero" fills 0 and adds no indicator', () => {
    const X = new Matrix(2, 2, Float64Array.from([NaN, 5, 3, NaN]));
    const imputer = Imputer.fit(X, 'zero');
    expect(imputer.nOutputs).toBe(2);
    expect(Array.from(imputer.transform(X).data)).toEqual([0, 5, 3, 0]);
  });

  it('refuses a damaged stored imputer', () => {
    expect(() => Imputer.fromArrays('median', Float64Array.from([1, NaN]), new Int32Array(0))).toThrow(/fill value of column 1 is NaN/);
    expect(() => Imputer.fromArrays('median', Float64Array.from([1, 2]), Int32Array.from([2]))).toThrow(/indicator 0 names column 2/);
    expect(() => Imputer.fromArrays('mean', Float64Array.from([1]), new Int32Array(0))).toThrow(/unknown missing-value policy "mean"/);
  });
});

describe('Imputed detector', () => {
  it('scores rows with missing values; the model survives encode/decode with the same scores, bit for bit', () => {
    const { X } = withMissing(7);
    const model = Imputed.fitWith(X, 'median', (M) => fitPipeline('isolation-forest', M, { standardize: 'zscore', options: { seed: 1 } }));
    expect(model.nFeatures).toBe(4);
    expect(model.inner.nFeatures).toBe(6);
    const scores = model.score(X);
    expect(scores.every(Number.isFinite)).toBe(true);
    const bytes = encodeModel(model);
    const reloaded = decodeModel(bytes);
    expect(reloaded).toBeInstanceOf(Imputed);
    expect(sameBits(reloaded.score(X), scores)).toBe(true);
    expect(Buffer.from(encodeModel(reloaded)).equals(Buffer.from(bytes))).toBe(true);
    expect(Array.from(reloaded.predict(X))).toEqual(Array.from(model.predict(X)));
  });

  it('a missing value at scoring is its training median, also in a column that had none missing in training', () => {
    const { X } = withMissing(7);
    const model = Imputed.fitWith(X, 'median', (M) => fitDetector('hbos', M));
    const fill = model.imputer.fill;
    const row = Float64Array.from([0.1, NaN, 0.3, NaN]); // column 1 and 3 never missing in training
    const filled = Float64Array.from([0.1, fill[1], 0.3, fill[3]]);
    expect(model.score(new Matrix(1, 4, row))[0]).toBe(model.score(new Matrix(1, 4, filled))[0]);
    expect(() => model.score(new Matrix(1, 4, Float64Array.from([0, 0, 0, Infinity])))).toThrow(DetectorInputError);
  });

  it('finds an anomaly despite missing values', () => {
    const { X, labels } = withMissing(5);
    const model = Imputed.fitWith(X, 'median', (M) => fitDetector('isolation-forest', M, { seed: 2 }));
    const scores = model.score(X);
    const outlierMin = Math.min(...Array.from(scores).filter((_, i) => labels[i] === 1));
    const inliersAbove = Array.from(scores).filter((s, i) => labels[i] === 0 && s >= outlierMin).length;
    expect(inliersAbove).toBeLessThan(8);
  });

  it('explains in the original columns: an indicator contribution is added to its source column', () => {
    const { X } = withMissing(6);
    const model = Imputed.fitWith(X, 'median', (M) => fitDetector('hbos', M));
    const rows = [0, 1, 2, 400, 401];
    const explained = model.explain(X, rows);
    expect(explained.length).toBe(rows.length * 4);
    const inner = model.inner.explain(model.imputer.transform(X), rows);
    for (let i = 0; i < rows.length; i++) {
      expect(explained[i * 4 + 0]).toBeCloseTo(inner[i * 6 + 0] + inner[i * 6 + 4], 12);
      expect(explained[i * 4 + 1]).toBe(inner[i * 6 + 1]);
      expect(explained[i * 4 + 2]).toBeCloseTo(inner[i * 6 + 2] + inner[i * 6 + 5], 12);
      expect(explained[i * 4 + 3]).toBe(inner[i * 6 + 3]);
    }
    expect(() => model.explain(X, [X.rows])).toThrow(RangeError);
  });

  it('is fitted and checked by name through the registry', () => {
    const { X } = withMissing(9);
    const byName = fitDetector('impute', X, { missing: 'zero', detector: { algorithm: 'ecod' } });
    expect(decodeModel(encodeModel(byName)).toState().settings).toEqual({ missing: 'zero' });
    expect(() => fitDetector('impute', X, { missing: 'mean', detector: { algorithm: 'ecod' } })).toThrow(DetectorOptionError);
    expect(() => fitDetector('impute', X, { detector: { algorithm: 'ecod', options: { nope: 1 } } })).toThrow(/detector\.options|unknown option "nope"/);
  });
});

describe('missing values elsewhere in the model file', () => {
  it('"reject" names the first missing value by row and column', () => {
    const { X } = withMissing(7);
    expect(() => checkNoMissing(X, ['amount', 'b', 'c', 'd'], (r) => `row ${r + 101}`)).toThrow('row 101, column "amount": the value is missing');
    expect(() => checkNoMissing(new Matrix(1, 1, Float64Array.from([1])), ['a'], String)).not.toThrow();
  });

  it('feature quantiles leave missing values out', () => {
    const q = featureQuantilesOf(new Matrix(3, 2, Float64Array.from([NaN, 1, 2, NaN, 4, NaN])));
    expect([q[0], q[QUANTILE_STEPS - 1]]).toEqual([2, 4]);
    expect(Array.from(q.subarray(QUANTILE_STEPS)).every((v) => v === 1)).toBe(true);
  });

  it('a model without an imputer refuses a missing value, saying so', () => {
    const { X } = clusterWithOutliers(50, 2, 2, 1);
    const model = fitDetector('ecod', X);
    expect(() => model.score(new Matrix(1, 2, Float64Array.from([0, NaN])))).toThrow(/a missing value: this model was trained on data without any/);
  });
});
