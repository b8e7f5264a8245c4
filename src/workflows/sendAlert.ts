import { patched } from '@temporalio/workflow';
import type { DetectionAlert } from '../activities';
import { alerts } from './activityOptions';
import { validateDetectionAlert } from '../api/alertInput';

/**
 * Delivers one alert with patient retries; started by detectBatch as an abandoned child, so it
 * never holds the job up. Anyone can start a workflow on the control queue, so the input is
 * checked before anything is posted. (Runs from before the check replay without it.)
 */
export async function sendAlert(alert: DetectionAlert): Promise<string> {
  const checked = patched('send-alert-validates-input') ? validateDetectionAlert(alert) : alert;
  return alerts.postAlert(checked);
}
