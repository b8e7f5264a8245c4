import { proxyActivities } from '@temporalio/workflow';
import type { ControlActivities, ScoringActivities } from '../activities';
import { TASK_QUEUES } from '../config/taskQueues';

/** Control activities are short database and object-store calls; retry them patiently. */
export const control = proxyActivities<ControlActivities>({
  taskQueue: TASK_QUEUES.control,
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/** Fitting is one long CPU call; it does not heartbeat, so its deadline is its only watchdog. */
export const fitting = proxyActivities<Pick<ScoringActivities, 'fitModel'>>({
  taskQueue: TASK_QUEUES.scoring,
  startToCloseTimeout: '1 hour',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

/**
 * Chunks heartbeat at every phase; a worker that dies is noticed within the heartbeat timeout
 * and its chunk runs again elsewhere (chunks are idempotent).
 */
export const scoring = proxyActivities<Pick<ScoringActivities, 'scoreChunk'>>({
  taskQueue: TASK_QUEUES.scoring,
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 20 },
});

/** Planning reads the dataset's row index; a dataset without one is streamed once to build it (heartbeating as it reads). */
export const planning = proxyActivities<Pick<ControlActivities, 'planCsvChunks'>>({
  taskQueue: TASK_QUEUES.control,
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/** The optional CSV export streams a whole job's scores (and the dataset's ids); it heartbeats as it writes. */
export const exporting = proxyActivities<Pick<ControlActivities, 'exportScoresCsv'>>({
  taskQueue: TASK_QUEUES.control,
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10 },
});
