import { decodeModel, encodeModel } from '../../../src/scoring/codec';
import { DetectorInputError, DetectorOptionError } from '../../../src/scoring/detector';
import { Matrix } from '../../../src/scoring/matrix';
import { rocAuc } from '../../../src/scoring/metrics';
import { Pca, PcaOptions } from '../../../src/scoring/pca';
import { fitDetector } from '../../../src/scoring/registry';
import { Standardizer } from '../../../src/scoring/standardizer';
import { thresholdFromContamination } from '../../../src/scoring/threshold';
import { clusterWithOutliers } from './syntheticData';

function section(model: Pca, name: string): Float64Array {
  return model.toState().sections.find((s) => s.name === name)?.data as Float64Array;
}

function sameBits(a: Float64Array, b: Float64Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

describe('Pca', () => {
  // Hand-worked: centered already, covariance (ddof 1) = diag(8/3, 2/3), so the components are
  // e1 (λ = 8/3, ratio 0.8) and e2 (λ = 2/3, ratio 0.2). PyOD's score is Σ_j ‖x − v_j‖ / ratio_j.
  const hand = new Matrix(4, 2, Float64Array.from([2, 0, -2, 0, 0, 1, 0, -1]));
  const raw: PcaOptions = { standardization: 0 };

  it('gives PyOD\'s weighted distance score on a hand-worked case', () => {
    const model = Pca.fit(hand, raw);
    expect(Array.from(section(model, 'components'))).toEqual([1, 0, 0, 1]);
    const ev = model.explainedVariance;
    expect(ev[0]).toBeCloseTo(8 / 3, 14);
    expect(ev[1]).toBeCloseTo(2 / 3, 14);
    const w = section(model, 'weights');
    expect(w[0]).toBeCloseTo(0.8, 14);
    expect(w[1]).toBeCloseTo(0.2, 14);
    const scores = model.score(hand);
    // (2, 0): ‖x − e1‖ = 1, ‖x − e2‖ = √5.  (−2, 0): 3 and √5.  (0, 1): √2 and 0.  (0, −1): √2 and 2.
    const expected = [1 / 0.8 + Math.sqrt(5) / 0.2, 3 / 0.8 + Math.sqrt(5) / 0.2, Math.SQRT2 / 0.8, Math.SQRT2 / 0.8 + 2 / 0.2];
    expected.forEach((e, i) => expect(scores[i]).toBeCloseTo(e, 12));
    expect(model.threshold).toBe(thresholdFromContamination(scores, 0.1));
    // A new point: (1, 1) → ‖(0, 1)‖ / 0.8 + ‖(1, 0)‖ / 0.2.
    expect(model.score(new Matrix(1, 2, Float64Array.from([1, 1])))[0]).toBeCloseTo(1 / 0.8 + 1 / 0.2, 12);
  });

  it('supports unweighted scores and selecting the smallest components', () => {
    const unweighted = Pca.fit(hand, { ...raw, weighted: 0 }).score(hand);
    expect(unweighted[0]).toBeCloseTo(1 + Math.sqrt(5), 12);
    const lastOnly = Pca.fit(hand, { ...raw, nSelectedComponents: 1 });
    expect(lastOnly.nScoredComponents).toBe(1);
    expect(Array.from(section(lastOnly, 'components'))).toEqual([0, 1]);
    expect(lastOnly.score(hand)[3]).toBeCloseTo(2 / 0.2, 12);
    // Keeping one component keeps the largest, and its ratio is still out of the total variance.
    const firstOnly = Pca.fit(hand, { ...raw, nComponents: 1 });
    expect(Array.from(section(firstOnly, 'components'))).toEqual([1, 0]);
    expect(firstOnly.score(hand)[0]).toBeCloseTo(1 / 0.8, 12);
  });

  it('standardises internally by default exactly like fitting on z-scored data', () => {
    const { X } = clusterWithOutliers(300, 5, 4, 3);
    // Stretch the columns so standardisation matters.
    const stretched = new Matrix(X.rows, X.cols, X.data.map((v, i) => v * (1 + 10 * (i % 4)) + i % 4));
    const inside = Pca.fit(stretched);
    const outside = Pca.fit(Standardizer.fit(stretched).transform(stretched), { standardization: 0 });
    expect(sameBits(inside.score(stretched), outside.score(Standardizer.fit(stretched).transform(stretched)))).toBe(true);
    expect(inside.threshold).toBe(outside.threshold);
    expect(inside.params).toEqual({ nComponents: 0, nSelectedComponents: 0, weighted: 1, standardization: 1, contamination: 0.1 });
  });

  it('ranks far outliers above the cluster', () => {
    const { X, labels } = clusterWithOutliers(1000, 10, 6, 5);
    const model = fitDetector('pca', X, { contamination: 0.05 });
    expect(model).toBeInstanceOf(Pca);
    expect(rocAuc(labels, model.score(X))).toBeGreaterThan(0.99);
    const predicted = model.predict(X);
    for (let i = 1000; i < 1010; i++) expect(predicted[i]).toBe(1);
  });

  it('is deterministic and round-trips through the codec with identical scores and bytes', () => {
    const { X } = clusterWithOutliers(400, 8, 5, 9);
    const a = Pca.fit(X);
    const b = Pca.fit(X);
    const bytes = encodeModel(a);
    expect(Buffer.from(encodeModel(b)).equals(Buffer.from(bytes))).toBe(true);
    const decoded = decodeModel(bytes);
    expect(decoded).toBeInstanceOf(Pca);
    expect(decoded.threshold).toBe(a.threshold);
    expect(decoded.params).toEqual(a.params);
    expect(sameBits(decoded.score(X), a.score(X))).toBe(true);
    expect(decoded.predict(X)).toEqual(a.predict(X));
    expect(Buffer.from(encodeModel(decoded)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('leaves zero-variance components out of the score instead of dividing by zero', () => {
    // Column 2 is constant: its component has eigenvalue 0 and is not scored.
    const rows = [
      [1, 2, 7],
      [2, 1, 7],
      [3, 5, 7],
      [4, 3, 7],
      [5, 4, 7],
    ];
    const X = new Matrix(5, 3, Float64Array.from(rows.flat()));
    const model = Pca.fit(X);
    expect(model.explainedVariance.length).toBe(3);
    expect(model.explainedVariance[2]).toBe(0);
    expect(model.nScoredComponents).toBe(2);
    const scores = model.score(X);
    for (const s of scores) expect(Number.isFinite(s)).toBe(true);
    // The constant column standardises to exactly 0, so training scores match PCA on the other two.
    const twoColumns = Pca.fit(new Matrix(5, 2, Float64Array.from(rows.flatMap((r) => r.slice(0, 2)))));
    twoColumns.score(new Matrix(5, 2, Float64Array.from(rows.flatMap((r) => r.slice(0, 2))))).forEach((s, i) => expect(scores[i]).toBeCloseTo(s, 12));
    // A scoring row that leaves the constant value is further from every component: a higher, finite score.
    const moved = model.score(new Matrix(1, 3, Float64Array.from([3, 3, 9])))[0];
    const stayed = model.score(new Matrix(1, 3, Float64Array.from([3, 3, 7])))[0];
    expect(Number.isFinite(moved)).toBe(true);
    expect(moved).toBeGreaterThan(stayed);

    // More columns than rows: the rank is rows − 1, the rest are zero-variance and skipped.
    const wide = new Matrix(3, 5, Float64Array.from([1, 0, 2, 5, 3, 0, 1, 1, 2, 2, 4, 4, 0, 1, 1]));
    const wideModel = Pca.fit(wide);
    expect(wideModel.explainedVariance.length).toBe(3);
    expect(wideModel.nScoredComponents).toBe(2);
    for (const s of wideModel.score(wide)) expect(Number.isFinite(s)).toBe(true);
  });

  it('rejects data it cannot model, with clear errors', () => {
    const expectInput = (fn: () => unknown, message: RegExp): void => {
      expect(fn).toThrow(DetectorInputError);
      expect(fn).toThrow(message);
    };
    expectInput(() => Pca.fit(new Matrix(0, 3, new Float64Array(0))), /pca: cannot fit on a dataset with 0 rows/);
    expectInput(() => Pca.fit(new Matrix(1, 3, Float64Array.from([1, 2, 3]))), /pca: cannot fit on 1 row; PCA needs at least 2 rows/);
    expectInput(() => Pca.fit(new Matrix(2, 2, Float64Array.from([1, NaN, 2, 3]))), /non-finite value \(NaN\) at row 0, column 1/);
    expectInput(() => Pca.fit(new Matrix(2, 2, Float64Array.from([1, 2, Infinity, 3]))), /non-finite value \(Infinity\) at row 1, column 0/);
    expectInput(() => Pca.fit(new Matrix(3, 2, Float64Array.from([1, 2, 1, 2, 1, 2]))), /every column is constant/);
    const model = Pca.fit(hand, raw);
    expectInput(() => model.score(new Matrix(1, 3, new Float64Array(3))), /pca: model was fitted on 2 columns but the data has 3/);
    expectInput(() => model.score(new Matrix(1, 2, Float64Array.from([0, -Infinity]))), /pca: data has a non-finite value \(-Infinity\)/);
    expect(model.score(new Matrix(0, 2, new Float64Array(0))).length).toBe(0);
  });

  it('rejects bad options naming the option', () => {
    const expectOption = (options: unknown, message: RegExp, option: string): void => {
      try {
        fitDetector('pca', hand, options);
      } catch (error) {
        expect(error).toBeInstanceOf(DetectorOptionError);
        expect((error as Error).message).toMatch(message);
        expect((error as DetectorOptionError).option).toBe(option);
        return;
      }
      throw new Error('expected a DetectorOptionError');
    };
    expectOption({ nComponents: 3 }, /pca: option "nComponents" is 3 but the data allows at most min\(rows, columns\) = 2/, 'nComponents');
    expectOption({ nComponents: 1, nSelectedComponents: 2 }, /option "nSelectedComponents" is 2 but only 1 components are kept/, 'nSelectedComponents');
    expectOption({ weighted: 2 }, /pca: option "weighted" must be an integer in \[0, 1\]; got 2/, 'weighted');
    expectOption({ standardization: true }, /option "standardization" must be an integer in \[0, 1\]; got boolean/, 'standardization');
    expectOption({ whiten: 1 }, /pca: unknown option "whiten"/, 'whiten');
  });

  it('rejects inconsistent stored states', () => {
    const model = Pca.fit(hand, raw);
    const state = model.toState();
    const replace = (name: string, data: Float64Array) => ({
      ...state,
      sections: state.sections.map((s) => (s.name === name ? { name, data } : s)),
    });
    expect(() => Pca.fromState(replace('weights', Float64Array.from([0.8, 0])))).toThrow(/invalid model state: weight 1 is 0/);
    expect(() => Pca.fromState(replace('scale', Float64Array.from([1, 0])))).toThrow(/scale of column 1 is 0/);
    expect(() => Pca.fromState(replace('components', new Float64Array(3)))).toThrow(/components has 3 entries, expected 2 × 2/);
    expect(() => Pca.fromState({ ...state, nFeatures: 3 })).toThrow(/center has 2 entries for 3 features/);
    expect(() => Pca.fromState({ ...state, sections: state.sections.slice(1) })).toThrow(/no "center" section/);
  });
});
