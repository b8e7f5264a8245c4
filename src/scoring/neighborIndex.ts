/**
 * The neighbour index behind KNN and LOF, and how a detector chooses it.
 *
 *   'kdtree'  exact (kdTreeIndex.ts): the same k distances, bit for bit, and the same indices
 *             (ties to the lower training index) as brute force; fast while d is moderate.
 *   'hnsw'    approximate (hnswIndex.ts): a graph search, for many rows in high dimension.
 *   'brute'   exact blocked brute force (neighbors.ts), O(n_train) per query.
 *   'auto'    (the default) exact below 50,000 training rows; above, the KD-tree if a probe
 *             shows it prunes well on the data, else HNSW: see chooseIndexKind.
 *
 * Options are numbers in the detectors' option specs, so the choice travels as a separate
 * string option, `index`, read by readIndexOption and stored in the model's settings. The KD-tree
 * and brute force are rebuilt from the training rows when a model is loaded (deterministic,
 * O(n log n)); the HNSW graph is stored in the model (sections 'hnswLevels', 'hnswLinks0',
 * 'hnswLinksUpper'), since building it costs far more than reading it.
 */
import { DetectorInputError, DetectorOptionError, DetectorState, StateSection, stateSection } from './detector';
import { bruteForceSquared } from './bruteForceIndex';
import { HnswIndex } from './hnswIndex';
import { KdTreeIndex } from './kdTreeIndex';
import { Matrix } from './matrix';

export const NEIGHBOR_INDEX_CHOICES = ['auto', 'kdtree', 'hnsw', 'brute'] as const;
export type NeighborIndexChoice = (typeof NEIGHBOR_INDEX_CHOICES)[number];
export type NeighborIndexKind = Exclude<NeighborIndexChoice, 'auto'>;

/** Below this many training rows 'auto' always searches exactly. */
export const AUTO_HNSW_MIN_ROWS = 50_000;
/** Below AUTO_HNSW_MIN_ROWS rows, beyond this many columns brute force beats the tree's pruning. */
export const AUTO_BRUTE_MIN_COLS = 48;
/** Beyond this many columns a KD-tree never prunes enough: a large set goes straight to HNSW. */
export const AUTO_KDTREE_MAX_COLS = 64;
/** Training rows the 'auto' probe searches for. */
export const AUTO_PROBE_QUERIES = 256;
/**
 * The KD-tree is kept for a large set when a probe query compares with at most this many rows on
 * average: ~4k rows is what an HNSW search at our beam width compares with, in a worse memory
 * order, so beyond it the graph is the faster one.
 */
export const AUTO_PROBE_MAX_SCANNED = 4096;

/**
 * What a choice resolves to for a training set of `rows` × `cols` before any probe: a forced
 * kind as it is; 'auto' gives exact search below AUTO_HNSW_MIN_ROWS rows (the KD-tree up to 48
 * columns, brute force above), HNSW beyond 64 columns, and otherwise 'probe': the KD-tree if it
 * prunes well on this very data (see fitNeighborIndex in neighbors.ts), else HNSW.
 */
export function chooseIndexKind(choice: NeighborIndexChoice, rows: number, cols: number): NeighborIndexKind | 'probe' {
  if (choice !== 'auto') return choice;
  if (rows < AUTO_HNSW_MIN_ROWS) return cols <= AUTO_BRUTE_MIN_COLS ? 'kdtree' : 'brute';
  return cols > AUTO_KDTREE_MAX_COLS ? 'hnsw' : 'probe';
}

/**
 * Builds a KD-tree and keeps it when AUTO_PROBE_QUERIES evenly spaced training rows, searched for
 * their k nearest other rows, compare with at most AUTO_PROBE_MAX_SCANNED rows on average; else
 * builds HNSW. The probe counts rows, not time, so the choice is deterministic.
 */
export function probeNeighborIndex(train: Matrix, k: number, seed: number): NeighborIndex {
  const tree = KdTreeIndex.build(train);
  const probes = Math.min(AUTO_PROBE_QUERIES, train.rows);
  const step = Math.floor(train.rows / probes);
  const d = train.cols;
  const distances = new Float64Array(k);
  const indices = new Int32Array(k);
  let scanned = 0;
  for (let p = 0; p < probes; p++) {
    const row = p * step;
    scanned += tree.searchSquared(new Matrix(1, d, train.data.subarray(row * d, row * d + d)), k, { distances, indices }, row);
  }
  if (scanned / probes <= AUTO_PROBE_MAX_SCANNED) return kdTreeNeighborIndex(train, tree);
  return buildNeighborIndex('hnsw', train, seed, k);
}

function isChoice(value: unknown): value is NeighborIndexChoice {
  return typeof value === 'string' && (NEIGHBOR_INDEX_CHOICES as readonly string[]).includes(value);
}

/**
 * Splits the string option `index` off a detector's options (possibly straight from user JSON),
 * leaving the numeric options for resolveOptions. A bad value is a DetectorOptionError naming the
 * option and the allowed values.
 */
export function readIndexOption(algorithm: string, options: unknown): { index: NeighborIndexChoice; rest: unknown } {
  if (options === null || typeof options !== 'object' || Array.isArray(options) || !('index' in options)) {
    return { index: 'auto', rest: options };
  }
  const { index, ...rest } = options as Record<string, unknown>;
  if (index === undefined) return { index: 'auto', rest };
  if (!isChoice(index)) {
    const got = typeof index === 'string' ? JSON.stringify(index) : typeof index === 'number' ? String(index) : typeof index;
    throw new DetectorOptionError(
      `${algorithm}: option "index" must be one of ${NEIGHBOR_INDEX_CHOICES.map((c) => `"${c}"`).join(', ')}; got ${got}`,
      'index',
    );
  }
  return { index, rest };
}

/** A built index over one training matrix. */
export interface NeighborIndex {
  readonly kind: NeighborIndexKind;
  /** The training rows, in their original order (indices refer to them). */
  readonly train: Matrix;
  /** Model sections that rebuild it (none when it is rebuilt from the training rows). */
  readonly sections: readonly StateSection[];
  /**
   * k nearest training rows of each query row as SQUARED distances, sorted by (distance,
   * index); selfOffset ≥ 0 leaves query row i's own training row selfOffset + i out. Slots
   * no row reached at a finite distance hold index -1 (neighbors.ts fills them).
   */
  searchSquared(query: Matrix, k: number, out: { distances: Float64Array; indices: Int32Array }, selfOffset: number): void;
  /**
   * Every training row's k nearest other rows, as searchSquared(train, k, out, 0) gives them, when
   * the build already collected them (HNSW built with trainingK = k: see HnswIndex.build); false
   * when it did not. Once only: the lists are freed.
   */
  takeTrainingSquared?(k: number, out: { distances: Float64Array; indices: Int32Array }): boolean;
}

/**
 * Builds the index of `kind` over `train`; `seed` drives HNSW's levels. trainingK > 0 asks HNSW to
 * collect the training rows' trainingK nearest while it builds (takeTrainingSquared), which a fit
 * then needs no second search for.
 */
export function buildNeighborIndex(kind: NeighborIndexKind, train: Matrix, seed: number, trainingK = 0): NeighborIndex {
  switch (kind) {
    case 'kdtree':
      return kdTreeNeighborIndex(train, KdTreeIndex.build(train));
    case 'hnsw':
      return hnswNeighborIndex(train, HnswIndex.build(train, seed, trainingK));
    case 'brute':
      return {
        kind,
        train,
        sections: [],
        searchSquared: (query, k, out, selfOffset) => bruteForceSquared(train, query, k, out.distances, out.indices, selfOffset),
      };
  }
}

function kdTreeNeighborIndex(train: Matrix, tree: KdTreeIndex): NeighborIndex {
  return {
    kind: 'kdtree',
    train,
    sections: [],
    searchSquared: (query, k, out, selfOffset) => {
      tree.searchSquared(query, k, out, selfOffset);
    },
  };
}

function hnswNeighborIndex(train: Matrix, graph: HnswIndex): NeighborIndex {
  return {
    kind: 'hnsw',
    train,
    sections: [
      { name: 'hnswLevels', data: graph.levels },
      { name: 'hnswLinks0', data: graph.links0 },
      { name: 'hnswLinksUpper', data: graph.linksUpper },
    ],
    searchSquared: (query, k, out, selfOffset) => graph.searchSquared(query, k, out, selfOffset),
    takeTrainingSquared: (k, out) => graph.takeTrainingNeighbors(k, out),
  };
}

/**
 * The index a loaded model searches with: its settings' `index` (a model saved before indexes
 * existed has none and gets the exact KD-tree, so its scores do not change).
 */
export function neighborIndexFromState(state: DetectorState, train: Matrix): NeighborIndex {
  const kind = state.settings?.index ?? 'kdtree';
  if (kind === 'kdtree' || kind === 'brute') return buildNeighborIndex(kind, train, 0);
  if (kind !== 'hnsw') throw new DetectorInputError(`${state.algorithm}: invalid model state: unknown neighbour index "${kind}"`);
  try {
    return hnswNeighborIndex(
      train,
      HnswIndex.fromArrays(
        train,
        stateSection(state, 'hnswLevels', Uint8Array),
        stateSection(state, 'hnswLinks0', Int32Array),
        stateSection(state, 'hnswLinksUpper', Int32Array),
      ),
    );
  } catch (error) {
    if (error instanceof RangeError) throw new DetectorInputError(`${state.algorithm}: invalid model state: ${error.message}`);
    throw error;
  }
}
