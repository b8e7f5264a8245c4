/**
 * Eigendecomposition of a real symmetric matrix by the cyclic Jacobi method: plane rotations
 * zero the off-diagonal entries one pair at a time, sweep after sweep, until the off-diagonal
 * mass is negligible. Accurate (eigenvalues to working precision, orthonormal vectors) and
 * fine for the covariance matrices detectors build (d up to a few hundred: O(d³) per sweep,
 * typically 6–10 sweeps).
 *
 * Output is deterministic: eigenvalues sorted descending (ties keep the order Jacobi left them
 * in, which depends only on the input), and each eigenvector's sign fixed so that its entry of
 * largest magnitude (the first such entry on a tie) is positive — scikit-learn's svd_flip rule
 * for PCA components (u_based_decision=False).
 */

export interface SymmetricEigen {
  /** Matrix order d. */
  readonly size: number;
  /** The d eigenvalues, largest first. */
  readonly values: Float64Array;
  /**
   * The eigenvectors as the rows of a d × d row-major matrix: row k (entries k·d … k·d + d − 1)
   * is the unit eigenvector of values[k]. This is the layout of scikit-learn's `components_`.
   */
  readonly vectors: Float64Array;
}

const MAX_SWEEPS = 100;

/**
 * Decomposes the symmetric d × d row-major matrix `A` (which is not modified) as
 * A = Vᵀ · diag(values) · V, with V's rows the eigenvectors.
 * Throws a RangeError when A is not square, not finite or not symmetric (to a relative 1e-10).
 */
export function symmetricEigen(A: Float64Array, size: number): SymmetricEigen {
  const d = size;
  if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`matrix order must be a non-negative integer, got ${d}`);
  if (A.length !== d * d) throw new RangeError(`a ${d} × ${d} matrix needs ${d * d} entries, got ${A.length}`);
  let frobenius = 0;
  for (let i = 0; i < A.length; i++) {
    const v = A[i];
    if (!Number.isFinite(v)) {
      throw new RangeError(`matrix entry (${Math.floor(i / d)}, ${i % d}) is not finite (${v})`);
    }
    frobenius += v * v;
  }
  frobenius = Math.sqrt(frobenius);
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) {
      if (Math.abs(A[i * d + j] - A[j * d + i]) > 1e-10 * frobenius) {
        throw new RangeError(`matrix is not symmetric: entry (${i}, ${j}) is ${A[i * d + j]} but (${j}, ${i}) is ${A[j * d + i]}`);
      }
    }
  }

  // Work on the symmetrised copy; `v` accumulates the rotations (its columns become eigenvectors).
  const a = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) a[i * d + j] = i === j ? A[i * d + i] : 0.5 * (A[i * d + j] + A[j * d + i]);
  }
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;

  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += a[p * d + q] * a[p * d + q];
    // Off-diagonal mass below rounding of the whole matrix: the diagonal is the spectrum.
    if (off === 0 || Math.sqrt(off) <= 1e-15 * frobenius) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q];
        if (apq === 0) continue;
        const app = a[p * d + p];
        const aqq = a[q * d + q];
        // After a few sweeps, an entry too small to change either diagonal entry is just zeroed.
        if (sweep > 3 && Math.abs(app) + 100 * Math.abs(apq) === Math.abs(app) && Math.abs(aqq) + 100 * Math.abs(apq) === Math.abs(aqq)) {
          a[p * d + q] = 0;
          a[q * d + p] = 0;
          continue;
        }
        // The rotation J (c at pp and qq, s at pq, −s at qp) with (JᵀAJ)_pq = 0 (Golub & Van Loan 8.5.2).
        const tau = (aqq - app) / (2 * apq);
        const t = Math.abs(tau) > 1e150 ? 1 / (2 * tau) : (tau >= 0 ? 1 : -1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          if (k === p || k === q) continue;
          const akp = a[k * d + p];
          const akq = a[k * d + q];
          const np = c * akp - s * akq;
          const nq = s * akp + c * akq;
          a[k * d + p] = np;
          a[p * d + k] = np;
          a[k * d + q] = nq;
          a[q * d + k] = nq;
        }
        a[p * d + p] = app - t * apq;
        a[q * d + q] = aqq + t * apq;
        a[p * d + q] = 0;
        a[q * d + p] = 0;
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p];
          const vkq = v[k * d + q];
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }

  // Sort descending; the index tie-break keeps the order deterministic (Array#sort is stable too).
  const order = Array.from({ length: d }, (_, i) => i).sort((i, j) => a[j * d + j] - a[i * d + i] || i - j);
  const values = new Float64Array(d);
  const vectors = new Float64Array(d * d);
  order.forEach((source, k) => {
    values[k] = a[source * d + source];
    let largest = 0;
    let at = 0;
    for (let i = 0; i < d; i++) {
      const magnitude = Math.abs(v[i * d + source]);
      if (magnitude > largest) {
        largest = magnitude;
        at = i;
      }
    }
    const sign = v[at * d + source] < 0 ? -1 : 1;
    // + 0 turns a flipped zero (−0) into 0, so equal inputs give byte-identical outputs.
    for (let i = 0; i < d; i++) vectors[k * d + i] = sign * v[i * d + source] + 0;
  });
  return { size: d, values, vectors };
}
