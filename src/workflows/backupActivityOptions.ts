import { proxyActivities, type RetryPolicy } from '@temporalio/workflow';
import type { BackupActivities } from '../activities/backupActivities';
import type { BackupCheckActivities } from '../activities/backupCheckActivities';
import type { RecoveryActivities } from '../activities/recoveryActivities';
import { TASK_QUEUES } from '../config/taskQueues';
import type { ValidStepRetryOptions } from '../api/backupInputs';

type Activities = BackupActivities & RecoveryActivities & BackupCheckActivities;

function retry(options: ValidStepRetryOptions): RetryPolicy {
  return {
    initialInterval: Math.round(options.retryInitialSeconds * 1000),
    backoffCoefficient: 2,
    maximumInterval: Math.round(options.retryMaxSeconds * 1000),
    maximumAttempts: options.maxAttempts,
    nonRetryableErrorTypes: ['BackupIntegrityError', 'EncryptionError', 'PgToolMissingError'],
  };
}

/** Dumps, restores and checksum passes: hours at most, heartbeating, so a dead worker is noticed quickly. */
export function longSteps(options: ValidStepRetryOptions) {
  return proxyActivities<Activities>({
    taskQueue: TASK_QUEUES.control,
    startToCloseTimeout: '12 hours',
    heartbeatTimeout: options.heartbeatTimeoutSeconds * 1000,
    retry: retry(options),
  });
}

/** Catalog writes, manifests, the swap, retention: short calls that do not heartbeat. */
export function shortSteps(options: ValidStepRetryOptions) {
  return proxyActivities<Activities>({
    taskQueue: TASK_QUEUES.control,
    startToCloseTimeout: '30 minutes',
    retry: retry(options),
  });
}
