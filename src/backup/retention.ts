import type { Logger } from 'pino';
import { Backup, scopeIncludesDatabase, scopeIncludesModels } from '../db/backupEntities';
import type { Orm } from '../db/orm';
import { backupPrefix, MODEL_BACKUPS_PREFIX, partKey } from './backupKeys';
import type { BackupStore } from './backupStore';
import type { ModelsPart } from './manifest';

export interface RetentionPolicy {
  /** ISO time retention is computed against (the workflow's clock). */
  now: string;
  retentionDays: number;
  modelBackupsKeep: number;
}

export interface RetentionResult {
  /** Backups deleted entirely. */
  pruned: string[];
  /** Full backups kept for their database whose model part was dropped (beyond the last N model backups). */
  modelPartsPruned: string[];
  artifactsRemoved: number;
}

/**
 * Database backups are kept for `retentionDays`, model backups for the last N; a full backup
 * beyond the last N keeps its database part only. The newest verified backup (of each kind) is
 * never deleted. Model artifacts no remaining backup refers to are removed; when a manifest does
 * not read, none are (rather than delete something it might need).
 */
export async function applyBackupRetention(bs: BackupStore, orm: Orm, input: RetentionPolicy, logger: Pick<Logger, 'info'>): Promise<RetentionResult> {
  const now = new Date(input.now).getTime();
  const days = input.retentionDays;
  const keepModels = input.modelBackupsKeep;
  const em = orm.em.fork();
  const backups = await em.find(Backup, {}, { orderBy: { startedAt: 'desc', id: 'desc' } });
  const finished = backups.filter((b) => b.status !== 'running' || now - b.startedAt.getTime() > 2 * 86_400_000);
  const newestVerifiedDb = finished.find((b) => b.status === 'verified' && scopeIncludesDatabase(b.scope));
  const newestVerifiedModels = finished.find((b) => b.status === 'verified' && scopeIncludesModels(b.scope));
  const lastModelBackups = new Set(finished.filter((b) => b.status === 'verified' && scopeIncludesModels(b.scope)).slice(0, keepModels).map((b) => b.id));
  const cutoff = now - days * 86_400_000;
  const result: RetentionResult = { pruned: [], modelPartsPruned: [], artifactsRemoved: 0 };

  for (const b of finished) {
    const isProtected = b.id === newestVerifiedDb?.id || b.id === newestVerifiedModels?.id;
    const dbKept = scopeIncludesDatabase(b.scope) && b.startedAt.getTime() >= cutoff;
    const modelsKept = scopeIncludesModels(b.scope) && (b.status === 'verified' ? lastModelBackups.has(b.id) : b.startedAt.getTime() >= cutoff);
    if (isProtected) continue;
    if (!dbKept && !modelsKept) {
      for (const key of await bs.store.listKeys(bs.bucket, backupPrefix(b.id))) await bs.store.remove(bs.bucket, key);
      await bs.clearStaging(b.id).catch(() => undefined);
      await em.nativeDelete(Backup, { id: b.id });
      result.pruned.push(b.id);
    } else if (b.scope === 'full' && dbKept && !modelsKept && b.status === 'verified') {
      // Keep the database part: the manifest becomes a database-only one.
      const manifest = await bs.readManifest(b.id).catch(() => undefined);
      if (manifest) {
        const { checksum: _old, ...rest } = manifest;
        const dump = manifest.database?.dump;
        await bs.writeManifest({ ...rest, scope: 'database', models: null, objects: dump ? [dump] : [] });
        const encrypted = manifest.encryption !== null;
        await bs.store.remove(bs.bucket, partKey(b.id, 'models', encrypted)).catch(() => undefined);
      }
      await em.nativeUpdate(Backup, { id: b.id }, { scope: 'database' });
      result.modelPartsPruned.push(b.id);
    }
  }

  // Garbage-collect content-addressed artifacts that no remaining manifest refers to.
  const referenced = new Set<string>();
  for (const id of await bs.listBackupIds()) {
    const manifest = await bs.readManifest(id).catch(() => undefined);
    if (!manifest) {
      // Unreadable manifest: keep everything rather than delete something it might need.
      return result;
    }
    for (const m of manifest.models ?? []) referenced.add(m.key);
  }
  // A backup still running has not written its manifest yet: keep what its models part lists.
  for (const b of backups.filter((x) => x.status === 'running')) {
    const part = await bs
      .getJson<ModelsPart>(partKey(b.id, 'models', bs.encryptionKey() !== null))
      .catch(() => undefined);
    if (!part && scopeIncludesModels(b.scope)) return result;
    for (const m of part?.models ?? []) referenced.add(m.key);
  }
  for (const key of await bs.store.listKeys(bs.bucket, MODEL_BACKUPS_PREFIX)) {
    if (!referenced.has(key)) {
      await bs.store.remove(bs.bucket, key);
      result.artifactsRemoved++;
    }
  }
  logger.info(result, 'backup retention applied');
  return result;
}
