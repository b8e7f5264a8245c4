import { ApplicationFailure, CancellationScope, defineQuery, isCancellation, patched, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { control, fitting, planning } from './activityOptions';
import { validateTrainModelInput, type TrainModelInput, type ValidTrainModelInput } from '../api/inputs';
import { rootCauseMessage } from '../api/rootCause';
import { SEARCH_ATTRIBUTES } from '../api/searchAttributes';

export interface TrainModelResult {
  modelId: number;
  modelName: string;
  version: number;
  status: string;
  algorithm: string;
  threshold: number;
  trainRows: number;
  artifactKey: string;
  artifactSha256: string;
  metrics: Record<string, number>;
  durationMs: number;
  codeVersion: string;
}

export type TrainingPhase = 'validating' | 'pinning' | 'reserving-version' | 'fitting' | 'registering' | 'completed' | 'failed' | 'cancelled';
export const trainingPhaseQuery = defineQuery<{ phase: TrainingPhase }>('progress');

/**
 * Runs from before these patches checked detector options at the start (they found bad ones at
 * fit time), and left NomalyJobStatus at `running` when the input or the version reservation
 * failed (and `failed`, with the version `training`, when cancelled); they replay as they ran.
 */
const CHECKS_DETECTOR_OPTIONS = 'train-checks-detector-options';
const FINAL_STATUS_ON_EVERY_PATH = 'train-final-status-on-every-path';
/** Runs from before sources had inferred column types refused a source without chosen features. */
const SOURCE_FEATURES_INFERRED = 'train-source-features-inferred';

/** The training window's data, pinned once: the model's lineage names this snapshot. */
async function pinTrainingSource(source: NonNullable<ValidTrainModelInput['source']>) {
  const { spec, window, timeZone } = source;
  // With the columns' types (an optional field of the input: the command sequence is unchanged).
  const pinned = await planning.pinSource({ jobId: workflowInfo().workflowId, source: spec, window, timeZone, inferTypes: true });
  if (pinned.rows === 0) throw ApplicationFailure.nonRetryable(`no rows to train on in ${pinned.location} for ${window.start} – ${window.end}`, 'NoData');
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.dataset, value: `snap_${pinned.snapshotSha256.slice(0, 16)}` }]);
  const lineage = { source: spec, window, timeZone, location: pinned.location, snapshot: { key: pinned.snapshotKey, sha256: pinned.snapshotSha256, objects: pinned.objects, rows: pinned.rows } };
  return { pinned, lineage };
}

/** The job's final status for the error it ended with, in NomalyJobStatus. */
function recordEnd(err: unknown): 'failed' | 'cancelled' {
  const status = isCancellation(err) ? 'cancelled' : 'failed';
  if (patched(FINAL_STATUS_ON_EVERY_PATH)) upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.jobStatus, value: status }]);
  return status;
}

/** Dataset → fitted detector → artifact in MinIO → registry row. */
export async function trainModel(rawInput: TrainModelInput): Promise<TrainModelResult> {
  let phase: TrainingPhase = 'validating';
  setHandler(trainingPhaseQuery, () => ({ phase }));
  let input: ValidTrainModelInput;
  try {
    input = validateTrainModelInput(rawInput, { detectorOptions: patched(CHECKS_DETECTOR_OPTIONS), sourceFeaturesRequired: !patched(SOURCE_FEATURES_INFERRED) });
  } catch (err) {
    phase = recordEnd(err);
    throw err;
  }
  const started = Date.now();
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.model, value: input.modelName },
    ...(input.datasetId ? [{ key: SEARCH_ATTRIBUTES.dataset, value: input.datasetId }] : []),
    { key: SEARCH_ATTRIBUTES.jobStatus, value: 'running' },
  ]);

  let snapshot;
  if (input.source) {
    phase = 'pinning';
    try {
      snapshot = await pinTrainingSource(input.source);
    } catch (err) {
      phase = recordEnd(err);
      throw err;
    }
  }
  phase = 'reserving-version';
  const plan = await control
    .createModelVersion({
      trainingWorkflowId: workflowInfo().workflowId,
      modelName: input.modelName,
      ...(input.datasetId ? { datasetId: input.datasetId } : { snapshot }),
      algorithm: input.algorithm,
      params: input.params,
      featureColumns: input.featureColumns,
      ...(input.exclude ? { exclude: input.exclude } : {}),
      ...(input.schema ? { schema: input.schema } : {}),
      ...(input.timestamps ? { timestamps: input.timestamps } : {}),
      ...(input.threshold ? { thresholdRule: input.threshold } : {}),
    })
    .catch((err: unknown) => {
      // An unknown dataset or feature column (nothing reserved), or a cancel: the job has ended.
      phase = recordEnd(err);
      throw err;
    });
  try {
    phase = 'fitting';
    const fit = await fitting.fitModel({
      datasetKey: plan.datasetKey,
      datasetSha256: plan.datasetSha256,
      datasetFormat: plan.datasetFormat,
      featureColumns: plan.featureColumns,
      labelColumn: plan.labelColumn,
      ...(plan.cellTypes ? { cellTypes: plan.cellTypes } : {}),
      ...(plan.cellTypes && (input.timeZone ?? input.source?.timeZone) ? { timeZone: input.timeZone ?? input.source?.timeZone } : {}),
      algorithm: input.algorithm,
      params: input.params,
      standardize: input.standardize,
      ...(input.missing ? { missing: input.missing } : {}),
      artifactKey: plan.artifactKey,
      seed: input.seed,
      maxTrainRows: input.maxTrainRows,
    });
    phase = 'registering';
    const durationMs = Date.now() - started;
    const { status } = await control.completeModelVersion({
      modelId: plan.modelId,
      artifactSha256: fit.artifactSha256,
      threshold: fit.threshold,
      trainRows: fit.trainRows,
      params: fit.params,
      metrics: fit.metrics,
      durationMs,
      codeVersion: fit.codeVersion,
    });
    phase = 'completed';
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.jobStatus, value: 'completed' }]);
    return {
      modelId: plan.modelId,
      modelName: input.modelName,
      version: plan.version,
      status,
      algorithm: input.algorithm,
      threshold: fit.threshold,
      trainRows: fit.trainRows,
      artifactKey: plan.artifactKey,
      artifactSha256: fit.artifactSha256,
      metrics: fit.metrics,
      durationMs,
      codeVersion: fit.codeVersion,
    };
  } catch (err) {
    if (!patched(FINAL_STATUS_ON_EVERY_PATH)) {
      phase = 'failed';
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.jobStatus, value: 'failed' }]);
      await control.failModelVersion({ modelId: plan.modelId, error: rootCauseMessage(err) });
      throw err;
    }
    // Recorded even when the workflow itself is being cancelled: the reserved version must not stay `training`.
    await CancellationScope.nonCancellable(async () => {
      phase = recordEnd(err);
      await control.failModelVersion({ modelId: plan.modelId, error: rootCauseMessage(err) });
    });
    throw err;
  }
}
