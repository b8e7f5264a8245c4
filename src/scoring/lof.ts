/**
 * Local Outlier Factor (Breunig et al. 2000) with scikit-learn's LocalOutlierFactor semantics,
 * as PyOD's LOF wraps it (novelty mode, Euclidean, nNeighbors = 20 by default):
 *
 *   k-distance(o)     distance from training row o to its k-th nearest other training row
 *   reach(p, o)       max(d(p, o), k-distance(o))
 *   lrd(p)            1 / (mean of reach(p, o) over p's k nearest training rows + 1e-10)
 *   LOF(p)            mean over those rows o of lrd(o) / lrd(p)
 *
 * Training rows are left out of their own neighbour lists (their LOFs are the training scores
 * that fix the threshold: PyOD's decision_scores_ = -negative_outlier_factor_). A row scored
 * later is a new point: its k nearest training rows are all candidates, so scoring a training row
 * again counts itself at distance 0, exactly like PyOD's decision_function (= -score_samples).
 * About 1 is an inlier; clearly above 1 sits in a sparser region than its neighbours. The 1e-10
 * (scikit-learn's) keeps duplicates finite: more than k identical rows get lrd 1e10.
 *
 * Ties between equally distant neighbours go to the lower training index (scikit-learn leaves
 * them to its tree or sort, so LOF values can differ from it on data with ties).
 *
 * The model keeps its training rows with their k-distance and lrd, everything scoring needs, and
 * searches them through a neighbour index (option `index`, as KNN's; see neighborIndex.ts); the
 * maxTrainRows option (see NEIGHBOR_TRAINING_OPTIONS) caps the rows with a seeded uniform sample.
 * Model sections: 'train' (float64, rows × nFeatures), 'kDistance' and 'lrd' (float64, one per row),
 * plus the HNSW graph's when that is the index; settings: { index: the kind fitted with }.
 */
import {
  checkFitInput,
  checkScoreInput,
  Detector,
  DetectorInputError,
  DetectorState,
  resolveOptions,
  ResolvedOptions,
  checkStateHeader,
  stateSection,
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

const ALGORITHM = 'lof';

export const LOF_OPTIONS = {
  /** k, PyOD's / scikit-learn's n_neighbors. Must be less than the number of (kept) training rows. */
  nNeighbors: { default: 20, min: 1, max: 10_000, integer: true },
  ...NEIGHBOR_TRAINING_OPTIONS,
} as const;

export interface LofOptions {
  nNeighbors?: number;
  contamination?: number;
  maxTrainRows?: number;
  seed?: number;
  /** The neighbour index (neighborIndex.ts); 'auto' by default. */
  index?: NeighborIndexChoice;
}

export type LofParams = ResolvedOptions<typeof LOF_OPTIONS>;

/** scikit-learn's guard against division by zero in the reachability density. */
const LRD_EPSILON = 1e-10;

/**
 * LOF of `rows` rows from their neighbour lists among the training rows (row-major, k per row)
 * into out[0, rows), given the training rows' k-distance and lrd.
 */
function localOutlierFactors(
  distances: Float64Array,
  indices: Int32Array,
  k: number,
  rows: number,
  kDistance: Float64Array,
  lrd: Float64Array,
  out: Float64Array,
): void {
  for (let r = 0; r < rows; r++) {
    const base = r * k;
    let reach = 0;
    for (let p = base; p < base + k; p++) {
      const o = indices[p];
      reach += Math.max(distances[p], kDistance[o]);
    }
    const rowLrd = 1 / (reach / k + LRD_EPSILON);
    let ratios = 0;
    for (let p = base; p < base + k; p++) ratios += lrd[indices[p]] / rowLrd;
    out[r] = ratios / k;
  }
}

export class LOF implements Detector {
  static readonly algorithm = ALGORITHM;
  readonly algorithm = ALGORITHM;

  private constructor(
    readonly nFeatures: number,
    readonly threshold: number,
    readonly params: LofParams,
    /** The neighbour index over the kept training rows (read-only). */
    readonly index: NeighborIndex,
    private readonly kDistance: Float64Array,
    private readonly lrd: Float64Array,
  ) {}

  /** Training rows kept in the model (≤ maxTrainRows). */
  get nTrainRows(): number {
    return this.index.train.rows;
  }

  /** The neighbour index the model searches with ('auto' resolved at fit time). */
  get indexKind(): NeighborIndexKind {
    return this.index.kind;
  }

  static fit(X: Matrix, options?: LofOptions): LOF {
    const { params, index: choice } = resolveNeighborOptions(ALGORITHM, LOF_OPTIONS, options);
    checkFitInput(ALGORITHM, X);
    const train = neighborTrainingSet(ALGORITHM, X, params);
    const k = params.nNeighbors;
    const n = train.rows;
    const index = fitNeighborIndex(choice, train, k, params.seed);
    const { distances, indices } = trainingNeighbors(train, k, index);
    const kDistance = new Float64Array(n);
    for (let i = 0; i < n; i++) kDistance[i] = distances[i * k + k - 1];
    const lrd = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let reach = 0;
      for (let p = i * k; p < i * k + k; p++) reach += Math.max(distances[p], kDistance[indices[p]]);
      lrd[i] = 1 / (reach / k + LRD_EPSILON);
    }
    const trainScores = new Float64Array(n);
    localOutlierFactors(distances, indices, k, n, kDistance, lrd, trainScores);
    checkTrainingScores(ALGORITHM, trainScores);
    const threshold = thresholdFromContamination(trainScores, params.contamination);
    return new LOF(X.cols, threshold, params, index, kDistance, lrd);
  }

  static fromState(state: DetectorState): LOF {
    checkStateHeader(state, ALGORITHM);
    const params = resolveOptions(ALGORITHM, LOF_OPTIONS, state.params);
    const train = trainingSetFromState(state, params.nNeighbors);
    const kDistance = stateSection(state, 'kDistance', Float64Array);
    const lrd = stateSection(state, 'lrd', Float64Array);
    const fail = (why: string): never => {
      throw new DetectorInputError(`${ALGORITHM}: invalid model state: ${why}`);
    };
    if (kDistance.length !== train.rows || lrd.length !== train.rows) {
      fail(`"kDistance" and "lrd" must hold one value per training row (${train.rows}); got ${kDistance.length} and ${lrd.length}`);
    }
    for (let i = 0; i < train.rows; i++) {
      if (!(kDistance[i] >= 0 && kDistance[i] < Infinity)) fail(`kDistance ${i} is ${kDistance[i]}`);
      if (!(lrd[i] > 0 && lrd[i] < Infinity)) fail(`lrd ${i} is ${lrd[i]}`);
    }
    return new LOF(state.nFeatures, state.threshold, params, neighborIndexFromState(state, train), kDistance, lrd);
  }

  toState(): DetectorState {
    return {
      algorithm: this.algorithm,
      nFeatures: this.nFeatures,
      threshold: this.threshold,
      params: this.params,
      sections: [
        { name: 'train', data: this.index.train.data },
        { name: 'kDistance', data: this.kDistance },
        { name: 'lrd', data: this.lrd },
        ...this.index.sections,
      ],
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
   * Each feature's share of the squared distance to the row's k nearest training rows (the
   * neighbours its reachability density, hence its LOF, is computed from), scaled so a row's
   * contributions sum to its LOF (to rounding). All contributions are ≥ 0.
   */
  explain(X: Matrix, rows: RowSelection, out?: Float64Array): Float64Array {
    const selected = selectExplainedRows(this, X, rows, out?.length);
    const contributions = out ?? new Float64Array(selected.rows * this.nFeatures);
    const k = this.params.nNeighbors;
    explainFromNeighborBlocks(this.index, selected, k, 0, k, (distances, indices, n, target) => localOutlierFactors(distances, indices, k, n, this.kDistance, this.lrd, target), contributions);
    return contributions;
  }

  private scoreRows(X: Matrix, out: Float64Array): void {
    const k = this.params.nNeighbors;
    scoreFromNeighborBlocks(this.index, X, k, out, (distances, indices, rows, target) => localOutlierFactors(distances, indices, k, rows, this.kDistance, this.lrd, target));
  }
}
