import { ApplicationFailure } from '@temporalio/common';
import type { Model } from '../db/entities';
import type { DetectionPlan } from '../api/results';
import { DEFAULT_EXPLAIN_TOP, type ChunkFlagging, type JobFlagging, type ThresholdRule } from '../api/threshold';

/** What a job's input may say of how it flags and explains rows; the rest comes from its model. */
export interface FlaggingRequest {
  threshold?: ThresholdRule;
  explain?: number;
}

/** A job's rule as its row records it: the rule, its origin and the features explained per anomaly. */
export type ResolvedFlagging = ChunkFlagging & { ruleFrom: JobFlagging['ruleFrom'] };

/**
 * The job's rule: its own, else its model's, else the contamination threshold. An fdr rule the
 * model cannot honour (no calibration scores, or α below the smallest p-value they allow) is
 * refused before anything runs: no retry changes the model.
 */
export function resolveFlagging(model: Model, request: FlaggingRequest): ResolvedFlagging {
  const rule = request.threshold ?? model.thresholdRule ?? { method: 'contamination' };
  const ruleFrom = request.threshold ? 'job' : model.thresholdRule ? 'model' : 'default';
  if (rule.method === 'fdr') {
    const label = `${model.name}@${model.version}`;
    const n = model.metrics?.calibrationScores ?? 0;
    if (n === 0) {
      throw ApplicationFailure.nonRetryable(`threshold: model ${label} has no calibration scores (trained before they were kept), so the fdr rule cannot run on it: train it again, or choose another rule`, 'InvalidInput');
    }
    if (1 / (n + 1) > rule.alpha) {
      throw ApplicationFailure.nonRetryable(
        `threshold: alpha ${rule.alpha} is below the smallest p-value model ${label} can give (1/${n + 1} = ${(1 / (n + 1)).toPrecision(3)} with its ${n} calibration scores), so nothing could ever be flagged: choose alpha ≥ ${(1 / (n + 1)).toPrecision(3)} or train on more rows`,
        'InvalidInput',
      );
    }
  }
  return { rule, ruleFrom, explainTop: request.explain ?? DEFAULT_EXPLAIN_TOP };
}

/** What a detection job carries of its model and its data, uploaded dataset or pinned source alike. */
export function detectionPlan(
  jobId: string,
  model: Model,
  data: Pick<DetectionPlan, 'datasetId' | 'datasetKey' | 'datasetSha256' | 'idColumn' | 'format' | 'rows'>,
  flagging: ResolvedFlagging,
): DetectionPlan {
  return {
    jobId,
    modelId: model.id,
    modelName: model.name,
    modelVersion: model.version,
    modelArtifactKey: model.artifactKey,
    modelSha256: model.artifactSha256!,
    featureColumns: model.featureColumns,
    ...data,
    flagging: { rule: flagging.rule, explainTop: flagging.explainTop },
  };
}
