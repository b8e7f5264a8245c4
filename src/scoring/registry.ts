/**
 * Algorithm name → everything the platform needs to know about a detector: how to check its
 * options, fit it and rebuild it, whether trainModel's `seed` reaches it, whether it is offered
 * as an algorithm, and how many rows training keeps in memory for it. A new detector plugs in with
 * one class and one entry here; the workflow inputs, training, the codec and the docs read this list.
 */
import { Detector, DetectorOptionError, DetectorState, OptionSpecs, resolveOptions } from './detector';
import { IsolationForest, IsolationForestOptions, ISOLATION_FOREST_OPTIONS } from './isolationForest';
import { KNN, KNN_ALGORITHMS, KNN_OPTIONS, KnnOptions } from './knn';
import { LOF, LofOptions, LOF_OPTIONS } from './lof';
import { checkNeighborOptions, NEIGHBOR_TRAINING_OPTIONS, resolveNeighborOptions } from './neighbors';
import { Hbos, HbosOptions, HBOS_OPTIONS } from './hbos';
import { Ecod, EcodOptions, ECOD_OPTIONS } from './ecod';
import { Copod, CopodOptions, COPOD_OPTIONS } from './copod';
import { RobustZScore, RobustZScoreOptions, ROBUST_Z_SCORE_OPTIONS } from './robustZ';
import { Matrix } from './matrix';
import { Pca, PcaOptions, PCA_OPTIONS } from './pca';
import { Pipeline } from './pipeline';
import { Ensemble, EnsembleOptions } from './ensemble';
import { Imputed } from './imputer';
import { Encoded } from './encoder';
import { StandardizerKind } from './standardizer';

export interface DetectorFactory {
  readonly algorithm: string;
  /** trainModel's `seed` field seeds this detector too (its options include `seed`). */
  readonly takesSeed: boolean;
  /** Offered as trainModel's `algorithm`; the pipeline is not (trainModel offers it as `standardize`). */
  readonly trainable: boolean;
  /**
   * Rows trainModel keeps in memory to fit on, by default (a seeded reservoir sample while the
   * dataset streams, so memory does not grow with the dataset). `params` are the user's options.
   */
  trainingRows(params: Record<string, unknown>): number;
  /**
   * Throws the DetectorOptionError fit would throw for these options, without data or fitting,
   * so bad options are refused before anything is reserved. Pure and deterministic: workflow code runs it.
   */
  checkOptions(options: unknown): void;
  /** `options` may come straight from user JSON; the detector validates it. */
  fit(X: Matrix, options?: unknown): Detector;
  fromState(state: DetectorState): Detector;
}

/** Histograms, ECDFs, medians and covariances settle well before this many rows. */
const DEFAULT_TRAINING_ROWS = 100_000;

function numberOption(params: Record<string, unknown>, name: string, fallback: number): number {
  return typeof params[name] === 'number' ? (params[name] as number) : fallback;
}

/** A detector whose options are plain numeric specs. */
function plain(
  algorithm: string,
  specs: OptionSpecs,
  build: Pick<DetectorFactory, 'fit' | 'fromState'>,
  trainingRows: DetectorFactory['trainingRows'] = () => DEFAULT_TRAINING_ROWS,
): DetectorFactory {
  return {
    algorithm,
    takesSeed: 'seed' in specs,
    trainable: true,
    trainingRows,
    checkOptions: (options) => void resolveOptions(algorithm, specs, options),
    ...build,
  };
}

/** A neighbour detector keeps its training rows (maxTrainRows) and needs fewer neighbours than kept rows. */
function neighbor(algorithm: string, specs: typeof KNN_OPTIONS | typeof LOF_OPTIONS, build: Pick<DetectorFactory, 'fit' | 'fromState'>): DetectorFactory {
  return {
    ...plain(algorithm, specs, build, (params) => numberOption(params, 'maxTrainRows', NEIGHBOR_TRAINING_OPTIONS.maxTrainRows.default)),
    checkOptions: (options) => checkNeighborOptions(algorithm, resolveNeighborOptions(algorithm, specs, options).params),
  };
}

/** A detector made of others, fitted and rebuilt by name through this registry. */
function composite(
  algorithm: string,
  trainable: boolean,
  build: Pick<DetectorFactory, 'checkOptions' | 'fit' | 'fromState'>,
): DetectorFactory {
  return { algorithm, takesSeed: false, trainable, trainingRows: () => DEFAULT_TRAINING_ROWS, ...build };
}

// The casts are safe: fit checks every option at run time.
const entries: DetectorFactory[] = [
  plain(
    IsolationForest.algorithm,
    ISOLATION_FOREST_OPTIONS,
    { fit: (X, options) => IsolationForest.fit(X, options as IsolationForestOptions | undefined), fromState: (state) => IsolationForest.fromState(state) },
    // Enough rows to place the threshold as fit does (thresholdRows; 0 = all); each tree draws sampleSize of them.
    (params) => {
      const thresholdRows = numberOption(params, 'thresholdRows', ISOLATION_FOREST_OPTIONS.thresholdRows.default);
      return thresholdRows === 0 ? 1_000_000 : Math.max(thresholdRows, 1024);
    },
  ),
  // One KNN class under three names: the method (k-th / mean / median distance) is in the name.
  neighbor(KNN_ALGORITHMS.largest, KNN_OPTIONS, { fit: (X, options) => KNN.fit(X, options as KnnOptions | undefined, 'largest'), fromState: (state) => KNN.fromState(state) }),
  neighbor(KNN_ALGORITHMS.mean, KNN_OPTIONS, { fit: (X, options) => KNN.fit(X, options as KnnOptions | undefined, 'mean'), fromState: (state) => KNN.fromState(state) }),
  neighbor(KNN_ALGORITHMS.median, KNN_OPTIONS, { fit: (X, options) => KNN.fit(X, options as KnnOptions | undefined, 'median'), fromState: (state) => KNN.fromState(state) }),
  neighbor(LOF.algorithm, LOF_OPTIONS, { fit: (X, options) => LOF.fit(X, options as LofOptions | undefined), fromState: (state) => LOF.fromState(state) }),
  plain(Pca.algorithm, PCA_OPTIONS, { fit: (X, options) => Pca.fit(X, options as PcaOptions | undefined), fromState: (state) => Pca.fromState(state) }),
  composite(Pipeline.algorithm, false, {
    checkOptions: (options) => Pipeline.checkOptions(options, checkDetectorOptions),
    fit: (X, options) => Pipeline.fit(X, options, fitDetector),
    fromState: (state) => Pipeline.fromState(state, detectorFromState),
  }),
  // Offered through trainModel's `missing` field, fitted only when the training data had a missing value.
  composite(Imputed.algorithm, false, {
    checkOptions: (options) => Imputed.checkOptions(options, checkDetectorOptions),
    fit: (X, options) => Imputed.fit(X, options, fitDetector),
    fromState: (state) => Imputed.fromState(state, detectorFromState),
  }),
  // Offered through trainModel's `schema` and the dataset's column types, fitted only when a feature column is a category or a timestamp.
  composite(Encoded.algorithm, false, {
    checkOptions: (options) => Encoded.checkOptions(options, checkDetectorOptions),
    fit: (X, options) => Encoded.fit(X, options, fitDetector),
    fromState: (state) => Encoded.fromState(state, detectorFromState),
  }),
  composite(Ensemble.algorithm, true, {
    checkOptions: (options) => Ensemble.checkOptions(options, checkDetectorOptions),
    fit: (X, options) => Ensemble.fit(X, options, fitDetector),
    fromState: (state) => Ensemble.fromState(state, detectorFromState),
  }),
  plain(Hbos.algorithm, HBOS_OPTIONS, { fit: (X, options) => Hbos.fit(X, options as HbosOptions | undefined), fromState: (state) => Hbos.fromState(state) }),
  plain(Ecod.algorithm, ECOD_OPTIONS, { fit: (X, options) => Ecod.fit(X, options as EcodOptions | undefined), fromState: (state) => Ecod.fromState(state) }),
  plain(Copod.algorithm, COPOD_OPTIONS, { fit: (X, options) => Copod.fit(X, options as CopodOptions | undefined), fromState: (state) => Copod.fromState(state) }),
  plain(RobustZScore.algorithm, ROBUST_Z_SCORE_OPTIONS, {
    fit: (X, options) => RobustZScore.fit(X, options as RobustZScoreOptions | undefined),
    fromState: (state) => RobustZScore.fromState(state),
  }),
];

const factories: ReadonlyMap<string, DetectorFactory> = new Map(entries.map((entry) => [entry.algorithm, entry]));

export function supportedAlgorithms(): string[] {
  return [...factories.keys()];
}

/** The algorithms trainModel offers, in registry order. */
export function trainableAlgorithms(): string[] {
  return entries.filter((entry) => entry.trainable).map((entry) => entry.algorithm);
}

export function findDetectorFactory(algorithm: string): DetectorFactory | undefined {
  return factories.get(algorithm);
}

/** Like findDetectorFactory, but an unknown name is a user error naming the known ones. */
export function getDetectorFactory(algorithm: string): DetectorFactory {
  const factory = factories.get(algorithm);
  if (!factory) {
    throw new DetectorOptionError(
      `unknown algorithm "${algorithm}". Supported algorithms: ${supportedAlgorithms().join(', ')}`,
      'algorithm',
    );
  }
  return factory;
}

/** Throws the DetectorOptionError fitting `algorithm` with `options` would throw (an unknown algorithm included), without data. */
export function checkDetectorOptions(algorithm: string, options?: unknown): void {
  getDetectorFactory(algorithm).checkOptions(options);
}

export function fitDetector(algorithm: string, X: Matrix, options?: unknown): Detector {
  return getDetectorFactory(algorithm).fit(X, options);
}

/** Rebuilds any detector, plain or composite, from its (decoded) state. */
export function detectorFromState(state: DetectorState): Detector {
  return getDetectorFactory(state.algorithm).fromState(state);
}

/**
 * Fits `algorithm` behind a standardiser fitted on the same data:
 * fitPipeline('pca', X, { standardize: 'robust', options: { contamination: 0.05 } }).
 * Same as fitDetector('pipeline', X, { standardize, detector: { algorithm, options } }).
 */
export function fitPipeline(
  algorithm: string,
  X: Matrix,
  options: { standardize?: StandardizerKind; options?: unknown } = {},
): Pipeline {
  return Pipeline.fit(X, { standardize: options.standardize, detector: { algorithm, options: options.options } }, fitDetector);
}

/**
 * Fits every member on X and averages their normalised scores:
 * fitEnsemble(X, { members: [{ algorithm: 'isolation-forest' }, { algorithm: 'pca' }], normalization: 'ecdf' }).
 */
export function fitEnsemble(X: Matrix, options: EnsembleOptions): Ensemble {
  return Ensemble.fit(X, options, fitDetector);
}
