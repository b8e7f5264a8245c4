import { DetectorInputError } from '../../../src/scoring/detector';
import { Matrix } from '../../../src/scoring/matrix';
import { Standardizer } from '../../../src/scoring/standardizer';

/** Column-major convenience: columns of equal length → row-major Matrix. */
function fromColumns(...columns: number[][]): Matrix {
  const rows = columns[0].length;
  const data = new Float64Array(rows * columns.length);
  columns.forEach((column, c) => column.forEach((v, r) => (data[r * columns.length + c] = v)));
  return new Matrix(rows, columns.length, data);
}

describe('Standardizer', () => {
  it('z-scores with the mean and population standard deviation (StandardScaler)', () => {
    const X = fromColumns([1, 2, 3, 4], [10, 10, 30, 30]);
    const s = Standardizer.fit(X, 'zscore');
    expect(s.kind).toBe('zscore');
    expect(s.nFeatures).toBe(2);
    expect(Array.from(s.center)).toEqual([2.5, 20]);
    expect(s.scale[0]).toBeCloseTo(Math.sqrt(1.25), 15);
    expect(s.scale[1]).toBe(10);
    const Z = s.transform(X);
    expect(Array.from(Z.data.filter((_, i) => i % 2 === 1))).toEqual([-1, -1, 1, 1]);
    expect(Z.get(0, 0)).toBeCloseTo(-1.5 / Math.sqrt(1.25), 15);
    // Standardised columns have mean 0 and (population) variance 1.
    let mean = 0;
    let squares = 0;
    for (let r = 0; r < 4; r++) mean += Z.get(r, 0) / 4;
    for (let r = 0; r < 4; r++) squares += (Z.get(r, 0) - mean) ** 2 / 4;
    expect(mean).toBeCloseTo(0, 15);
    expect(squares).toBeCloseTo(1, 14);
  });

  it('robust-scales with the median and interquartile range (RobustScaler, linear percentiles)', () => {
    const X = fromColumns([1, 2, 3, 4, 100], [5, 1, 4, 2, 3], [0, 1, 2, 3, 4]);
    const s = Standardizer.fit(X, 'robust');
    expect(Array.from(s.center)).toEqual([3, 3, 2]);
    // Percentiles of 5 values: 25th at position 1, 75th at position 3.
    expect(Array.from(s.scale)).toEqual([2, 2, 2]);
    expect(s.transform(X).row(4)[0]).toBe(48.5);
    // Interpolated percentiles: [0, 10, 20, 30] has 25th 7.5, median 15, 75th 22.5.
    const even = Standardizer.fit(fromColumns([30, 0, 20, 10]), 'robust');
    expect(even.center[0]).toBe(15);
    expect(even.scale[0]).toBe(15);
  });

  it('gives zero-spread columns scale 1, and constant columns their exact value as center', () => {
    const X = fromColumns([0.1, 0.1, 0.1], [7, 7, 7], [1, 2, 3]);
    for (const kind of ['zscore', 'robust'] as const) {
      const s = Standardizer.fit(X, kind);
      expect(s.center[0]).toBe(0.1);
      expect(s.scale[0]).toBe(1);
      expect(s.scale[1]).toBe(1);
      const Z = s.transform(X);
      for (let r = 0; r < 3; r++) {
        expect(Object.is(Z.get(r, 0), 0)).toBe(true);
        expect(Object.is(Z.get(r, 1), 0)).toBe(true);
      }
      // A new value in a constant column is shifted, not blown up.
      expect(s.transform(fromColumns([1.1], [9], [2])).data[1]).toBe(2);
    }
    // Mostly one value: the IQR is 0 but the column is not constant → scale 1 around the median.
    const spiky = Standardizer.fit(fromColumns([0, 0, 0, 0, 0, 5]), 'robust');
    expect(spiky.center[0]).toBe(0);
    expect(spiky.scale[0]).toBe(1);
    // A spread below 10·ε counts as zero.
    const tiny = Standardizer.fit(fromColumns([0, 1e-16]), 'zscore');
    expect(tiny.scale[0]).toBe(1);
    // A single row is a constant column everywhere.
    const one = Standardizer.fit(fromColumns([3], [-2]), 'zscore');
    expect(Array.from(one.center)).toEqual([3, -2]);
    expect(Array.from(one.scale)).toEqual([1, 1]);
  });

  it('transforms row ranges into a reused buffer, matching the whole-matrix transform', () => {
    const data = Float64Array.from({ length: 30 }, (_, i) => Math.sin(i) * (i % 3 + 1));
    const X = new Matrix(10, 3, data);
    const s = Standardizer.fit(X, 'robust');
    const whole = s.transform(X);
    const buffer = new Float64Array(4 * 3);
    for (let start = 0; start < 10; start += 4) {
      const end = Math.min(start + 4, 10);
      const block = s.transformRows(X, start, end, buffer);
      expect(block.rows).toBe(end - start);
      expect(block.data.buffer).toBe(buffer.buffer);
      expect(Array.from(block.data)).toEqual(Array.from(whole.data.subarray(start * 3, end * 3)));
    }
    expect(X.data).toEqual(data);
  });

  it('rejects bad data and bad stored arrays with clear errors', () => {
    expect(() => Standardizer.fit(new Matrix(0, 2, new Float64Array(0)))).toThrow(/cannot fit on a dataset with 0 rows/);
    expect(() => Standardizer.fit(fromColumns([1, NaN]))).toThrow(DetectorInputError);
    expect(() => Standardizer.fit(fromColumns([1, NaN]))).toThrow(/non-finite value \(NaN\) at row 1, column 0/);
    expect(() => Standardizer.fit(fromColumns([1, 2]), 'minmax' as never)).toThrow(/kind must be one of zscore, robust/);
    const s = Standardizer.fit(fromColumns([1, 2], [3, 4]));
    expect(() => s.transform(fromColumns([1, 2]))).toThrow('standardizer: fitted on 2 columns but the data has 1');
    expect(() => s.transformRows(fromColumns([1, 2], [3, 4]), 0, 2, new Float64Array(3))).toThrow(/holds 3 values; 4 are needed/);
    expect(() => s.transformRows(fromColumns([1, 2], [3, 4]), 1, 3, new Float64Array(4))).toThrow(/row range \[1, 3\) is out of range/);
    expect(() => Standardizer.fromArrays('zscore', Float64Array.from([0, 0]), Float64Array.from([1, 0]))).toThrow(/scale of column 1 is 0/);
    expect(() => Standardizer.fromArrays('zscore', Float64Array.from([NaN]), Float64Array.from([1]))).toThrow(/center of column 0 is NaN/);
    expect(() => Standardizer.fromArrays('zscore', Float64Array.from([0]), Float64Array.from([1, 1]))).toThrow(/equal length; got 1 and 2/);
    expect(() => Standardizer.fromArrays('minmax', Float64Array.from([0]), Float64Array.from([1]))).toThrow(/unknown kind "minmax"/);
    const rebuilt = Standardizer.fromArrays(s.kind, s.center, s.scale);
    expect(rebuilt.transform(fromColumns([5], [6])).data).toEqual(s.transform(fromColumns([5], [6])).data);
    expect(s.toSections('std.').map((x) => x.name)).toEqual(['std.center', 'std.scale']);
  });
});
