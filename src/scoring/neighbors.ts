/**
 * Exact k-nearest-neighbour search (Euclidean) on typed arrays, for the neighbour-based
 * detectors (KNN, LOF).
 *
 * Blocked brute force: the query rows are walked in tiles of QUERY_TILE rows against tiles of
 * training rows small enough to stay in cache (about 64 KB), and inside a tile pair a register
 * micro-kernel computes 2 query rows × 4 training rows at once, so every value loaded is used
 * four (or two) times. Each query row keeps its k best candidates in its slice of the caller's
 * output arrays, an insertion buffer sorted by (distance, training index); a candidate is only
 * compared against the current k-th distance unless it gets in. There are no per-row objects and
 * no allocations in the search.
 *
 * Distances are computed as the plain sum over columns, in column order, of (q - t)², never as
 * |q|² + |t|² - 2 q·t. Measured on this machine (Node 20, one core, shared and noisy) with
 * 20,000 training rows × 600 queries: the norms/dot-product form was no faster than the plain
 * form with the same 4-way unrolling (~1.0 vs ~1.1 G row-pair-features/s at d = 9, 21, 36),
 * because without BLAS or SIMD a subtraction costs next to nothing next to the loads; the 2 × 4
 * kernel then gained another ~1.3-1.5×. The plain form is also exact: a duplicate row is at
 * distance 0 (the dot form leaves ~1e-8 of cancellation noise, which LOF turns into wildly
 * different densities), distances are symmetric, and every tiling yields the very same bits,
 * so the search equals a naive reference exactly.
 *
 * Ties are broken by the lower training index (the list is the first k rows of a stable sort by
 * distance), so results are deterministic.
 *
 * Cost: O(n_train × n_query × d) time, O(n_query × k) output; see the detectors' maxTrainRows
 * option for how that stays tractable.
 */
import { DetectorInputError, DetectorOptionError, DetectorState, stateSection } from './detector';
import { Matrix } from './matrix';
import { SeededRandom } from './random';

/** Query rows per tile. */
const QUERY_TILE = 64;
/** Training values (rows × columns) per tile: 8192 float64 = 64 KB, comfortably within L2. */
const TRAIN_TILE_VALUES = 8192;

/** The k nearest training rows of each query row, row-major (query row i at [i·k, i·k + k)). */
export interface NeighborLists {
  readonly k: number;
  /** Euclidean distances, ascending within each row. */
  readonly distances: Float64Array;
  /** Training row indices, in the same order; ties broken by the lower index. */
  readonly indices: Int32Array;
}

export interface NeighborSearchOptions {
  /**
   * Set when the query rows are training rows themselves: query row i is training row
   * selfOffset + i, and is left out of its own list (scikit-learn's kneighbors() without X, which
   * PyOD's KNN and LOF use for the training scores). Duplicates of it still count, at distance 0.
   */
  readonly selfOffset?: number;
}

/** Inserts candidate (s, j) into the sorted list at [base, base + k); returns the new k-th value. */
function insert(distances: Float64Array, indices: Int32Array, base: number, k: number, s: number, j: number): number {
  let p = base + k - 1;
  // Strictly greater: an equal distance already in the list has a lower index and stays first.
  while (p > base && distances[p - 1] > s) {
    distances[p] = distances[p - 1];
    indices[p] = indices[p - 1];
    p--;
  }
  distances[p] = s;
  indices[p] = j;
  return distances[base + k - 1];
}

/** Query rows searched at a time: bounds the neighbour scratch to NEIGHBOR_BLOCK × k entries. */
const NEIGHBOR_BLOCK = 1024;

/**
 * Scores X block by block from each row's k nearest training rows, so the neighbour buffers stay
 * NEIGHBOR_BLOCK rows long: `summarise` turns one block's neighbour lists into its scores.
 */
export function scoreFromNeighborBlocks(
  train: Matrix,
  X: Matrix,
  k: number,
  out: Float64Array,
  summarise: (distances: Float64Array, indices: Int32Array, rows: number, target: Float64Array) => void,
): void {
  const block = Math.min(X.rows, NEIGHBOR_BLOCK);
  const distances = new Float64Array(block * k);
  const indices = new Int32Array(block * k);
  for (let start = 0; start < X.rows; start += NEIGHBOR_BLOCK) {
    const end = Math.min(start + NEIGHBOR_BLOCK, X.rows);
    findNearestNeighbors(train, X.sliceRows(start, end), k, distances, indices);
    summarise(distances, indices, end - start, out.subarray(start, end));
  }
}

/**
 * Finds the exact k nearest training rows of every query row and writes them into `distances`
 * and `indices` (each at least query.rows × k long; see NeighborLists for the layout).
 */
export function findNearestNeighbors(
  train: Matrix,
  query: Matrix,
  k: number,
  distances: Float64Array,
  indices: Int32Array,
  options: NeighborSearchOptions = {},
): void {
  const d = train.cols;
  const nTrain = train.rows;
  const nQuery = query.rows;
  const selfOffset = options.selfOffset ?? -1;
  const excludeSelf = options.selfOffset !== undefined;
  if (query.cols !== d) throw new RangeError(`query has ${query.cols} columns but the training set has ${d}`);
  if (excludeSelf && (!Number.isInteger(selfOffset) || selfOffset < 0 || selfOffset + nQuery > nTrain)) {
    throw new RangeError(`selfOffset ${selfOffset} with ${nQuery} query rows is outside the ${nTrain} training rows`);
  }
  const available = excludeSelf ? nTrain - 1 : nTrain;
  if (!Number.isInteger(k) || k < 1 || k > available) {
    throw new RangeError(`k must be an integer in [1, ${available}] for ${nTrain} training rows${excludeSelf ? ' (excluding self)' : ''}; got ${k}`);
  }
  const total = nQuery * k;
  if (distances.length < total || indices.length < total) {
    throw new RangeError(`neighbour buffers must hold ${total} values; got ${distances.length} and ${indices.length}`);
  }
  const T = train.data;
  const Q = query.data;
  distances.fill(Infinity, 0, total);
  indices.fill(-1, 0, total);
  // A multiple of 4 so the 4-wide kernel covers whole tiles except the last.
  const trainTile = Math.max(16, Math.floor(TRAIN_TILE_VALUES / Math.max(d, 1) / 4) * 4);
  // -1 never equals a training index, so the search never excludes anything without selfOffset.
  const selfShift = excludeSelf ? selfOffset : -1 - nQuery;

  for (let q0 = 0; q0 < nQuery; q0 += QUERY_TILE) {
    const q1 = Math.min(q0 + QUERY_TILE, nQuery);
    for (let t0 = 0; t0 < nTrain; t0 += trainTile) {
      const t1 = Math.min(t0 + trainTile, nTrain);
      let q = q0;
      // Two query rows at a time.
      for (; q + 1 < q1; q += 2) {
        const qa = q * d;
        const qb = qa + d;
        const ba = q * k;
        const bb = ba + k;
        const selfA = q + selfShift;
        const selfB = selfA + 1;
        let wa = distances[ba + k - 1];
        let wb = distances[bb + k - 1];
        let j = t0;
        for (; j + 3 < t1; j += 4) {
          const o0 = j * d;
          const o1 = o0 + d;
          const o2 = o1 + d;
          const o3 = o2 + d;
          let a0 = 0;
          let a1 = 0;
          let a2 = 0;
          let a3 = 0;
          let b0 = 0;
          let b1 = 0;
          let b2 = 0;
          let b3 = 0;
          for (let c = 0; c < d; c++) {
            const u = Q[qa + c];
            const v = Q[qb + c];
            const x0 = T[o0 + c];
            const x1 = T[o1 + c];
            const x2 = T[o2 + c];
            const x3 = T[o3 + c];
            let e = u - x0;
            a0 += e * e;
            e = u - x1;
            a1 += e * e;
            e = u - x2;
            a2 += e * e;
            e = u - x3;
            a3 += e * e;
            e = v - x0;
            b0 += e * e;
            e = v - x1;
            b1 += e * e;
            e = v - x2;
            b2 += e * e;
            e = v - x3;
            b3 += e * e;
          }
          // Candidates arrive in increasing training index, which keeps ties in index order.
          if (a0 < wa && j !== selfA) wa = insert(distances, indices, ba, k, a0, j);
          if (a1 < wa && j + 1 !== selfA) wa = insert(distances, indices, ba, k, a1, j + 1);
          if (a2 < wa && j + 2 !== selfA) wa = insert(distances, indices, ba, k, a2, j + 2);
          if (a3 < wa && j + 3 !== selfA) wa = insert(distances, indices, ba, k, a3, j + 3);
          if (b0 < wb && j !== selfB) wb = insert(distances, indices, bb, k, b0, j);
          if (b1 < wb && j + 1 !== selfB) wb = insert(distances, indices, bb, k, b1, j + 1);
          if (b2 < wb && j + 2 !== selfB) wb = insert(distances, indices, bb, k, b2, j + 2);
          if (b3 < wb && j + 3 !== selfB) wb = insert(distances, indices, bb, k, b3, j + 3);
        }
        for (; j < t1; j++) {
          const o = j * d;
          let a = 0;
          let b = 0;
          for (let c = 0; c < d; c++) {
            const x = T[o + c];
            let e = Q[qa + c] - x;
            a += e * e;
            e = Q[qb + c] - x;
            b += e * e;
          }
          if (a < wa && j !== selfA) wa = insert(distances, indices, ba, k, a, j);
          if (b < wb && j !== selfB) wb = insert(distances, indices, bb, k, b, j);
        }
      }
      // The odd query row left in the tile.
      for (; q < q1; q++) {
        const qa = q * d;
        const ba = q * k;
        const selfA = q + selfShift;
        let wa = distances[ba + k - 1];
        for (let j = t0; j < t1; j++) {
          const o = j * d;
          let a = 0;
          for (let c = 0; c < d; c++) {
            const e = Q[qa + c] - T[o + c];
            a += e * e;
          }
          if (a < wa && j !== selfA) wa = insert(distances, indices, ba, k, a, j);
        }
      }
    }
  }

  for (let i = 0; i < nQuery; i++) {
    const base = i * k;
    // Only when squared distances overflowed to Infinity (values beyond ~1e153) can a list have
    // empty slots: Infinity never beats the Infinity it was initialised with.
    if (indices[base + k - 1] < 0) fillInfiniteNeighbors(indices, distances, base, k, nTrain, excludeSelf ? i + selfOffset : -1);
    for (let p = base; p < base + k; p++) distances[p] = Math.sqrt(distances[p]);
  }
}

/**
 * Fills a list's empty slots with the lowest-index training rows not yet in it, at distance
 * Infinity: what a stable sort by distance would put there. Runs only after an overflow.
 */
function fillInfiniteNeighbors(
  indices: Int32Array,
  distances: Float64Array,
  base: number,
  k: number,
  nTrain: number,
  self: number,
): void {
  let filled = base;
  while (filled < base + k && indices[filled] >= 0) filled++;
  for (let j = 0; j < nTrain && filled < base + k; j++) {
    if (j === self) continue;
    let present = false;
    for (let p = base; p < filled; p++) if (indices[p] === j) present = true;
    if (present) continue;
    indices[filled] = j;
    distances[filled] = Infinity;
    filled++;
  }
}

/** findNearestNeighbors into freshly allocated arrays. */
export function nearestNeighbors(train: Matrix, query: Matrix, k: number, options: NeighborSearchOptions = {}): NeighborLists {
  const distances = new Float64Array(query.rows * k);
  const indices = new Int32Array(query.rows * k);
  findNearestNeighbors(train, query, k, distances, indices, options);
  return { k, distances, indices };
}

/** The k nearest other training rows of every training row (each row left out of its own list). */
export function trainingNeighbors(train: Matrix, k: number): NeighborLists {
  return nearestNeighbors(train, train, k, { selfOffset: 0 });
}

// ---------------------------------------------------------------------------------------------
// The training set of a neighbour-based detector.

/**
 * Options every neighbour-based detector shares, besides its own nNeighbors default.
 *
 * maxTrainRows (default 20,000): such a model keeps its training rows (as PyOD does) and
 * compares every scored row with each of them, so fitting costs O(n_train² × d) and scoring
 * O(n_train × n_query × d), single-threaded. Measured (Node 20, one shared core) at the default
 * with d = 20: about 5 s to fit KNN or LOF, 0.22 ms per scored row (≈ 4,500 rows/s, so ≈ 4 min
 * per million rows per core), and a 3.2 MB model (3.5 MB for LOF); time and size grow linearly
 * with d. That keeps every ODDS benchmark training split but shuttle's whole. Larger training
 * sets are cut to a seeded uniform sample of maxTrainRows rows (seed option). Distances are
 * then to the sample's rows: the k-th neighbour among m sampled rows sits about as far as the
 * (k·n/m)-th among all n, so scores grow but rankings mostly hold; the threshold comes from the
 * sample's own (self-excluded) scores, so it stays consistent with them.
 * The cap goes up to 200,000 (≈ 100× the fit time and 10× the time per scored row); beyond that,
 * exact brute force is the wrong tool.
 */
export const NEIGHBOR_TRAINING_OPTIONS = {
  contamination: { default: 0.1, min: 0, max: 0.5, integer: false, exclusiveMin: true },
  maxTrainRows: { default: 20_000, min: 2, max: 200_000, integer: true },
  seed: { default: 0, min: 0, max: 4_294_967_295, integer: true },
} as const;

/**
 * `m` of the `n` row indices, uniformly at random without replacement, in increasing order
 * (Knuth's selection sampling: one draw per row, no extra memory).
 */
export function sampleRowIndices(n: number, m: number, seed: number): Int32Array {
  if (!Number.isInteger(m) || m < 0 || m > n) throw new RangeError(`cannot sample ${m} of ${n} rows`);
  const rng = new SeededRandom(seed);
  const out = new Int32Array(m);
  let chosen = 0;
  for (let i = 0; i < n && chosen < m; i++) {
    // Select row i with probability (still needed) / (rows left); exact: next() < 1.
    if ((n - i) * rng.next() < m - chosen) out[chosen++] = i;
  }
  return out;
}

/** What neighbour options must satisfy whatever the data: each kept row needs nNeighbors other kept rows. */
export function checkNeighborOptions(algorithm: string, params: { readonly nNeighbors: number; readonly maxTrainRows: number }): void {
  if (params.nNeighbors >= params.maxTrainRows) {
    throw new DetectorOptionError(
      `${algorithm}: option "nNeighbors" (${params.nNeighbors}) must be less than option "maxTrainRows" (${params.maxTrainRows})`,
      'nNeighbors',
    );
  }
}

/**
 * The rows a neighbour model keeps: a copy of X, or of a seeded uniform sample of maxTrainRows
 * rows (in their original order) when X has more. Throws a DetectorOptionError when there are
 * not more rows than nNeighbors: each training row's score needs nNeighbors other rows (we do
 * not silently reduce k, unlike scikit-learn's LOF, so a model always means what its params say).
 */
export function neighborTrainingSet(
  algorithm: string,
  X: Matrix,
  params: { readonly nNeighbors: number; readonly maxTrainRows: number; readonly seed: number },
): Matrix {
  const { nNeighbors, maxTrainRows, seed } = params;
  checkNeighborOptions(algorithm, params);
  if (nNeighbors >= X.rows) {
    throw new DetectorOptionError(
      `${algorithm}: option "nNeighbors" (${nNeighbors}) must be less than the number of training rows (${X.rows}): ` +
        `each training row is scored by its ${nNeighbors} nearest other rows; lower nNeighbors or fit on more rows`,
      'nNeighbors',
    );
  }
  if (X.rows <= maxTrainRows) return new Matrix(X.rows, X.cols, X.data.slice());
  return X.selectRows(sampleRowIndices(X.rows, maxTrainRows, seed));
}

/** Rejects training scores that overflowed (values so large that squared distances are Infinity). */
export function checkTrainingScores(algorithm: string, scores: Float64Array): void {
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i])) {
      throw new DetectorInputError(
        `${algorithm}: training row ${i} got a non-finite score (${scores[i]}): values are too large for squared ` +
          'Euclidean distances (beyond about ±1e150); rescale or standardise the data before fitting',
      );
    }
  }
}

/**
 * The training rows stored in a model state, checked against nFeatures and nNeighbors so a
 * crafted or damaged file can never make the search read out of bounds.
 */
/** Call after checkStateHeader. */
export function trainingSetFromState(state: DetectorState, nNeighbors: number): Matrix {
  const fail = (why: string): never => {
    throw new DetectorInputError(`${state.algorithm}: invalid model state: ${why}`);
  };
  const data = stateSection(state, 'train', Float64Array);
  if (data.length % state.nFeatures !== 0) {
    fail(`the "train" section holds ${data.length} values, not a whole number of ${state.nFeatures}-column rows`);
  }
  const rows = data.length / state.nFeatures;
  if (rows <= nNeighbors) fail(`${rows} training rows cannot give ${nNeighbors} neighbours besides each row itself`);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) fail(`training value ${i} is not finite`);
  }
  return new Matrix(rows, state.nFeatures, data);
}
