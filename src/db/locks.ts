import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * Transaction-scoped advisory locks: one name's versions, or one dataset, change one
 * transaction at a time. Held until the transaction of `em` ends.
 */
async function lockKey(em: EntityManager, key: string): Promise<void> {
  await em.getConnection().execute('select pg_advisory_xact_lock(hashtext(?))', [key], 'all', em.getTransactionContext());
}

export const lockModelName = (em: EntityManager, name: string) => lockKey(em, `model:${name}`);
export const lockDataset = (em: EntityManager, datasetId: string) => lockKey(em, `dataset:${datasetId}`);
