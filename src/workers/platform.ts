import type { Logger } from 'pino';
import type { ActivityDeps } from '../activities';
import type { NomalyConfig } from '../config';
import { ensureDatabase, migrate, openOrm } from '../db/orm';
import { ObjectStore } from '../storage/objectStore';
import { createMetrics } from '../observability/metrics';

/**
 * Connects to PostgreSQL (creating the database and applying migrations) and MinIO (creating
 * the buckets). Every worker does this at start, so a fresh stack needs no separate set-up step.
 */
export async function openPlatform(
  config: NomalyConfig,
  logger: Logger,
  /** The buckets this process uses (default all four); a scoring worker's key may see no backups bucket. */
  buckets: string[] = Object.values(config.buckets),
): Promise<ActivityDeps & { close: () => Promise<void> }> {
  await ensureDatabase(config.databaseUrl);
  const orm = await openOrm(config.databaseUrl);
  await migrate(orm);
  const store = ObjectStore.connect(config.minio);
  try {
    await store.ensureBuckets(buckets);
  } catch (err) {
    await orm.close();
    throw new Error(
      `MinIO does not answer at ${config.minio.endPoint}:${config.minio.port} (${(err as Error).message}). ` +
        'Start it (scripts/stack-up.sh) or set MINIO_ENDPOINT and the key (MINIO_ACCESS_KEY/MINIO_SECRET_KEY or MINIO_ROOT_USER/MINIO_ROOT_PASSWORD); ' +
        `a restricted key needs its buckets to exist already (${buckets.join(', ')}).`,
    );
  }
  return { config, orm, store, logger, metrics: createMetrics(), close: () => orm.close() };
}
