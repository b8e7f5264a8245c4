import { decodeModel, encodeModel } from '../../../src/scoring/codec';
import { DetectorInputError, DetectorOptionError, DetectorState } from '../../../src/scoring/detector';
import { Matrix } from '../../../src/scoring/matrix';
import { rocAuc } from '../../../src/scoring/metrics';
import { fitDetector, supportedAlgorithms } from '../../../src/scoring/registry';
import { MAD_TO_SD, MEAN_AD_TO_SD, RobustZScore, RobustZScoreOptions } from '../../../src/scoring/robustZ';
import { thresholdFromContamination } from '../../../src/scoring/threshold';
import { clusterWithOutliers } from './syntheticData';

/** Rows of [a, b, c] as a 3-column matrix. */
function triples(...rows: [number, number, number][]): Matrix {
  return new Matrix(rows.length, 3, Float64Array.from(rows.flat()));
}

describe('RobustZScore', () => {
  const { X, labels } = clusterWithOutliers(1000, 10, 4, 7);

  // Column 0: 1, 2, 3, 4, 100 → median 3, |deviations| 2, 1, 0, 1, 97 → MAD 1.
  // Column 1: 5, 5, 5, 5, 6 → median 5, MAD 0; mean absolute deviation 0.2 → fallback scale.
  // Column 2: constant 2 → no spread at all: contributes 0.
  const train = triples([1, 5, 2], [2, 5, 2], [3, 5, 2], [4, 5, 2], [100, 6, 2]);
  const madScale = MAD_TO_SD * 1;
  const meanAdScale = MEAN_AD_TO_SD * 0.2;

  it('uses the documented constants', () => {
    expect(MAD_TO_SD).toBe(1.4826);
    expect(MEAN_AD_TO_SD).toBe(1.253314);
  });

  it('fits medians and robust scales, falling back when the MAD is zero', () => {
    const model = RobustZScore.fit(train);
    expect(Array.from(model.medians)).toEqual([3, 5, 2]);
    expect(Array.from(model.scales)).toEqual([madScale, meanAdScale, 0]);
    // Even counts take the mean of the two middle values: 1, 2, 3, 10 → median 2.5, MAD of
    // 1.5, 0.5, 0.5, 7.5 → (0.5 + 1.5) / 2 = 1.
    const even = RobustZScore.fit(new Matrix(4, 1, Float64Array.from([10, 1, 3, 2])));
    expect(Array.from(even.medians)).toEqual([2.5]);
    expect(Array.from(even.scales)).toEqual([MAD_TO_SD]);
  });

  it('scores the largest |z| over features, a constant column contributing 0', () => {
    const model = RobustZScore.fit(train);
    const scores = model.score(
      triples(
        [100, 5, 2], // 97 / 1.4826 on column 0
        [3, 6, 2], // 1 / (1.253314 · 0.2) on column 1
        [3, 5, 999], // column 2 is constant in training: ignored
        [1, 4.5, -50], // max(2 / 1.4826, 0.5 / 0.2506628)
        [3, 5, 2],
      ),
    );
    expect(Array.from(scores)).toEqual([97 / madScale, 1 / meanAdScale, 0, Math.max(2 / madScale, 0.5 / meanAdScale), 0]);
    // Training scores: 2/s, 1/s, 0, 1/s, max(97/s, 1/s'): the 90th percentile lies 60% of the
    // way from 2/s to the largest.
    const trainScores = [2 / madScale, 1 / madScale, 0, 1 / madScale, 97 / madScale];
    expect(Array.from(model.score(train))).toEqual(trainScores);
    expect(model.threshold).toBeCloseTo(2 / madScale + 0.6 * (97 / madScale - 2 / madScale), 12);
    expect(Array.from(model.predict(train))).toEqual([0, 0, 0, 0, 1]);
  });

  it('never gives Infinity or NaN when the MAD is zero, even for all-identical data', () => {
    const same = RobustZScore.fit(new Matrix(6, 2, new Float64Array(12).fill(3)));
    expect(Array.from(same.scales)).toEqual([0, 0]);
    const scores = same.score(new Matrix(3, 2, Float64Array.from([3, 3, 1e9, -1e9, 4, 3])));
    expect(Array.from(scores)).toEqual([0, 0, 0]);
    expect(same.threshold).toBe(0);
    expect(Array.from(same.predict(new Matrix(1, 2, Float64Array.from([7, 7]))))).toEqual([0]);
    // More than half tied (MAD 0) with spread elsewhere: finite scores from the fallback scale.
    const mostlyTied = RobustZScore.fit(new Matrix(5, 1, Float64Array.from([0, 0, 0, 1, -1])));
    expect(Array.from(mostlyTied.scales)).toEqual([MEAN_AD_TO_SD * 0.4]);
    const far = mostlyTied.score(new Matrix(1, 1, Float64Array.from([10])));
    expect(Number.isFinite(far[0])).toBe(true);
    expect(far[0]).toBe(10 / (MEAN_AD_TO_SD * 0.4));
  });

  it('scores far outliers above every inlier and flags about `contamination` of the training rows', () => {
    const model = RobustZScore.fit(X);
    const scores = model.score(X);
    expect(rocAuc(labels, scores)).toBe(1);
    for (let i = 1000; i < 1010; i++) expect(model.predict(X)[i]).toBe(1);
    for (const contamination of [0.05, 0.1, 0.25]) {
      const fitted = RobustZScore.fit(X, { contamination });
      expect(fitted.threshold).toBe(thresholdFromContamination(scores, contamination));
      const flagged = fitted.predict(X).reduce((sum, v) => sum + v, 0);
      expect(flagged).toBeLessThanOrEqual(Math.ceil(contamination * X.rows));
      expect(flagged).toBeGreaterThanOrEqual(Math.floor(contamination * X.rows) - 2);
    }
    expect(supportedAlgorithms()).toContain('robust-z');
    expect(fitDetector('robust-z', X)).toBeInstanceOf(RobustZScore);
  });

  it('round-trips through the model codec with identical scores and bytes', () => {
    const model = RobustZScore.fit(X, { contamination: 0.02 });
    const bytes = encodeModel(model);
    const decoded = decodeModel(bytes);
    expect(decoded).toBeInstanceOf(RobustZScore);
    expect(decoded.params).toEqual({ contamination: 0.02 });
    expect(decoded.threshold).toBe(model.threshold);
    expect(decoded.score(X)).toEqual(model.score(X));
    expect(Buffer.from(encodeModel(decoded)).equals(Buffer.from(bytes))).toBe(true);
    expect(Buffer.from(encodeModel(RobustZScore.fit(X, { contamination: 0.02 }))).equals(Buffer.from(bytes))).toBe(true);
    expect(model.toState().sections.map((s) => s.name)).toEqual(['median', 'scale']);
  });

  it('writes into a caller-provided buffer and checks its length', () => {
    const model = RobustZScore.fit(X);
    const expected = model.score(X);
    const out = new Float64Array(X.rows).fill(-1);
    expect(model.score(X, out)).toBe(out);
    expect(out).toEqual(expected);
    const part = new Float64Array(5);
    model.score(X.sliceRows(1000, 1005), part);
    expect(part).toEqual(expected.subarray(1000, 1005));
    expect(() => model.score(X, new Float64Array(0))).toThrow(RangeError);
  });

  it('rejects empty, one-row and non-finite data, and the wrong number of columns', () => {
    expect(() => RobustZScore.fit(new Matrix(0, 3, new Float64Array(0)))).toThrow(/robust-z: cannot fit on a dataset with 0 rows/);
    expect(() => RobustZScore.fit(triples([1, 2, 3]))).toThrow(DetectorInputError);
    expect(() => RobustZScore.fit(triples([1, 2, 3]))).toThrow(/robust-z: cannot fit on a dataset with 1 row/);
    expect(() => RobustZScore.fit(triples([1, 2, 3], [1, NaN, 3]))).toThrow(/non-finite value \(NaN\) at row 1, column 1/);
    const model = RobustZScore.fit(train);
    expect(() => model.score(triples([1, 2, -Infinity]))).toThrow(/robust-z: data has a non-finite value \(-Infinity\) at row 0, column 2/);
    expect(() => model.score(X)).toThrow('robust-z: model was fitted on 3 columns but the data has 4');
  });

  it('names a bad option', () => {
    expect(() => RobustZScore.fit(X, { contamination: 1 })).toThrow('robust-z: option "contamination" must be a number in (0, 0.5]; got 1');
    try {
      RobustZScore.fit(X, { aggregate: 'mean' } as unknown as RobustZScoreOptions);
      throw new Error('expected an option error');
    } catch (error) {
      expect(error).toBeInstanceOf(DetectorOptionError);
      expect((error as DetectorOptionError).option).toBe('aggregate');
      expect((error as Error).message).toBe('robust-z: unknown option "aggregate". Allowed options: contamination');
    }
  });

  it('rejects a crafted model state', () => {
    const state = RobustZScore.fit(train).toState();
    const withSections = (median: Float64Array, scale: Float64Array): DetectorState => ({
      ...state,
      sections: [
        { name: 'median', data: median },
        { name: 'scale', data: scale },
      ],
    });
    expect(() => RobustZScore.fromState(withSections(new Float64Array(3), Float64Array.from([1, -1, 0])))).toThrow(
      /robust-z: invalid model state: feature 1 has an invalid scale -1/,
    );
    expect(() => RobustZScore.fromState(withSections(new Float64Array(2), new Float64Array(3)))).toThrow(/expected 3 medians and scales, got 2 and 3/);
    expect(() => RobustZScore.fromState(withSections(Float64Array.from([0, NaN, 0]), new Float64Array(3)))).toThrow(/feature 1 has a non-finite median/);
    expect(() => RobustZScore.fromState({ ...state, threshold: NaN })).toThrow(/threshold is NaN/);
  });
});
