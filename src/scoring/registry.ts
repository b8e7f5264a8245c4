/**
 * Algorithm name → how to fit it and how to rebuild it from a decoded model file.
 * A new detector plugs in with one entry here; the codec and the activities stay untouched.
 */
import { Detector, DetectorOptionError, DetectorState, OptionSpecs, resolveOptions } from './detector';
import { IsolationForest, IsolationForestOptions, ISOLATION_FOREST_OPTIONS } from './isolationForest';
import { KNN, KNN_ALGORITHMS, KNN_OPTIONS, KnnOptions } from './knn';
import { LOF, LofOptions, LOF_OPTIONS } from './lof';
import { checkNeighborOptions, resolveNeighborOptions } from './neighbors';
import { Hbos, HbosOptions, HBOS_OPTIONS } from './hbos';
import { Ecod, EcodOptions, ECOD_OPTIONS } from './ecod';
import { Copod, CopodOptions, COPOD_OPTIONS } from './copod';
import { RobustZScore, RobustZScoreOptions, ROBUST_Z_SCORE_OPTIONS } from './robustZ';
import { Matrix } from './matrix';
import { Pca, PcaOptions, PCA_OPTIONS } from './pca';
import { Pipeline } from './pipeline';
import { Ensemble, EnsembleOptions } from './ensemble';
import { StandardizerKind } from './standardizer';

export interface DetectorFactory {
  readonly algorithm: string;
  /**
   * Throws the DetectorOptionError fit would throw for these options, without data or fitting,
   * so bad options are refused before anything is reserved. Pure and deterministic: workflow code runs it.
   */
  checkOptions(options: unknown): void;
  /** `options` may come straight from user JSON; the detector validates it. */
  fit(X: Matrix, options?: unknown): Detector;
  fromState(state: DetectorState): Detector;
}

/** A plain detector's options are its numeric specs. */
function specsCheck(algorithm: string, specs: OptionSpecs): (options: unknown) => void {
  return (options) => void resolveOptions(algorithm, specs, options);
}

/** Neighbour detectors also need fewer neighbours than kept rows. */
function neighborCheck(algorithm: string, specs: typeof KNN_OPTIONS | typeof LOF_OPTIONS): (options: unknown) => void {
  return (options) => checkNeighborOptions(algorithm, resolveNeighborOptions(algorithm, specs, options).params);
}

const factories: ReadonlyMap<string, DetectorFactory> = new Map<string, DetectorFactory>([
  [
    IsolationForest.algorithm,
    {
      algorithm: IsolationForest.algorithm,
      checkOptions: specsCheck(IsolationForest.algorithm, ISOLATION_FOREST_OPTIONS),
      // The cast is safe: fit checks every option at run time.
      fit: (X, options) => IsolationForest.fit(X, options as IsolationForestOptions | undefined),
      fromState: (state) => IsolationForest.fromState(state),
    },
  ],
  // One KNN class under three names: the method (k-th / mean / median distance) is in the name.
  [
    KNN_ALGORITHMS.largest,
    {
      algorithm: KNN_ALGORITHMS.largest,
      checkOptions: neighborCheck(KNN_ALGORITHMS.largest, KNN_OPTIONS),
      fit: (X, options) => KNN.fit(X, options as KnnOptions | undefined, 'largest'),
      fromState: (state) => KNN.fromState(state),
    },
  ],
  [
    KNN_ALGORITHMS.mean,
    {
      algorithm: KNN_ALGORITHMS.mean,
      checkOptions: neighborCheck(KNN_ALGORITHMS.mean, KNN_OPTIONS),
      fit: (X, options) => KNN.fit(X, options as KnnOptions | undefined, 'mean'),
      fromState: (state) => KNN.fromState(state),
    },
  ],
  [
    KNN_ALGORITHMS.median,
    {
      algorithm: KNN_ALGORITHMS.median,
      checkOptions: neighborCheck(KNN_ALGORITHMS.median, KNN_OPTIONS),
      fit: (X, options) => KNN.fit(X, options as KnnOptions | undefined, 'median'),
      fromState: (state) => KNN.fromState(state),
    },
  ],
  [
    LOF.algorithm,
    {
      algorithm: LOF.algorithm,
      checkOptions: neighborCheck(LOF.algorithm, LOF_OPTIONS),
      fit: (X, options) => LOF.fit(X, options as LofOptions | undefined),
      fromState: (state) => LOF.fromState(state),
    },
  ],
  [
    Pca.algorithm,
    {
      algorithm: Pca.algorithm,
      checkOptions: specsCheck(Pca.algorithm, PCA_OPTIONS),
      fit: (X, options) => Pca.fit(X, options as PcaOptions | undefined),
      fromState: (state) => Pca.fromState(state),
    },
  ],
  // Composites fit and rebuild their children by name through this registry.
  [
    Pipeline.algorithm,
    {
      algorithm: Pipeline.algorithm,
      checkOptions: (options) => Pipeline.checkOptions(options, checkDetectorOptions),
      fit: (X, options) => Pipeline.fit(X, options, fitDetector),
      fromState: (state) => Pipeline.fromState(state, detectorFromState),
    },
  ],
  [
    Ensemble.algorithm,
    {
      algorithm: Ensemble.algorithm,
      checkOptions: (options) => Ensemble.checkOptions(options, checkDetectorOptions),
      fit: (X, options) => Ensemble.fit(X, options, fitDetector),
      fromState: (state) => Ensemble.fromState(state, detectorFromState),
    },
  ],
  [
    Hbos.algorithm,
    {
      algorithm: Hbos.algorithm,
      checkOptions: specsCheck(Hbos.algorithm, HBOS_OPTIONS),
      fit: (X, options) => Hbos.fit(X, options as HbosOptions | undefined),
      fromState: (state) => Hbos.fromState(state),
    },
  ],
  [
    Ecod.algorithm,
    {
      algorithm: Ecod.algorithm,
      checkOptions: specsCheck(Ecod.algorithm, ECOD_OPTIONS),
      fit: (X, options) => Ecod.fit(X, options as EcodOptions | undefined),
      fromState: (state) => Ecod.fromState(state),
    },
  ],
  [
    Copod.algorithm,
    {
      algorithm: Copod.algorithm,
      checkOptions: specsCheck(Copod.algorithm, COPOD_OPTIONS),
      fit: (X, options) => Copod.fit(X, options as CopodOptions | undefined),
      fromState: (state) => Copod.fromState(state),
    },
  ],
  [
    RobustZScore.algorithm,
    {
      algorithm: RobustZScore.algorithm,
      checkOptions: specsCheck(RobustZScore.algorithm, ROBUST_Z_SCORE_OPTIONS),
      fit: (X, options) => RobustZScore.fit(X, options as RobustZScoreOptions | undefined),
      fromState: (state) => RobustZScore.fromState(state),
    },
  ],
]);

export function supportedAlgorithms(): string[] {
  return [...factories.keys()];
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
