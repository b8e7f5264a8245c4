import type { NomalyConfig } from '../config';
import type { StoredSnapshot } from '../data/formats/snapshot';
import type { ObjectStore } from '../storage/objectStore';
import { sourceStores } from './stores';

/**
 * A job's data as its format module reads it: an uploaded dataset in the datasets bucket, or a
 * pinned source's snapshot there, whose objects are reached through the workers' connections
 * (each opened once) and whose row indexes are kept in the datasets bucket.
 */
export function datasetReader(config: NomalyConfig, store: ObjectStore): (key: string, sha256: string) => StoredSnapshot {
  const storeOf = sourceStores(config, store);
  const indexes = { store, bucket: config.buckets.datasets };
  return (key, sha256) => ({ store, bucket: config.buckets.datasets, key, sha256, storeOf, indexes });
}
