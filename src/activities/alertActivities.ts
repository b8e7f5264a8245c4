import type { ActivityDeps } from './deps';
import type { DetectionAlert } from '../api/results';

export type { DetectionAlert };


/** A recovery that ran out of retries and waits for an operator's `retry` or `abort`. */
export interface RecoveryWaitingAlert {
  kind: 'nomaly.recovery.awaiting-operator';
  recoveryId: string;
  failedStep: string;
  error: string;
  /** How many times an operator already sent `retry`: one alert per wait. */
  operatorRetries: number;
  commands: { retry: string; abort: string };
}

/** A check of backups (`backup verify`, the scheduled re-check) found damaged objects. */
export interface BackupCorruptAlert {
  kind: 'nomaly.backup.corrupt';
  /** The verifyBackups run: one alert per run. */
  checkId: string;
  backups: Array<{ backupId: string; problems: string[] }>;
}

export function createAlertActivities({ config, logger }: ActivityDeps) {
  return {
    /**
     * Posts one alert as JSON to the configured webhook. A non-2xx answer or no answer throws,
     * so Temporal retries it with backoff; the job itself finished before this started.
     */
    async postAlert(alert: DetectionAlert | RecoveryWaitingAlert | BackupCorruptAlert): Promise<'sent' | 'not-configured'> {
      const body = 'kind' in alert ? alert : { kind: 'nomaly.detection.anomaly-rate', ...alert };
      const idempotencyKey = !('kind' in alert)
        ? `${alert.jobId}-alert`
        : alert.kind === 'nomaly.backup.corrupt'
          ? `${alert.checkId}-backup-corrupt`
          : `${alert.recoveryId}-awaiting-operator-${alert.operatorRetries}`;
      if (!config.alertWebhookUrl) {
        logger.warn(body, `${body.kind} alert (NOMALY_ALERT_WEBHOOK_URL is not set, so it is only logged)`);
        return 'not-configured';
      }
      const response = await fetch(config.alertWebhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      if (!response.ok) throw new Error(`alert webhook answered ${response.status} ${response.statusText}`);
      return 'sent';
    },
  };
}
