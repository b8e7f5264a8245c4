import { NativeConnection, Runtime } from '@temporalio/worker';
import { loadConfig, redactSecrets, temporalConnectionOptions } from '../config';
import { createWorker, type WorkerKind } from './createWorker';
import { startHealthServer } from './healthServer';
import { seedLastVerifiedBackup } from '../observability/metrics';
import { createLogger, temporalLogger } from '../observability/logging';
import { openPlatform } from './platform';
import { freePort } from './freePorts';

/** A worker process: one worker, its health/metrics port, and a clean stop on SIGTERM/SIGINT. */
export async function runWorkerProcess(kind: WorkerKind): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, `nomaly-${kind}-worker`);
  const sdkMetricsPort = await freePort();
  Runtime.install({
    logger: temporalLogger(logger),
    telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${sdkMetricsPort}` } } },
  });

  // Scoring workers touch datasets, models and results only; their MinIO key may be denied the backups bucket.
  const buckets = kind === 'scoring' ? [config.buckets.datasets, config.buckets.models, config.buckets.results] : Object.values(config.buckets);
  const platform = await openPlatform(config, logger, buckets);
  // Alerts read the newest verified backup's time from every worker: a restart must not reset it to 0.
  await seedLastVerifiedBackup(platform.metrics, (sql) => platform.orm.em.fork().getConnection().execute(sql)).catch((err: Error) =>
    logger.warn({ err }, 'could not read the newest verified backup for nomaly_backup_last_verified_timestamp_seconds'),
  );
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const worker = await createWorker(kind, platform, {
    connection,
    namespace: config.temporal.namespace,
    workflowBundlePath: process.env.NOMALY_WORKFLOW_BUNDLE || undefined,
  });
  const health = await startHealthServer({
    port: config.httpPort,
    host: config.healthHost,
    registry: platform.metrics.registry,
    sdkMetricsUrl: `http://127.0.0.1:${sdkMetricsPort}/metrics`,
    logger,
    checks: {
      temporal: async () => {
        await connection.workflowService.getSystemInfo({});
      },
      postgres: async () => {
        await platform.orm.em.fork().getConnection().execute('select 1');
      },
      minio: () => platform.store.ping(config.buckets.models),
    },
  });
  logger.info({ kind, httpHost: health.host, httpPort: health.port, temporal: config.temporal.address, temporalTls: Boolean(config.temporal.tls) }, 'worker started');

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, 'shutting down: finishing running activities');
      worker.shutdown();
    });
  }
  try {
    await worker.run();
  } finally {
    await health.close();
    await connection.close();
    await platform.close();
    logger.info('worker stopped');
  }
}


export function main(kind: WorkerKind): void {
  runWorkerProcess(kind).catch((err: Error) => {
    // One plain line a person can act on, then a non-zero exit for the supervisor.
    console.error(redactSecrets(`nomaly ${kind} worker failed to start: ${err.message}`));
    process.exit(1);
  });
}
