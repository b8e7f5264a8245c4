import { Context } from '@temporalio/activity';
import { SNAPSHOT_FORMAT } from '../data/formats/snapshot';
import { DetectionInputMissingError, findScoredRun, openSourceJob, resolveDetectionModel } from '../db/detectionJobs';
import { ConfigError } from '../config';
import { pinSource, type PinnedSource } from '../sources/pinSource';
import { runKey } from '../sources/runKey';
import { SourceError } from '../sources/sourceError';
import { sourceStores } from '../sources/stores';
import { UnknownConnectionError } from '../sources/connections';
import { SourceAuthError, SourceQueryError } from '../sources/postgresExtract';
import type { SourceSpec } from '../api/sourceInput';
import type { JobWindow } from '../api/window';
import type { DetectionPlan, SourceRunOutcome } from '../api/results';
import type { ActivityDeps } from './deps';
import { detectionPlan, resolveFlagging, type FlaggingRequest } from './detectionPlan';
import { ACTIVITY_ERRORS, failFastOnPermanent, notFound, type PermanentErrors } from './failures';

export type { PinnedSource };

export interface PinSourceInput {
  jobId: string;
  source: SourceSpec;
  window: JobWindow;
  timeZone: string;
  /** Infer the columns' types too (training; absent in detection and in older histories). */
  inferTypes?: boolean;
}

export interface StartSourceJobInput extends PinSourceInput, FlaggingRequest {
  model: string;
  pinned: PinnedSource;
}

/** What starting a job over a source decided: score it (with the plan), or it is already final. */
export type SourceJobStart = { plan: DetectionPlan; runKey: string } | SourceRunOutcome;

/** Errors no retry fixes: the source's configuration, its credentials, its query, its files. */
const SOURCE_ERRORS: PermanentErrors = {
  named: [...ACTIVITY_ERRORS.named, SourceError, UnknownConnectionError, SourceAuthError, SourceQueryError, ConfigError],
};

export function createSourceActivities({ orm, store, config, metrics }: ActivityDeps) {
  const storeOf = sourceStores(config, store);
  return {
    /**
     * Pins the source for the window (src/sources/pinSource.ts): lists and fingerprints its
     * objects, or extracts its query once. Heartbeats as it reads; a retry pins again, and
     * the same data gives the same snapshot. For training, the columns' types too.
     */
    async pinSource(input: PinSourceInput): Promise<PinnedSource> {
      const context = Context.current();
      return failFastOnPermanent(
        () => pinSource({ config, store, storeOf }, input.source, input.window, input.timeZone, (progress) => context.heartbeat(progress), { inferTypes: input.inferTypes }),
        SOURCE_ERRORS,
      );
    },

    /**
     * Resolves the model and decides the window's fate: `no-data` when the source held no rows,
     * `skipped` when a completed job scored this model version on this source, window and
     * snapshot, else a running job over the snapshot. Keyed by the workflow id: a retry finds its own row.
     */
    async startSourceDetectionJob(input: StartSourceJobInput): Promise<SourceJobStart> {
      const em = orm.em.fork();
      const model = await resolveDetectionModel(em, input.model).catch((err: unknown) => {
        throw err instanceof DetectionInputMissingError ? notFound(err.message) : err;
      });
      // A rule the model cannot run is refused before the window's fate is decided.
      const flagging = resolveFlagging(model, input);
      const key = runKey(model, input.source, input.window, { threshold: input.threshold, explain: input.explain });
      const { pinned } = input;
      const datasetId = `snap_${pinned.snapshotSha256.slice(0, 16)}`;
      const lineage = {
        source: input.source,
        window: input.window,
        timeZone: input.timeZone,
        location: pinned.location,
        snapshot: { key: pinned.snapshotKey, sha256: pinned.snapshotSha256, objects: pinned.objects, rows: pinned.rows, bytes: pinned.bytes },
      };
      const label = `${model.name}@${model.version}`;
      const base = { jobId: input.jobId, model: label, window: input.window, location: pinned.location, runKey: key, snapshotSha256: pinned.snapshotSha256 };
      const opening = { jobId: input.jobId, modelId: model.id, rows: pinned.rows, runKey: key, snapshotSha256: pinned.snapshotSha256, source: lineage };
      if (pinned.rows === 0) {
        await openSourceJob(em, { ...opening, status: 'no-data', summary: { reason: `no rows in ${pinned.location}` } });
        // A missing partition is a signal an operator wants to see, beside failed jobs.
        metrics.detectionJobs?.inc({ status: 'no-data' });
        return { ...base, status: 'no-data', rows: 0, anomalies: 0 };
      }
      const prior = await findScoredRun(em, key, pinned.snapshotSha256, input.jobId);
      if (prior) {
        await openSourceJob(em, { ...opening, status: 'skipped', summary: { scoredBy: prior.id } });
        metrics.detectionJobs?.inc({ status: 'skipped' });
        return { ...base, status: 'skipped', rows: prior.rows, anomalies: prior.anomalies, scoredBy: prior.id };
      }
      const idColumn = input.source.idColumn ?? null;
      const missing = [...model.featureColumns, ...(idColumn ? [idColumn] : [])].filter((c) => !pinned.columns.includes(c));
      if (missing.length > 0) {
        throw notFound(`the source ${pinned.location} lacks the model's columns: ${missing.join(', ')} (every object must have them; it has ${pinned.columns.slice(0, 20).join(', ')})`);
      }
      await openSourceJob(em, { ...opening, status: 'running', thresholdRule: flagging });
      const plan = detectionPlan(input.jobId, model, {
        datasetId,
        datasetKey: pinned.snapshotKey,
        datasetSha256: pinned.snapshotSha256,
        idColumn,
        format: SNAPSHOT_FORMAT,
        rows: pinned.rows,
      }, flagging);
      return { plan, runKey: key };
    },
  };
}
