/**
 * k-nearest-neighbour search (Euclidean) for the neighbour-based detectors (KNN, LOF) through a
 * neighbour index (neighborIndex.ts: an exact KD-tree, an approximate HNSW graph or blocked brute
 * force), and the training set such a detector keeps.
 *
 * Every index computes a distance the same way, as the plain column-order sum of (q - t)²
 * (see bruteForceIndex.ts for why), and lists neighbours in (distance, training index) order:
 * the exact indexes return exactly brute force's lists, bit for bit.
 */
import { DetectorInputError, DetectorOptionError, DetectorState, OptionSpecs, resolveOptions, ResolvedOptions, stateSection } from './detector';
import { Matrix } from './matrix';
import { buildNeighborIndex, chooseIndexKind, NeighborIndex, NeighborIndexChoice, probeNeighborIndex, readIndexOption } from './neighborIndex';
import { SeededRandom } from './random';

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

/**
 * Query rows searched at a time: bounds the neighbour scratch to NEIGHBOR_BLOCK × k entries
 * (~2 MiB at k = 20). Large because HNSW orders a block's rows for cache locality (see
 * HnswIndex.descendAll): on 100k × 16 Gaussian rows that saved 10-30% CPU at 8,192 rows a block
 * and little at 1,024.
 */
const NEIGHBOR_BLOCK = 8192;

/**
 * Scores X block by block from each row's k nearest training rows, so the neighbour buffers stay
 * NEIGHBOR_BLOCK rows long: `summarise` turns one block's neighbour lists into its scores.
 */
export function scoreFromNeighborBlocks(
  index: NeighborIndex,
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
    searchNeighbors(index, X.sliceRows(start, end), k, distances, indices);
    summarise(distances, indices, end - start, out.subarray(start, end));
  }
}

/**
 * Per-feature contributions of X's rows (row-major into `out`, X.rows × X.cols) for a neighbour
 * detector: each row's score, as `summarise` computes it, split over features in proportion to
 * their share of the squared distances to the neighbours that set the score, the list positions
 * [from, to) of each row's sorted list (KNN and LOF use all k): feature c gets score × Σ_o (x_c − t_oc)² / Σ_o ‖x − t_o‖². A row's contributions
 * sum to its score (to rounding); a row at distance 0 from those neighbours gets 0 everywhere.
 */
export function explainFromNeighborBlocks(
  index: NeighborIndex,
  X: Matrix,
  k: number,
  from: number,
  to: number,
  summarise: (distances: Float64Array, indices: Int32Array, rows: number, target: Float64Array) => void,
  out: Float64Array,
): void {
  const d = X.cols;
  const data = X.data;
  const train = index.train.data;
  const block = Math.min(X.rows, NEIGHBOR_BLOCK);
  const distances = new Float64Array(block * k);
  const indices = new Int32Array(block * k);
  const scores = new Float64Array(block);
  for (let start = 0; start < X.rows; start += NEIGHBOR_BLOCK) {
    const end = Math.min(start + NEIGHBOR_BLOCK, X.rows);
    searchNeighbors(index, X.sliceRows(start, end), k, distances, indices);
    summarise(distances, indices, end - start, scores);
    for (let i = 0; i < end - start; i++) {
      const q = (start + i) * d;
      out.fill(0, q, q + d);
      let total = 0;
      for (let p = i * k + from; p < i * k + to; p++) {
        const t = indices[p] * d;
        for (let c = 0; c < d; c++) {
          const diff = data[q + c] - train[t + c];
          const square = diff * diff;
          out[q + c] += square;
          total += square;
        }
      }
      const perSquare = total > 0 && total < Infinity ? scores[i] / total : 0;
      for (let c = q; c < q + d; c++) out[c] *= perSquare;
    }
  }
}

/**
 * Finds the exact k nearest training rows of every query row by brute force and writes them into
 * `distances` and `indices` (each at least query.rows × k long; see NeighborLists for the layout).
 */
export function findNearestNeighbors(
  train: Matrix,
  query: Matrix,
  k: number,
  distances: Float64Array,
  indices: Int32Array,
  options: NeighborSearchOptions = {},
): void {
  searchNeighbors(buildNeighborIndex('brute', train, 0), query, k, distances, indices, options);
}

/**
 * Finds the k nearest training rows of every query row with `index` (exact unless it is HNSW)
 * and writes them into `distances` and `indices` (see NeighborLists for the layout).
 */
export function searchNeighbors(
  index: NeighborIndex,
  query: Matrix,
  k: number,
  distances: Float64Array,
  indices: Int32Array,
  options: NeighborSearchOptions = {},
): void {
  const train = index.train;
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
  index.searchSquared(query, k, { distances, indices }, excludeSelf ? selfOffset : -1);
  finishNeighborLists(distances, indices, nQuery, k, nTrain, excludeSelf ? selfOffset : -1);
}

/**
 * Turns squared lists into NeighborLists: empty slots filled (fillInfiniteNeighbors), distances
 * square-rooted. selfOffset ≥ 0 when query row i is training row selfOffset + i.
 */
function finishNeighborLists(distances: Float64Array, indices: Int32Array, nQuery: number, k: number, nTrain: number, selfOffset: number): void {
  const excludeSelf = selfOffset >= 0;
  for (let i = 0; i < nQuery; i++) {
    const base = i * k;
    // Only when squared distances overflowed to Infinity (values beyond ~1e153), or an
    // approximate search reached fewer than k rows, can a list have empty slots.
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

/**
 * The k nearest other training rows of every training row (each row left out of its own list),
 * through `index` (brute force when omitted): the lists its build collected when it did (HNSW
 * fitted for this k, see fitNeighborIndex), else a search of every training row.
 */
export function trainingNeighbors(train: Matrix, k: number, index: NeighborIndex = buildNeighborIndex('brute', train, 0)): NeighborLists {
  const distances = new Float64Array(train.rows * k);
  const indices = new Int32Array(train.rows * k);
  if (index.train === train && k < train.rows && index.takeTrainingSquared?.(k, { distances, indices })) {
    finishNeighborLists(distances, indices, train.rows, k, train.rows, 0);
  } else {
    searchNeighbors(index, train, k, distances, indices, { selfOffset: 0 });
  }
  return { k, distances, indices };
}

// ---------------------------------------------------------------------------------------------
// The training set of a neighbour-based detector.

/**
 * Options every neighbour-based detector shares, besides its own nNeighbors default (and the
 * string option `index`, see neighborIndex.ts).
 *
 * maxTrainRows (default 20,000): such a model keeps its training rows (as PyOD does) and
 * searches them through its neighbour index, so fitting costs n_train searches (with HNSW, its
 * build, which collects the training rows' lists on the way) and scoring one search per row. A KD-tree search touches a small part of the training set when the data's
 * intrinsic dimension is low (real tabular data often); on full-rank data of 16 or more
 * dimensions it touches nearly all of it, and 'auto' takes HNSW, whose search costs ~log n but
 * whose build dominates the fit (measurements: bench/neighbors-last-run.md). The model file holds
 * the rows (8 × d bytes each; HNSW adds ~130 bytes per row); the KD-tree keeps a second copy of
 * the rows in tree order in memory. Larger training sets are cut to a seeded uniform sample of maxTrainRows
 * rows (seed option). Distances are then to the sample's rows: the k-th neighbour among m
 * sampled rows sits about as far as the (k·n/m)-th among all n, so scores grow but rankings
 * mostly hold; the threshold comes from the sample's own (self-excluded) scores, so it stays
 * consistent with them. The cap goes up to 10,000,000; forcing index 'brute' on more than a few
 * tens of thousands of rows is the wrong tool (O(n_train²) to fit).
 */
export const NEIGHBOR_TRAINING_OPTIONS = {
  contamination: { default: 0.1, min: 0, max: 0.5, integer: false, exclusiveMin: true },
  // Not yet the 1,000,000 the index aims at: on full-rank data a 100k × 16 HNSW fit takes ~20-35 s
  // here and a 1M × 16 one ~8 minutes (bench/neighbors-last-run.md), so the default stays where
  // fits take seconds.
  maxTrainRows: { default: 20_000, min: 2, max: 10_000_000, integer: true },
  seed: { default: 0, min: 0, max: 4_294_967_295, integer: true },
} as const;

/**
 * A neighbour detector's options: the numeric ones resolved against `specs`, and the string
 * option `index` (neighborIndex.ts). An unknown option's message lists `index` among the allowed.
 */
export function resolveNeighborOptions<S extends OptionSpecs>(
  algorithm: string,
  specs: S,
  options: unknown,
): { params: ResolvedOptions<S>; index: NeighborIndexChoice } {
  const { index, rest } = readIndexOption(algorithm, options);
  try {
    return { params: resolveOptions(algorithm, specs, rest), index };
  } catch (error) {
    if (error instanceof DetectorOptionError && error.option !== undefined && !Object.prototype.hasOwnProperty.call(specs, error.option)) {
      throw new DetectorOptionError(`${error.message}, index`, error.option);
    }
    throw error;
  }
}

/**
 * The index a detector fits with: `choice` resolved for the training set and k (chooseIndexKind).
 * An HNSW index comes with the training rows' k nearest collected by its build, for
 * trainingNeighbors.
 */
export function fitNeighborIndex(choice: NeighborIndexChoice, train: Matrix, k: number, seed: number): NeighborIndex {
  const kind = chooseIndexKind(choice, train.rows, train.cols);
  return kind === 'probe' ? probeNeighborIndex(train, k, seed) : buildNeighborIndex(kind, train, seed, k);
}

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
