import type { ActivityDeps } from './deps';

export interface DetectionAlert {
  jobId: string;
  model: string;
  datasetId: string;
  rows: number;
  anomalies: number;
  anomalyRate: number;
  alertAnomalyRateAbove: number;
  report: string;
}

export function createAlertActivities({ config, logger }: ActivityDeps) {
  return {
    /**
     * Posts one alert as JSON to the configured webhook. A non-2xx answer or no answer throws,
     * so Temporal retries it with backoff; the job itself finished before this started.
     */
    async postAlert(alert: DetectionAlert): Promise<'sent' | 'not-configured'> {
      const body = { kind: 'nomaly.detection.anomaly-rate', ...alert };
      if (!config.alertWebhookUrl) {
        logger.warn(body, 'anomaly-rate alert (NOMALY_ALERT_WEBHOOK_URL is not set, so it is only logged)');
        return 'not-configured';
      }
      const response = await fetch(config.alertWebhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `${alert.jobId}-alert` },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      if (!response.ok) throw new Error(`alert webhook answered ${response.status} ${response.statusText}`);
      return 'sent';
    },
  };
}
