import { symmetricEigen } from '../../../src/scoring/eigen';
import { SeededRandom } from '../../../src/scoring/random';

/** A random symmetric d × d matrix with entries in [-1, 1). */
function randomSymmetric(d: number, seed: number): Float64Array {
  const rng = new SeededRandom(seed);
  const a = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      const v = 2 * rng.next() - 1;
      a[i * d + j] = v;
      a[j * d + i] = v;
    }
  }
  return a;
}

/** max |A·v_k − λ_k·v_k| and max |V·Vᵀ − I| over all entries. */
function residuals(A: Float64Array, d: number): { eigen: number; orthonormal: number; values: Float64Array; vectors: Float64Array } {
  const { values, vectors } = symmetricEigen(A, d);
  let eigen = 0;
  let orthonormal = 0;
  for (let k = 0; k < d; k++) {
    for (let i = 0; i < d; i++) {
      let av = 0;
      for (let j = 0; j < d; j++) av += A[i * d + j] * vectors[k * d + j];
      eigen = Math.max(eigen, Math.abs(av - values[k] * vectors[k * d + i]));
    }
    for (let l = 0; l < d; l++) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += vectors[k * d + i] * vectors[l * d + i];
      orthonormal = Math.max(orthonormal, Math.abs(dot - (k === l ? 1 : 0)));
    }
  }
  return { eigen, orthonormal, values, vectors };
}

describe('symmetricEigen', () => {
  it('sorts a diagonal matrix descending with unit-vector eigenvectors', () => {
    const { values, vectors } = symmetricEigen(Float64Array.from([1, 0, 0, 0, 5, 0, 0, 0, -2]), 3);
    expect(Array.from(values)).toEqual([5, 1, -2]);
    expect(Array.from(vectors)).toEqual([0, 1, 0, 1, 0, 0, 0, 0, 1]);
  });

  it('solves [[2, 1], [1, 2]]: λ = 3 along (1, 1)/√2 and λ = 1 along (1, −1)/√2', () => {
    const { values, vectors } = symmetricEigen(Float64Array.from([2, 1, 1, 2]), 2);
    expect(values[0]).toBeCloseTo(3, 14);
    expect(values[1]).toBeCloseTo(1, 14);
    const r = Math.SQRT1_2;
    // Ties in magnitude: the first entry of largest magnitude is made positive.
    [r, r, r, -r].forEach((expected, i) => expect(vectors[i]).toBeCloseTo(expected, 14));
  });

  it('solves the second-difference matrix with the documented sign convention', () => {
    // tridiag(−1, 2, −1) of order 3: λ_k = 2 − 2cos(kπ/4), v_k ∝ (sin(kπ/4), sin(2kπ/4), sin(3kπ/4)).
    const A = Float64Array.from([2, -1, 0, -1, 2, -1, 0, -1, 2]);
    const { values, vectors } = symmetricEigen(A, 3);
    [2 + Math.SQRT2, 2, 2 - Math.SQRT2].forEach((expected, k) => expect(values[k]).toBeCloseTo(expected, 14));
    // λ = 2 + √2: (0.5, −0.707, 0.5) has its largest entry negative, so it is flipped.
    const expected = [-0.5, Math.SQRT1_2, -0.5, Math.SQRT1_2, 0, -Math.SQRT1_2, 0.5, Math.SQRT1_2, 0.5];
    expected.forEach((e, i) => expect(vectors[i]).toBeCloseTo(e, 14));
    // No −0 survives the sign flip.
    expect(Object.is(vectors[4], -0)).toBe(false);
  });

  it('satisfies A·v = λ·v with orthonormal vectors on random matrices up to order 60', () => {
    for (const [d, seed] of [
      [1, 1],
      [2, 2],
      [7, 3],
      [25, 4],
      [60, 5],
    ]) {
      const A = randomSymmetric(d, seed);
      const { eigen, orthonormal, values, vectors } = residuals(A, d);
      expect(eigen).toBeLessThan(1e-12 * d);
      expect(orthonormal).toBeLessThan(1e-12 * d);
      for (let k = 1; k < d; k++) expect(values[k]).toBeLessThanOrEqual(values[k - 1]);
      // Trace is preserved.
      let trace = 0;
      let sum = 0;
      for (let i = 0; i < d; i++) {
        trace += A[i * d + i];
        sum += values[i];
      }
      expect(sum).toBeCloseTo(trace, 10);
      // Sign convention: each vector's largest-magnitude entry is positive.
      for (let k = 0; k < d; k++) {
        const row = Array.from(vectors.subarray(k * d, k * d + d));
        const at = row.reduce((best, v, i) => (Math.abs(v) > Math.abs(row[best]) ? i : best), 0);
        expect(row[at]).toBeGreaterThan(0);
      }
    }
  });

  it('handles repeated and zero eigenvalues (a rank-one covariance)', () => {
    // u·uᵀ with u = (1, 2, 2): eigenvalues 9, 0, 0.
    const u = [1, 2, 2];
    const A = Float64Array.from({ length: 9 }, (_, i) => u[Math.floor(i / 3)] * u[i % 3]);
    const { eigen, orthonormal, values, vectors } = residuals(A, 3);
    expect(values[0]).toBeCloseTo(9, 12);
    expect(Math.abs(values[1])).toBeLessThan(1e-12);
    expect(Math.abs(values[2])).toBeLessThan(1e-12);
    [1 / 3, 2 / 3, 2 / 3].forEach((e, i) => expect(vectors[i]).toBeCloseTo(e, 12));
    expect(eigen).toBeLessThan(1e-12);
    expect(orthonormal).toBeLessThan(1e-12);
  });

  it('is deterministic and leaves its input untouched', () => {
    const A = randomSymmetric(12, 9);
    const copy = Float64Array.from(A);
    const a = symmetricEigen(A, 12);
    const b = symmetricEigen(A, 12);
    expect(Buffer.from(a.vectors.buffer).equals(Buffer.from(b.vectors.buffer))).toBe(true);
    expect(Buffer.from(a.values.buffer).equals(Buffer.from(b.values.buffer))).toBe(true);
    expect(A).toEqual(copy);
  });

  it('accepts the empty matrix and rejects malformed ones', () => {
    expect(symmetricEigen(new Float64Array(0), 0).values.length).toBe(0);
    expect(() => symmetricEigen(new Float64Array(5), 2)).toThrow('a 2 × 2 matrix needs 4 entries, got 5');
    expect(() => symmetricEigen(Float64Array.from([1, 2, 3, 4]), 2)).toThrow(/not symmetric: entry \(0, 1\) is 2 but \(1, 0\) is 3/);
    expect(() => symmetricEigen(Float64Array.from([1, NaN, NaN, 1]), 2)).toThrow('matrix entry (0, 1) is not finite (NaN)');
    expect(() => symmetricEigen(new Float64Array(1), -1)).toThrow(/non-negative integer/);
  });
});
