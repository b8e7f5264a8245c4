import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { ControlActivities, ScoringActivities } from '../activities';
import { TASK_QUEUES } from '../config/taskQueues';

/**
 * Every activity the workflows in this folder call (backups and recoveries excepted: their
 * retries come from their input, see backupActivityOptions.ts). Each retry policy ends: a
 * failure that outlives its attempts goes to the workflow, which fails with its message.
 * A unit test checks every option set here has a maximum.
 */
export const ACTIVITY_OPTIONS = {
  /** Short database and object-store calls: about ten minutes of backoff rides out a database or MinIO restart. */
  control: {
    taskQueue: TASK_QUEUES.control,
    startToCloseTimeout: '2 minutes',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 25 },
  },
  /** Fitting is one long CPU call; it does not heartbeat, so its deadline is its only watchdog. */
  fitting: {
    taskQueue: TASK_QUEUES.scoring,
    startToCloseTimeout: '1 hour',
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
  },
  /**
   * Chunks heartbeat at every phase; a worker that dies is noticed within the heartbeat timeout
   * and its chunk runs again elsewhere (chunks are idempotent).
   */
  scoring: {
    taskQueue: TASK_QUEUES.scoring,
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '10 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 20 },
  },
  /** Planning reads the dataset's row index; a dataset without one is streamed once to build it (heartbeating as it reads). */
  planning: {
    taskQueue: TASK_QUEUES.control,
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10 },
  },
  /**
   * Finalizing reads every chunk's score file and writes the job's: long for a big job, so it
   * heartbeats, and a control worker killed under it costs seconds, not the whole deadline.
   */
  finalizing: {
    taskQueue: TASK_QUEUES.control,
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: '15 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10 },
  },
  /** The optional CSV export and sink stream a whole job's scores or anomalies (and the data's ids); they heartbeat as they write. */
  exporting: {
    taskQueue: TASK_QUEUES.control,
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: '1 minute',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10 },
  },
  /**
   * Registration streams the whole file once (checksum, types, profile): minutes for a file of
   * gigabytes on a busy machine, so it heartbeats per batch instead of living under the control
   * activities' two-minute limit, which a big upload outran and then retried for ever.
   */
  registration: {
    taskQueue: TASK_QUEUES.control,
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: '1 minute',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10 },
  },
  /** Every alert (detections, damaged backups, a recovery waiting for an operator): a webhook may be down for a while, so patient retries, about twenty minutes in all. */
  alerts: {
    taskQueue: TASK_QUEUES.control,
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 12 },
  },
} as const satisfies Record<string, ActivityOptions>;

export const control = proxyActivities<ControlActivities>(ACTIVITY_OPTIONS.control);
export const fitting = proxyActivities<Pick<ScoringActivities, 'fitModel'>>(ACTIVITY_OPTIONS.fitting);
export const scoring = proxyActivities<Pick<ScoringActivities, 'scoreChunk'>>(ACTIVITY_OPTIONS.scoring);
export const planning = proxyActivities<Pick<ControlActivities, 'planDatasetChunks' | 'planCsvChunks' | 'pinSource'>>(ACTIVITY_OPTIONS.planning);
export const finalizing = proxyActivities<Pick<ControlActivities, 'finalizeDetection'>>(ACTIVITY_OPTIONS.finalizing);
export const exporting = proxyActivities<Pick<ControlActivities, 'exportScoresCsv' | 'sinkJobResults'>>(ACTIVITY_OPTIONS.exporting);
export const registration = proxyActivities<Pick<ControlActivities, 'registerDatasetFile'>>(ACTIVITY_OPTIONS.registration);
export const alerts = proxyActivities<Pick<ControlActivities, 'postAlert'>>(ACTIVITY_OPTIONS.alerts);
