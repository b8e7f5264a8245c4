/**
 * The neighbour index behind KNN and LOF, and how a detector chooses it.
 *
 *   'kdtree'  exact (kdTreeIndex.ts): the same k distances, bit for bit, and the same indices
 *             (ties to the lower training index) as brute force; fast while d is moderate.
 *   'hnsw'    approximate (hnswIndex.ts): a graph search, for many rows in high dimension.
 *   'brute'   exact blocked brute force (neighbors.ts), O(n_train) per query.
 *   'auto'    (the default) exact unless the training set is both large and high-dimensional:
 *             see chooseIndexKind.
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

/** Up to this many columns 'auto' takes the KD-tree whatever the size. */
export const AUTO_KDTREE_MAX_COLS = 24;
/** From this many training rows (and more than AUTO_KDTREE_MAX_COLS columns) 'auto' takes HNSW. */
export const AUTO_HNSW_MIN_ROWS = 50_000;
/** Below AUTO_HNSW_MIN_ROWS rows, beyond this many columns brute force beats the tree's pruning. */
export const AUTO_BRUTE_MIN_COLS = 48;

/**
 * What 'auto' resolves to for a training set of `rows` × `cols`: the KD-tree up to 24 columns
 * (exact and fast); beyond that, exact search while it stays tractable (under 50,000 rows: the
 * tree up to 48 columns, brute force above), else HNSW.
 */
export function chooseIndexKind(choice: NeighborIndexChoice, rows: number, cols: number): NeighborIndexKind {
  if (choice !== 'auto') return choice;
  if (cols <= AUTO_KDTREE_MAX_COLS) return 'kdtree';
  if (rows >= AUTO_HNSW_MIN_ROWS) return 'hnsw';
  return cols < AUTO_BRUTE_MIN_COLS ? 'kdtree' : 'brute';
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
}

/** Builds the index of `kind` over `train`; `seed` drives HNSW's levels. */
export function buildNeighborIndex(kind: NeighborIndexKind, train: Matrix, seed: number): NeighborIndex {
  switch (kind) {
    case 'kdtree': {
      const tree = KdTreeIndex.build(train);
      return { kind, train, sections: [], searchSquared: (query, k, out, selfOffset) => tree.searchSquared(query, k, out, selfOffset) };
    }
    case 'hnsw':
      return hnswNeighborIndex(train, HnswIndex.build(train, seed));
    case 'brute':
      return {
        kind,
        train,
        sections: [],
        searchSquared: (query, k, out, selfOffset) => bruteForceSquared(train, query, k, out.distances, out.indices, selfOffset),
      };
  }
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
