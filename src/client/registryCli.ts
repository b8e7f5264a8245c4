import { loadConfig, type NomalyConfig } from '../config';
import { ModelRegistry } from '../db/modelRegistry';
import { openOrm, type Orm } from '../db/orm';
import { ObjectStore } from '../storage/objectStore';

export interface PlatformRecords {
  config: NomalyConfig;
  orm: Orm;
  store: ObjectStore;
  registry: ModelRegistry;
}

/** The registry lives in PostgreSQL (DATABASE_URL), its objects in MinIO: registry commands read and change them directly. */
export async function withRecords<T>(work: (records: PlatformRecords) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const orm = await openOrm(config.databaseUrl, { poolMax: 2 });
  try {
    const store = ObjectStore.connect(config.minio);
    return await work({ config, orm, store, registry: new ModelRegistry(orm, { store, buckets: config.buckets }) });
  } finally {
    await orm.close(true);
  }
}

export async function withRegistry<T>(work: (registry: ModelRegistry) => Promise<T>): Promise<T> {
  return withRecords(({ registry }) => work(registry));
}
