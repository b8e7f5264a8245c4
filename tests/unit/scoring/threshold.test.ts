import { DetectorOptionError } from '../../../src/scoring/detector';
import { thresholdFromContamination } from '../../../src/scoring/threshold';

const f64 = (values: number[]) => Float64Array.from(values);

describe('thresholdFromContamination', () => {
  it('takes the (1 - contamination) percentile with linear interpolation, like numpy', () => {
    // np.percentile([1, 2, 3, 4, 5], 90) = 4.6: position 0.9 · 4 = 3.6 between 4 and 5.
    expect(thresholdFromContamination(f64([5, 3, 1, 4, 2]), 0.1)).toBeCloseTo(4.6, 15);
    // np.percentile([0, 10], 75) = 7.5
    expect(thresholdFromContamination(f64([10, 0]), 0.25)).toBe(7.5);
    // Exactly on an element: np.percentile(range(11), 80) = 8
    expect(thresholdFromContamination(f64([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), 0.2)).toBe(8);
    // The median at the largest contamination.
    expect(thresholdFromContamination(f64([4, 1, 3, 2]), 0.5)).toBe(2.5);
    expect(thresholdFromContamination(f64([7]), 0.1)).toBe(7);
    // Equal neighbours interpolate to exactly their value.
    expect(thresholdFromContamination(f64([1, 2, 2, 2, 2]), 0.1)).toBe(2);
  });

  it('leaves the caller\'s scores untouched', () => {
    const scores = f64([3, 1, 2]);
    thresholdFromContamination(scores, 0.2);
    expect(Array.from(scores)).toEqual([3, 1, 2]);
  });

  it('leaves about contamination × n distinct scores strictly above it', () => {
    const scores = new Float64Array(1000);
    for (let i = 0; i < scores.length; i++) scores[i] = ((i * 7919) % 1000) / 1000; // a permutation
    for (const [contamination, above] of [[0.1, 100], [0.05, 50], [0.01, 10], [0.5, 500]]) {
      const threshold = thresholdFromContamination(scores, contamination);
      expect(scores.filter((s) => s > threshold).length).toBe(above);
    }
  });

  it('rejects contamination outside (0, 0.5] and unusable scores', () => {
    for (const bad of [0, -0.1, 0.51, 1, NaN]) {
      expect(() => thresholdFromContamination(f64([1, 2]), bad)).toThrow(DetectorOptionError);
      expect(() => thresholdFromContamination(f64([1, 2]), bad)).toThrow(`contamination must be a number in (0, 0.5]; got ${bad}`);
    }
    expect(() => thresholdFromContamination(f64([]), 0.1)).toThrow('cannot set a threshold from 0 training scores');
    expect(() => thresholdFromContamination(f64([1, Infinity]), 0.1)).toThrow('training score 1 is not finite (Infinity)');
  });
});
