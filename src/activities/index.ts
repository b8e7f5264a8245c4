import { createAlertActivities } from './alertActivities';
import { createBackupActivities } from './backupActivities';
import { createBackupCheckActivities } from './backupCheckActivities';
import { createDatasetActivities } from './datasetActivities';
import { createDetectionActivities } from './detectionActivities';
import { createFitActivities } from './fitActivities';
import { createMaintenanceActivities } from './maintenanceActivities';
import { createRecoveryActivities } from './recoveryActivities';
import type { ActivityDeps } from './deps';
import { createScoreChunkActivities } from './scoreChunkActivity';
import { createSinkActivities } from './sinkActivities';
import { createSourceActivities } from './sourceActivities';
import { createTrainingActivities } from './trainingActivities';

/** I/O activities: registry, jobs, bookkeeping. They run on the `nomaly-control` queue. */
export function createControlActivities(deps: ActivityDeps) {
  return {
    ...createDatasetActivities(deps),
    ...createTrainingActivities(deps),
    ...createDetectionActivities(deps),
    ...createSourceActivities(deps),
    ...createSinkActivities(deps),
    ...createBackupActivities(deps),
    ...createBackupCheckActivities(deps),
    ...createRecoveryActivities(deps),
    ...createMaintenanceActivities(deps),
    ...createAlertActivities(deps),
  };
}

/** CPU activities: fit and score. They run on the `nomaly-scoring` queue, on as many workers as the load needs. */
export function createScoringActivities(deps: ActivityDeps) {
  return { ...createFitActivities(deps), ...createScoreChunkActivities(deps) };
}

export type ControlActivities = ReturnType<typeof createControlActivities>;
export type ScoringActivities = ReturnType<typeof createScoringActivities>;
export type { ActivityDeps } from './deps';
export type { DetectionAlert } from './alertActivities';
export type { BackupActivities, DumpSummary, FinishBackupResult, ModelsSummary, RetentionResult } from './backupActivities';
export type { RecoveryActivities, FinishRecoveryResult, ResolvedBackup, VerifiedBackup } from './recoveryActivities';
export type { DatasetSummary, RegisterDatasetInput } from './datasetActivities';
export type { DetectionPlan, DetectionSummary, TopAnomaly } from './detectionActivities';
export type { FitModelInput, FitModelResult } from './fitActivities';
export type { ScoreChunkInput, ScoreChunkResult } from './scoreChunkActivity';
export type { ModelVersionPlan } from './trainingActivities';
export { datasetIdFor } from './datasetActivities';
