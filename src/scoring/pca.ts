/**
 * PCA outlier detector with PyOD's semantics (pyod.models.pca.PCA, defaults weighted=True,
 * standardization=True, whiten=False, n_components=None, n_selected_components=None):
 *
 *   1. standardise X with the training mean and population standard deviation (StandardScaler);
 *   2. fit PCA on the standardised data: eigenvectors v_j and eigenvalues λ_j (descending) of
 *      its covariance, keeping the first nComponents (all = min(rows, cols));
 *   3. score(x) = Σ_{j ∈ selected} ‖z − v_j‖ / w_j, where z is the standardised row, the
 *      selected components are the last nSelectedComponents kept ones (smallest eigenvalues)
 *      and w_j = λ_j / Σλ (the explained variance ratio) when weighted, else 1.
 *
 * Note ‖z − v_j‖ is what PyOD computes (scipy's cdist between the row and the unit eigenvector
 * taken as a point), not the squared projection z·v_j: we reproduce PyOD's score exactly, so
 * ROC-AUCs are comparable with its benchmarks. Eigenvector signs follow scikit-learn
 * (largest-magnitude entry positive), which matters because ‖z − v‖ ≠ ‖z + v‖.
 *
 * Zero-eigenvalue policy: a component whose eigenvalue is ≤ 1e-10 × the largest one carries no
 * training variance (a constant column, or more columns than rows), so its weight would be 0 and
 * its direction is an arbitrary basis vector of the null space. Such components are left out of
 * the score — in PyOD they would divide by (nearly) zero and swamp every other term. They still
 * count towards nComponents and appear in `explainedVariance`. If no component is left (every
 * column constant), fit fails with a DetectorInputError.
 *
 * Stored sections: center, scale (the standardiser; identity when standardization is 0),
 * components (the scored eigenvectors, row-major), weights (their w_j), explainedVariance
 * (all eigenvalues of the kept components, for inspection).
 */
import {
  checkFitInput,
  checkScoreInput,
  Detector,
  DetectorInputError,
  DetectorOptionError,
  DetectorState,
  resolveOptions,
  ResolvedOptions,
  checkStateHeader,
  stateSection,
  predictInBlocks,
  RowSelection,
  selectExplainedRows,
} from './detector';
import { symmetricEigen } from './eigen';
import { Matrix } from './matrix';
import { Standardizer } from './standardizer';
import { thresholdFromContamination } from './threshold';

const ALGORITHM = 'pca';

export const PCA_OPTIONS = {
  /** Principal components to keep; 0 = all, min(rows, cols). */
  nComponents: { default: 0, min: 0, max: 1_000_000, integer: true },
  /** How many of the kept components (those with the smallest eigenvalues) score; 0 = all kept. */
  nSelectedComponents: { default: 0, min: 0, max: 1_000_000, integer: true },
  /** 1: divide each component's distance by its explained variance ratio (PyOD weighted=True); 0: don't. */
  weighted: { default: 1, min: 0, max: 1, integer: true },
  /** 1: z-score the columns with the training mean/std first (PyOD standardization=True); 0: raw. */
  standardization: { default: 1, min: 0, max: 1, integer: true },
  contamination: { default: 0.1, min: 0, max: 0.5, integer: false, exclusiveMin: true },
} as const;

export interface PcaOptions {
  nComponents?: number;
  nSelectedComponents?: number;
  weighted?: number;
  standardization?: number;
  contamination?: number;
}

export type PcaParams = ResolvedOptions<typeof PCA_OPTIONS>;

/** Eigenvalues at or below this fraction of the largest are treated as zero (see the file comment). */
export const PCA_ZERO_EIGENVALUE_TOLERANCE = 1e-10;

interface PcaModel {
  readonly center: Float64Array;
  readonly scale: Float64Array;
  /** m × d row-major: the scored components. */
  readonly components: Float64Array;
  /** m weights. */
  readonly weights: Float64Array;
  /** Eigenvalues of all kept components, descending. */
  readonly explainedVariance: Float64Array;
}

function scoreRows(model: PcaModel, X: Matrix, out: Float64Array): void {
  const { center, scale, components, weights } = model;
  const d = X.cols;
  const m = weights.length;
  const data = X.data;
  const z = new Float64Array(d);
  for (let r = 0; r < X.rows; r++) {
    const base = r * d;
    for (let c = 0; c < d; c++) z[c] = (data[base + c] - center[c]) / scale[c];
    let score = 0;
    for (let j = 0; j < m; j++) {
      const v = j * d;
      let squares = 0;
      for (let c = 0; c < d; c++) {
        const diff = z[c] - components[v + c];
        squares += diff * diff;
      }
      score += Math.sqrt(squares) / weights[j];
    }
    out[r] = score;
  }
}

/**
 * Each feature's share of the weighted distances the score sums: component j's term
 * ‖z − v_j‖ / w_j is split over features in proportion to (z_c − v_jc)², i.e. feature c gets
 * (z_c − v_jc)² / (‖z − v_j‖ · w_j), so the row's contributions sum to its score.
 */
function explainRows(model: PcaModel, X: Matrix, out: Float64Array): void {
  const { center, scale, components, weights } = model;
  const d = X.cols;
  const m = weights.length;
  const data = X.data;
  const z = new Float64Array(d);
  out.fill(0, 0, X.rows * d);
  for (let r = 0; r < X.rows; r++) {
    const base = r * d;
    for (let c = 0; c < d; c++) z[c] = (data[base + c] - center[c]) / scale[c];
    for (let j = 0; j < m; j++) {
      const v = j * d;
      let squares = 0;
      for (let c = 0; c < d; c++) {
        const diff = z[c] - components[v + c];
        squares += diff * diff;
      }
      // A row exactly on v_j has a zero term here: nothing to split.
      if (squares === 0) continue;
      const perSquare = 1 / (Math.sqrt(squares) * weights[j]);
      for (let c = 0; c < d; c++) {
        const diff = z[c] - components[v + c];
        out[base + c] += diff * diff * perSquare;
      }
    }
  }
}

export class Pca implements Detector {
  static readonly algorithm = ALGORITHM;
  readonly algorithm = ALGORITHM;

  private constructor(
    readonly nFeatures: number,
    readonly threshold: number,
    readonly params: PcaParams,
    private readonly model: PcaModel,
  ) {}

  /** Components used in the score (selected and with a non-zero eigenvalue). */
  get nScoredComponents(): number {
    return this.model.weights.length;
  }

  /** Eigenvalues of the standardised training covariance for the kept components, largest first (a copy). */
  get explainedVariance(): Float64Array {
    return Float64Array.from(this.model.explainedVariance);
  }

  static fit(X: Matrix, options?: PcaOptions): Pca {
    const params = resolveOptions(ALGORITHM, PCA_OPTIONS, options);
    checkFitInput(ALGORITHM, X);
    if (X.rows < 2) {
      throw new DetectorInputError(`${ALGORITHM}: cannot fit on 1 row; PCA needs at least 2 rows to estimate a covariance`);
    }
    const n = X.rows;
    const d = X.cols;
    const maxComponents = Math.min(n, d);
    const kept = params.nComponents === 0 ? maxComponents : params.nComponents;
    if (kept > maxComponents) {
      throw new DetectorOptionError(
        `${ALGORITHM}: option "nComponents" is ${kept} but the data allows at most min(rows, columns) = ${maxComponents}`,
        'nComponents',
      );
    }
    const selected = params.nSelectedComponents === 0 ? kept : params.nSelectedComponents;
    if (selected > kept) {
      throw new DetectorOptionError(
        `${ALGORITHM}: option "nSelectedComponents" is ${selected} but only ${kept} components are kept (nComponents)`,
        'nSelectedComponents',
      );
    }

    let center: Float64Array;
    let scale: Float64Array;
    if (params.standardization === 1) {
      const standardizer = Standardizer.fit(X, 'zscore');
      center = standardizer.center;
      scale = standardizer.scale;
    } else {
      center = new Float64Array(d);
      scale = new Float64Array(d).fill(1);
    }

    // Covariance (ddof 1, as scikit-learn's explained_variance_) of the standardised data,
    // centered on its own mean (≈ 0 after z-scoring, exactly as sklearn's PCA re-centers).
    const z = new Float64Array(d);
    const mean = new Float64Array(d);
    const data = X.data;
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < d; c++) mean[c] += (data[r * d + c] - center[c]) / scale[c];
    }
    for (let c = 0; c < d; c++) mean[c] /= n;
    const cov = new Float64Array(d * d);
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < d; c++) z[c] = (data[r * d + c] - center[c]) / scale[c] - mean[c];
      for (let i = 0; i < d; i++) {
        const zi = z[i];
        if (zi === 0) continue;
        const row = i * d;
        for (let j = i; j < d; j++) cov[row + j] += zi * z[j];
      }
    }
    for (let i = 0; i < d; i++) {
      for (let j = i; j < d; j++) {
        const value = cov[i * d + j] / (n - 1);
        cov[i * d + j] = value;
        cov[j * d + i] = value;
      }
    }
    const eigen = symmetricEigen(cov, d);
    const explainedVariance = new Float64Array(kept);
    for (let k = 0; k < kept; k++) explainedVariance[k] = Math.max(eigen.values[k], 0);
    // The explained variance ratio's denominator is the total variance, over all components.
    let totalVariance = 0;
    for (let k = 0; k < d; k++) totalVariance += Math.max(eigen.values[k], 0);
    const largest = explainedVariance[0];
    if (!(largest > 0)) {
      throw new DetectorInputError(`${ALGORITHM}: every column is constant in the training data; there is no variance to model`);
    }
    const scored: number[] = [];
    for (let k = kept - selected; k < kept; k++) {
      if (explainedVariance[k] > PCA_ZERO_EIGENVALUE_TOLERANCE * largest) scored.push(k);
    }
    if (scored.length === 0) {
      throw new DetectorInputError(
        `${ALGORITHM}: the ${selected} selected component(s) all have zero variance in the training data; ` +
          'raise nSelectedComponents or drop constant columns',
      );
    }
    const components = new Float64Array(scored.length * d);
    const weights = new Float64Array(scored.length);
    scored.forEach((k, j) => {
      components.set(eigen.vectors.subarray(k * d, k * d + d), j * d);
      weights[j] = params.weighted === 1 ? explainedVariance[k] / totalVariance : 1;
    });

    const model: PcaModel = { center, scale, components, weights, explainedVariance };
    const trainScores = new Float64Array(n);
    scoreRows(model, X, trainScores);
    const threshold = thresholdFromContamination(trainScores, params.contamination);
    return new Pca(d, threshold, params, model);
  }

  static fromState(state: DetectorState): Pca {
    checkStateHeader(state, ALGORITHM);
    const params = resolveOptions(ALGORITHM, PCA_OPTIONS, state.params);
    const d = state.nFeatures;
    const invalid = (why: string): never => {
      throw new DetectorInputError(`${ALGORITHM}: invalid model state: ${why}`);
    };
    const center = stateSection(state, 'center', Float64Array);
    const scale = stateSection(state, 'scale', Float64Array);
    const components = stateSection(state, 'components', Float64Array);
    const weights = stateSection(state, 'weights', Float64Array);
    const explainedVariance = stateSection(state, 'explainedVariance', Float64Array);
    // Reuse the standardiser's checks: finite centers, finite positive scales, matching lengths.
    Standardizer.fromArrays('zscore', center, scale);
    if (center.length !== d) invalid(`center has ${center.length} entries for ${d} features`);
    const m = weights.length;
    if (m === 0) invalid('no scored components');
    if (components.length !== m * d) invalid(`components has ${components.length} entries, expected ${m} × ${d}`);
    for (let i = 0; i < components.length; i++) if (!Number.isFinite(components[i])) invalid(`component entry ${i} is not finite`);
    for (let j = 0; j < m; j++) if (!(weights[j] > 0) || !Number.isFinite(weights[j])) invalid(`weight ${j} is ${weights[j]}`);
    if (explainedVariance.length < m) invalid(`explainedVariance has ${explainedVariance.length} entries for ${m} scored components`);
    return new Pca(d, state.threshold, params, { center, scale, components, weights, explainedVariance });
  }

  toState(): DetectorState {
    const { center, scale, components, weights, explainedVariance } = this.model;
    return {
      algorithm: this.algorithm,
      nFeatures: this.nFeatures,
      threshold: this.threshold,
      params: this.params,
      sections: [
        { name: 'center', data: center },
        { name: 'scale', data: scale },
        { name: 'components', data: components },
        { name: 'weights', data: weights },
        { name: 'explainedVariance', data: explainedVariance },
      ],
    };
  }

  score(X: Matrix, out?: Float64Array): Float64Array {
    checkScoreInput(this, X, out?.length);
    const scores = out ?? new Float64Array(X.rows);
    scoreRows(this.model, X, scores);
    return scores;
  }

  predict(X: Matrix, out?: Uint8Array): Uint8Array {
    return predictInBlocks(this, X, out);
  }

  /**
   * Each feature's share of the weighted reconstruction error: the score is
   * Σ_j ‖z − v_j‖ / w_j, and feature c receives (z_c − v_jc)² / (‖z − v_j‖ · w_j) from component
   * j, its share of that component's squared distance. The shares of each component add to 1, so
   * a row's contributions sum to its score (to rounding). All contributions are ≥ 0.
   */
  explain(X: Matrix, rows: RowSelection, out?: Float64Array): Float64Array {
    const selected = selectExplainedRows(this, X, rows, out?.length);
    const contributions = out ?? new Float64Array(selected.rows * this.nFeatures);
    explainRows(this.model, selected, contributions);
    return contributions;
  }
}
