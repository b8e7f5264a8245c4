/** The scoring core's public API: pure typed-array code with no I/O. */
export { Matrix } from './matrix';
export { SeededRandom } from './random';
export {
  checkFitInput,
  checkScoreInput,
  DetectorInputError,
  DetectorOptionError,
  resolveOptions,
  selectExplainedRows,
  stateSection,
} from './detector';
export type {
  Detector,
  DetectorState,
  NumericOptionSpec,
  OptionSpecs,
  ResolvedOptions,
  RowSelection,
  SectionArray,
  StateSection,
} from './detector';
export { thresholdFromContamination } from './threshold';
export { averagePathLength, IsolationForest, ISOLATION_FOREST_OPTIONS } from './isolationForest';
export type { IsolationForestOptions, IsolationForestParams } from './isolationForest';
export {
  findNearestNeighbors,
  NEIGHBOR_TRAINING_OPTIONS,
  nearestNeighbors,
  neighborTrainingSet,
  sampleRowIndices,
  trainingNeighbors,
} from './neighbors';
export type { NeighborLists, NeighborSearchOptions } from './neighbors';
export { KNN, KNN_ALGORITHMS, KNN_OPTIONS } from './knn';
export type { KnnMethod, KnnOptions, KnnParams } from './knn';
export { LOF, LOF_OPTIONS } from './lof';
export type { LofOptions, LofParams } from './lof';
export { symmetricEigen } from './eigen';
export type { SymmetricEigen } from './eigen';
export { Pca, PCA_OPTIONS, PCA_ZERO_EIGENVALUE_TOLERANCE } from './pca';
export type { PcaOptions, PcaParams } from './pca';
export { isStandardizerKind, Standardizer, STANDARDIZER_KINDS } from './standardizer';
export type { StandardizerKind } from './standardizer';
export { parseNestedDetector, Pipeline, PIPELINE_BLOCK_ROWS, rethrowNested } from './pipeline';
export type { FitByName, PipelineOptions, RebuildDetector } from './pipeline';
export { Ensemble, ENSEMBLE_MAX_MEMBERS, ENSEMBLE_NORMALIZATIONS, ENSEMBLE_OPTIONS } from './ensemble';
export type { EnsembleMemberSpec, EnsembleNormalization, EnsembleOptions, EnsembleParams } from './ensemble';
export { Hbos, HBOS_OPTIONS } from './hbos';
export type { HbosHistograms, HbosOptions, HbosParams } from './hbos';
export { Ecod, ECOD_OPTIONS } from './ecod';
export type { EcodOptions, EcodParams } from './ecod';
export { Copod, COPOD_OPTIONS } from './copod';
export type { CopodOptions, CopodParams } from './copod';
export { MAD_TO_SD, MEAN_AD_TO_SD, RobustZScore, ROBUST_Z_SCORE_OPTIONS } from './robustZ';
export type { RobustZScoreOptions, RobustZScoreParams } from './robustZ';
export { averagePrecision, rocAuc } from './metrics';
export { checkFdrLevel, conformalFdrCutoff, conformalPValues, sortCalibrationScores, tallyPValues } from './conformal';
export { benjaminiHochberg } from './benjaminiHochberg';
export type { BenjaminiHochbergResult } from './benjaminiHochberg';
export { maxAlerts } from './maxAlerts';
export type { MaxAlertsResult } from './maxAlerts';
export {
  detectorFromState,
  fitDetector,
  fitEnsemble,
  fitPipeline,
  findDetectorFactory,
  getDetectorFactory,
  supportedAlgorithms,
} from './registry';
export type { DetectorFactory } from './registry';
export { decodeModel, encodeModel, MAX_MODEL_DEPTH, MODEL_FORMAT_VERSION, ModelCodecError } from './codec';
export type { ModelCodecErrorReason } from './codec';
