/**
 * The object stores a worker reads sources from: `platform` is its own MinIO; any other name is
 * an S3-compatible connection configured on the workers (NOMALY_CONNECTIONS_FILE), connected
 * once per process.
 */
import type { NomalyConfig } from '../config';
import type { StoreOf } from '../data/formats/snapshot';
import { ObjectStore } from '../storage/objectStore';
import { connectionNamed } from './connections';

export const PLATFORM_CONNECTION = 'platform';

export function sourceStores(config: Pick<NomalyConfig, 'connections'>, platform: ObjectStore): StoreOf {
  const opened = new Map<string, ObjectStore>([[PLATFORM_CONNECTION, platform]]);
  return (name) => {
    let store = opened.get(name);
    if (!store) {
      const connection = connectionNamed(config, name, 's3');
      store = ObjectStore.connect({ endPoint: connection.endPoint, port: connection.port, useSSL: connection.useSSL, accessKey: connection.accessKey, secretKey: connection.secretKey });
      opened.set(name, store);
    }
    return store;
  };
}
