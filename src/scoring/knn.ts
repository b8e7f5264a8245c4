/**
 * k-nearest-neighbour outlier detection (Ramaswamy et al. 2000; Angiulli & Pizzuti 2002) with
 * PyOD's KNN semantics: a row's score is a summary of its Euclidean distances to its
 * nNeighbors (default 5) nearest training rows:
 *   'knn'         the distance to the k-th neighbour (PyOD method='largest', its default)
 *   'knn-mean'    the mean of the k distances          (method='mean')
 *   'knn-median'  the median of the k distances        (method='median')
 * Options are numbers only, so the method is part of the algorithm name.
 *
 * Training scores (which fix the threshold) leave each row out of its own neighbour list, as
 * PyOD's fit does; rows scored later are compared with every training row, so scoring a training
 * row again counts itself at distance 0 (PyOD's decision_function does the same).
 *
 * The model keeps its training rows and searches them through a neighbour index (option `index`:
 * 'auto', 'kdtree', 'hnsw' or 'brute'; see neighborIndex.ts; the exact ones give brute force's
 * scores bit for bit); the maxTrainRows option (see NEIGHBOR_TRAINING_OPTIONS) caps the rows with a
 * seeded uniform sample. Model sections: 'train' (float64, rows × nFeatures, row-major), plus the
 * HNSW graph's when that is the index; settings: { index: the kind fitted with }.
 */
import {
  checkFitInput,
  checkStateHeader,
  checkScoreInput,
  Detector,
  DetectorState,
  resolveOptions,
  ResolvedOptions,
  predictInBlocks,
  RowSelection,
  selectExplainedRows,
} from './detector';
import { Matrix } from './matrix';
import {
  checkTrainingScores,
  explainFromNeighborBlocks,
  fitNeighborIndex,
  NEIGHBOR_TRAINING_OPTIONS,
  neighborTrainingSet,
  resolveNeighborOptions,
  scoreFromNeighborBlocks,
  trainingNeighbors,
  trainingSetFromState,
} from './neighbors';
import { NeighborIndex, NeighborIndexChoice, NeighborIndexKind, neighborIndexFromState } from './neighborIndex';
import { thresholdFromContamination } from './threshold';

export type KnnMethod = 'largest' | 'mean' | 'median';

/** Registry name of each method. */
export const KNN_ALGORITHMS: Readonly<Record<KnnMethod, string>> = Object.freeze({
  largest: 'knn',
  mean: 'knn-mean',
  median: 'knn-median',
});

export const KNN_OPTIONS = {
  /** k, PyOD's n_neighbors. Must be less than the number of (kept) training rows. */
  nNeighbors: { default: 5, min: 1, max: 10_000, integer: true },
  ...NEIGHBOR_TRAINING_OPTIONS,
} as const;

export interface KnnOptions {
  nNeighbors?: number;
  contamination?: number;
  maxTrainRows?: number;
  seed?: number;
  /** The neighbour index (neighborIndex.ts); 'auto' by default. */
  index?: NeighborIndexChoice;
}

export type KnnParams = ResolvedOptions<typeof KNN_OPTIONS>;

function methodOf(algorithm: string): KnnMethod | undefined {
  for (const method of Object.keys(KNN_ALGORITHMS) as KnnMethod[]) {
    if (KNN_ALGORITHMS[method] === algorithm) return method;
  }
  return undefined;
}

/** Each row's score from its k ascending distances (row-major, `rows` rows) into out[0, rows). */
function summarise(method: KnnMethod, distances: Float64Array, k: number, rows: number, out: Float64Array): void {
  for (let r = 0; r < rows; r++) {
    const base = r * k;
    if (method === 'largest') {
      out[r] = distances[base + k - 1];
    } else if (method === 'mean') {
      let sum = 0;
      for (let p = base; p < base + k; p++) sum += distances[p];
      out[r] = sum / k;
    } else {
      // The list is sorted, so the median is its middle (numpy: mean of the two middles).
      const mid = base + (k >> 1);
      out[r] = k % 2 === 1 ? distances[mid] : (distances[mid - 1] + distances[mid]) / 2;
    }
  }
}

export class KNN implements Detector {
  readonly algorithm: string;

  private constructor(
    readonly method: KnnMethod,
    readonly nFeatures: number,
    readonly threshold: number,
    readonly params: KnnParams,
    /** The neighbour index over the kept training rows (read-only). */
    readonly index: NeighborIndex,
  ) {
    this.algorithm = KNN_ALGORITHMS[method];
  }

  /** Training rows kept in the model (≤ maxTrainRows). */
  get nTrainRows(): number {
    return this.index.train.rows;
  }

  /** The neighbour index the model searches with ('auto' resolved at fit time). */
  get indexKind(): NeighborIndexKind {
    return this.index.kind;
  }

  static fit(X: Matrix, options?: KnnOptions, method: KnnMethod = 'largest'): KNN {
    const algorithm = KNN_ALGORITHMS[method];
    if (algorithm === undefined) throw new RangeError(`unknown KNN method "${method}"`);
    const { params, index: choice } = resolveNeighborOptions(algorithm, KNN_OPTIONS, options);
    checkFitInput(algorithm, X);
    const train = neighborTrainingSet(algorithm, X, params);
    const k = params.nNeighbors;
    const index = fitNeighborIndex(choice, train, k, params.seed);
    const neighbors = trainingNeighbors(train, k, index);
    const trainScores = new Float64Array(train.rows);
    summarise(method, neighbors.distances, k, train.rows, trainScores);
    checkTrainingScores(algorithm, trainScores);
    const threshold = thresholdFromContamination(trainScores, params.contamination);
    return new KNN(method, X.cols, threshold, params, index);
  }

  static fromState(state: DetectorState): KNN {
    const method = methodOf(state.algorithm);
    checkStateHeader(state, 'knn', () => method !== undefined);
    const params = resolveOptions(state.algorithm, KNN_OPTIONS, state.params);
    const train = trainingSetFromState(state, params.nNeighbors);
    return new KNN(method!, state.nFeatures, state.threshold, params, neighborIndexFromState(state, train));
  }

  toState(): DetectorState {
    return {
      algorithm: this.algorithm,
      nFeatures: this.nFeatures,
      threshold: this.threshold,
      params: this.params,
      sections: [{ name: 'train', data: this.index.train.data }, ...this.index.sections],
      settings: { index: this.index.kind },
    };
  }

  score(X: Matrix, out?: Float64Array): Float64Array {
    checkScoreInput(this, X, out?.length);
    const scores = out ?? new Float64Array(X.rows);
    this.scoreRows(X, scores);
    return scores;
  }

  predict(X: Matrix, out?: Uint8Array): Uint8Array {
    return predictInBlocks(this, X, out);
  }

  /**
   * Each feature's share of the squared distance to the k nearest training rows, scaled so a row's
   * contributions sum to its score (to rounding); all are ≥ 0. The k rows set every method's
   * score: the k-th distance is the radius of the ball holding all k, the mean and the median
   * summarise the k distances. Splitting over all k, not the k-th (or middle) row alone, keeps the
   * attribution from resting on one neighbour's noise in the other features.
   */
  explain(X: Matrix, rows: RowSelection, out?: Float64Array): Float64Array {
    const selected = selectExplainedRows(this, X, rows, out?.length);
    const contributions = out ?? new Float64Array(selected.rows * this.nFeatures);
    const k = this.params.nNeighbors;
    explainFromNeighborBlocks(this.index, selected, k, 0, k, (distances, _indices, n, target) => summarise(this.method, distances, k, n, target), contributions);
    return contributions;
  }

  private scoreRows(X: Matrix, out: Float64Array): void {
    const k = this.params.nNeighbors;
    scoreFromNeighborBlocks(this.index, X, k, out, (distances, _indices, rows, target) => summarise(this.method, distances, k, rows, target));
  }
}
