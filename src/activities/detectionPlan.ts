import type { Model } from '../db/entities';
import type { DetectionPlan } from '../api/results';

/** What a detection job carries of its model and its data, uploaded dataset or pinned source alike. */
export function detectionPlan(jobId: string, model: Model, data: Pick<DetectionPlan, 'datasetId' | 'datasetKey' | 'datasetSha256' | 'idColumn' | 'format' | 'rows'>): DetectionPlan {
  return {
    jobId,
    modelId: model.id,
    modelName: model.name,
    modelVersion: model.version,
    modelArtifactKey: model.artifactKey,
    modelSha256: model.artifactSha256!,
    featureColumns: model.featureColumns,
    ...data,
  };
}
