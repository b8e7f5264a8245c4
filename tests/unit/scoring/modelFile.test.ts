import { encodeModel } from '../../../src/scoring/codec';
import { Matrix } from '../../../src/scoring/matrix';
import { decodeModelFile, encodeModelFile, featureQuantilesOf, QUANTILE_STEPS, trainingPercentile } from '../../../src/scoring/modelFile';
import { fitDetector } from '../../../src/scoring/registry';
import { SeededRandom } from '../../../src/scoring/random';
import { gaussianMatrix } from './explainData';

describe('model files with calibration scores and training percentiles', () => {
  const X = gaussianMatrix(500, 3, new SeededRandom(7));
  const detector = fitDetector('ecod', X, {});

  it('round-trips both attachments beside the detector, and scores as before', () => {
    const calibrationScores = detector.score(gaussianMatrix(200, 3, new SeededRandom(8))).sort();
    const featureQuantiles = featureQuantilesOf(X);
    const bytes = encodeModelFile({ detector, calibrationScores, featureQuantiles });
    const file = decodeModelFile(bytes);
    expect(file.calibrationScores).toEqual(calibrationScores);
    expect(file.featureQuantiles).toEqual(featureQuantiles);
    expect(file.detector.score(X)).toEqual(detector.score(X));
    // Deterministic: same content, same bytes.
    expect(Buffer.from(encodeModelFile({ detector, calibrationScores, featureQuantiles })).equals(Buffer.from(bytes))).toBe(true);
  });

  it('writes a file without attachments byte for byte as encodeModel always did, and reads old files without them', () => {
    const plain = encodeModel(detector);
    expect(Buffer.from(encodeModelFile({ detector })).equals(Buffer.from(plain))).toBe(true);
    const file = decodeModelFile(plain);
    expect(file.calibrationScores).toBeUndefined();
    expect(file.featureQuantiles).toBeUndefined();
  });

  it('refuses calibration scores out of order and quantiles of the wrong shape', () => {
    expect(() => decodeModelFile(encodeModelFile({ detector, calibrationScores: new Float64Array([2, 1]) }))).toThrow(/calibration score 1 is not finite or out of order/);
    expect(() => decodeModelFile(encodeModelFile({ detector, featureQuantiles: new Float64Array(QUANTILE_STEPS) }))).toThrow(/featureQuantiles must be float64 of 3 × 101/);
  });

  it('places a value among the training values: percentiles invert the quantiles', () => {
    const column = new Matrix(101, 1, Float64Array.from({ length: 101 }, (_, i) => i * 2)); // 0, 2, …, 200
    const q = featureQuantilesOf(column);
    expect(q[0]).toBe(0);
    expect(q[50]).toBe(100);
    expect(q[100]).toBe(200);
    expect(trainingPercentile(q, 0, 100)).toBe(50);
    expect(trainingPercentile(q, 0, 101)).toBeCloseTo(50.5, 12);
    expect(trainingPercentile(q, 0, -5)).toBe(0);
    expect(trainingPercentile(q, 0, 1e9)).toBe(100);
    // A flat stretch (half the training values equal) puts its value in the stretch's middle.
    const flat = featureQuantilesOf(new Matrix(100, 1, Float64Array.from({ length: 100 }, (_, i) => (i < 50 ? 0 : i))));
    expect(trainingPercentile(flat, 0, 0)).toBeCloseTo(24.5, 0);
  });
});
