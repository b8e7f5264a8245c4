import { proxyActivities } from '@temporalio/workflow';
import type { ControlActivities, DetectionAlert } from '../activities';
import { TASK_QUEUES } from '../config/taskQueues';

const alerts = proxyActivities<Pick<ControlActivities, 'postAlert'>>({
  taskQueue: TASK_QUEUES.control,
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 12 },
});

/** Delivers one alert with patient retries; started by detectBatch as an abandoned child, so it never holds the job up. */
export async function sendAlert(alert: DetectionAlert): Promise<string> {
  return alerts.postAlert(alert);
}
