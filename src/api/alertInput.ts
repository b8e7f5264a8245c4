import type { DetectionAlert } from './results';
import { jobReportKey } from '../storage/keys';
import { asObject, invalidInput, optionalNumber, rejectUnknown, requiredString } from './inputs';

/**
 * sendAlert posts its input to the operators' webhook, so it takes only what detectBatch sends:
 * a finished job's anomaly rate over the threshold it was given, with that job's report.
 */

/** Temporal's own limit on a workflow id, and so on a job id. */
const MAX_JOB_ID = 1000;
/** An S3 bucket name. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,62}$/;

function requiredNumber(input: Record<string, unknown>, field: string, min: number, max: number, integer: boolean): number {
  if (input[field] === undefined) invalidInput('sendAlert', field, 'is required');
  return optionalNumber('sendAlert', input, field, min, max, integer)!;
}

export function validateDetectionAlert(raw: unknown): DetectionAlert {
  const w = 'sendAlert';
  const input = asObject(w, raw);
  rejectUnknown(w, input, ['jobId', 'model', 'datasetId', 'rows', 'anomalies', 'anomalyRate', 'alertAnomalyRateAbove', 'report']);
  const jobId = requiredString(w, input, 'jobId');
  // Printable characters only: the id goes into a webhook body and an idempotency header.
  if (jobId.length > MAX_JOB_ID || /[^\x20-\x7e]/.test(jobId)) invalidInput(w, 'jobId', `must be a job id of at most ${MAX_JOB_ID} printable characters`);
  const model = requiredString(w, input, 'model', /^[a-z0-9][a-z0-9_.-]{0,99}@[1-9][0-9]{0,9}$/i, ' (NAME@VERSION)');
  const datasetId = requiredString(w, input, 'datasetId', /^ds_[0-9a-f]{16}$/, ' (dataset ids look like ds_0123456789abcdef)');
  const rows = requiredNumber(input, 'rows', 1, Number.MAX_SAFE_INTEGER, true);
  const anomalies = requiredNumber(input, 'anomalies', 0, rows, true);
  const anomalyRate = requiredNumber(input, 'anomalyRate', 0, 1, false);
  const alertAnomalyRateAbove = requiredNumber(input, 'alertAnomalyRateAbove', 0, 1, false);
  if (anomalyRate <= alertAnomalyRateAbove) invalidInput(w, 'anomalyRate', `${anomalyRate} is not above alertAnomalyRateAbove (${alertAnomalyRateAbove}): there is nothing to alert`);
  const report = requiredString(w, input, 'report');
  const key = jobReportKey(jobId);
  if (!report.endsWith(`/${key}`) || !BUCKET.test(report.slice(0, -key.length - 1))) invalidInput(w, 'report', `must be the job's report, BUCKET/${key}`);
  return { jobId, model, datasetId, rows, anomalies, anomalyRate, alertAnomalyRateAbove, report };
}
