/**
 * scikit-learn's `train_test_split(X, y, test_size, random_state=np.random.RandomState(seed))`
 * (no stratification), reproduced exactly, so the accuracy test can use the very splits PyOD's
 * notebooks/benchmark.py used for its published ROC-AUC table.
 *
 * - `MT19937`: numpy's legacy `RandomState(seed)` for an integer seed is `mt19937_seed`, i.e.
 *   the reference `init_genrand(seed)` (key[0] = seed; key[i] = 1812433253·(key[i−1] ^
 *   key[i−1] >>> 30) + i mod 2³²; pos = 624), and 32-bit outputs are the reference
 *   `genrand_int32` (twist of 624 words, then tempering).
 * - `permutation(n)`: legacy `RandomState.permutation(int n)` is `arr = arange(n);
 *   shuffle(arr)`, and legacy `shuffle` of a 1-d array is Fisher–Yates from the end:
 *   for i = n−1 down to 1, j = random_interval(i), swap arr[i], arr[j]. `random_interval(max)`
 *   (randomkit's `rk_interval`) draws 32-bit outputs masked to the smallest all-ones mask
 *   ≥ max and rejects values > max (64-bit outputs only when max > 2³²−1, which never happens
 *   here).
 * - `trainTestSplit`: scikit-learn 1.2 `_validate_shuffle_split` + `ShuffleSplit._iter_indices`:
 *   n_test = ceil(test_size · n) (float product, as in Python), n_train = n − n_test,
 *   permutation = rng.permutation(n), test = permutation[:n_test],
 *   train = permutation[n_test : n_test + n_train].
 *
 * Checked index-for-index against numpy 1.24.2 / scikit-learn 1.2.1 in numpySplit.test.ts.
 */

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

/** MT19937 seeded like numpy's legacy RandomState(seed) with an integer seed. */
export class MT19937 {
  private readonly mt = new Uint32Array(N);
  private pos = N;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`seed must be an integer in [0, 2^32 - 1], got ${seed}`);
    }
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      // 1812433253 * prev mod 2^32 without losing bits: Math.imul is exact modulo 2^32.
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.pos = N;
  }

  /** The next 32-bit output (genrand_int32), as an unsigned number. */
  nextUint32(): number {
    const mt = this.mt;
    if (this.pos >= N) {
      let k = 0;
      for (; k < N - M; k++) {
        const y = (mt[k] & UPPER_MASK) | (mt[k + 1] & LOWER_MASK);
        mt[k] = mt[k + M] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      }
      for (; k < N - 1; k++) {
        const y = (mt[k] & UPPER_MASK) | (mt[k + 1] & LOWER_MASK);
        mt[k] = mt[k + M - N] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      }
      const y = (mt[N - 1] & UPPER_MASK) | (mt[0] & LOWER_MASK);
      mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      this.pos = 0;
    }
    let y = mt[this.pos++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** numpy's `random_interval(max)` / randomkit `rk_interval`: uniform on 0..max inclusive. */
  interval(max: number): number {
    if (max === 0) return 0;
    if (!Number.isInteger(max) || max < 0 || max > 0xffffffff) {
      throw new RangeError(`interval: max must be an integer in [0, 2^32 - 1], got ${max}`);
    }
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    let value: number;
    do {
      value = (this.nextUint32() & mask) >>> 0;
    } while (value > max);
    return value;
  }

  /** numpy's legacy `RandomState.permutation(n)` for an integer n. */
  permutation(n: number): Int32Array {
    const arr = new Int32Array(n);
    for (let i = 0; i < n; i++) arr[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.interval(i);
      const t = arr[i];
      arr[i] = arr[j];
      arr[j] = t;
    }
    return arr;
  }
}

/** `np.random.RandomState(seed).permutation(n)`. */
export function numpyPermutation(n: number, seed: number): Int32Array {
  return new MT19937(seed).permutation(n);
}

export interface TrainTestIndices {
  readonly train: Int32Array;
  readonly test: Int32Array;
}

/**
 * The row indices of `train_test_split(X, test_size=testSize, random_state=RandomState(seed))`
 * for X with nSamples rows (scikit-learn 1.2, shuffle=True, stratify=None).
 */
export function trainTestSplit(nSamples: number, testSize = 0.4, seed = 0): TrainTestIndices {
  if (!Number.isInteger(nSamples) || nSamples < 2) throw new RangeError(`nSamples must be an integer ≥ 2, got ${nSamples}`);
  if (!(testSize > 0 && testSize < 1)) throw new RangeError(`testSize must be in (0, 1), got ${testSize}`);
  const nTest = Math.ceil(testSize * nSamples);
  const nTrain = nSamples - nTest;
  if (nTrain === 0) throw new RangeError(`nSamples=${nSamples}, testSize=${testSize}: the train set would be empty`);
  const permutation = numpyPermutation(nSamples, seed);
  return { test: permutation.slice(0, nTest), train: permutation.slice(nTest, nTest + nTrain) };
}
