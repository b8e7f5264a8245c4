import { proxyActivities } from '@temporalio/workflow';
import type { ControlActivities, DatasetSummary } from '../activities';
import { TASK_QUEUES } from '../config/taskQueues';
import { validateRegisterDatasetInput, type RegisterDatasetWorkflowInput } from './inputs';

/**
 * Registration streams the whole file once (checksum, types, profile): minutes for a file of
 * gigabytes on a busy machine, so it heartbeats per batch instead of living under the control
 * activities' two-minute limit, which a big upload outran and then retried for ever.
 */
const registration = proxyActivities<Pick<ControlActivities, 'registerDatasetFile'>>({
  taskQueue: TASK_QUEUES.control,
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/** An uploaded file becomes a validated, content-addressed dataset record. */
export async function registerDataset(input: RegisterDatasetWorkflowInput): Promise<DatasetSummary> {
  return registration.registerDatasetFile(validateRegisterDatasetInput(input));
}
