import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Our own Prometheus metrics; the Temporal SDK's metrics are served beside them on /metrics. */
export interface ScoringMetrics {
  registry: Registry;
  predictions: Counter;
  modelLatency: Histogram;
  anomalyRate: Gauge<'model'>;
  /** Detection jobs this worker finished, by final status (completed, failed, cancelled). */
  detectionJobs?: Counter<'status'>;
  /** Unix time of the last backup this worker verified. */
  lastVerifiedBackup?: Gauge;
  /** Recovery time and data-loss window of the last recovery this worker finished. */
  recoverySeconds?: Gauge<'scope'>;
  recoveryDataLossWindowSeconds?: Gauge<'scope'>;
}

export function createMetrics(): ScoringMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'nomaly_process_' });
  return {
    registry,
    predictions: new Counter({ name: 'nomaly_predictions_total', help: 'Rows scored by this worker', registers: [registry] }),
    modelLatency: new Histogram({
      name: 'nomaly_model_latency_seconds',
      help: 'Time to score one chunk of rows with a loaded model',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30],
      registers: [registry],
    }),
    anomalyRate: new Gauge({
      name: 'nomaly_anomaly_rate',
      help: 'Share of rows flagged as anomalies by the last finished detection job, per model',
      labelNames: ['model'],
      registers: [registry],
    }),
    detectionJobs: new Counter({
      name: 'nomaly_detection_jobs_total',
      help: 'Detection jobs finished by this worker, by final status',
      labelNames: ['status'],
      registers: [registry],
    }),
    lastVerifiedBackup: new Gauge({
      name: 'nomaly_backup_last_verified_timestamp_seconds',
      help: 'Unix time at which the newest verified backup finished (seeded from the backup catalog at start, then set on each verification)',
      registers: [registry],
    }),
    recoverySeconds: new Gauge({
      name: 'nomaly_recovery_duration_seconds',
      help: 'Recovery time of the last finished disaster recovery: from its start to the recovered platform',
      labelNames: ['scope'],
      registers: [registry],
    }),
    recoveryDataLossWindowSeconds: new Gauge({
      name: 'nomaly_recovery_data_loss_window_seconds',
      help: 'Data-loss window of the last finished disaster recovery: the age of the backup it restored',
      labelNames: ['scope'],
      registers: [registry],
    }),
  };
}

/**
 * Seeds the last-verified-backup gauge from the backup catalog, so a restarted worker reports the
 * newest verified backup instead of 0 (which would look like "no backup ever" to the alert).
 * Leaves the gauge alone when the catalog has no verified backup yet.
 */
export async function seedLastVerifiedBackup(
  metrics: ScoringMetrics,
  query: (sql: string) => Promise<Array<{ finished_at: Date | string | null }>>,
): Promise<number | null> {
  const [row] = await query("select max(finished_at) as finished_at from backup where status = 'verified'");
  if (!row?.finished_at) return null;
  const seconds = new Date(row.finished_at).getTime() / 1000;
  metrics.lastVerifiedBackup?.set(seconds);
  return seconds;
}
