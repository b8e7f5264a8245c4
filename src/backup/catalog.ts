import { Backup, type BackupCheckState } from '../db/backupEntities';
import type { Orm } from '../db/orm';
import type { BackupStore } from './backupStore';
import type { BackupManifest } from './manifest';

/** What one re-read of a backup found. */
export interface BackupCheck {
  backupId: string;
  state: BackupCheckState;
  checkedAt: string;
  /** Objects the manifest lists, and how many of them read back whole with their sha256. */
  objects: number;
  objectsChecked: number;
  bytes: number;
  /** Each names the object (bucket/key) and what is wrong with it. */
  problems: string[];
}

/** The catalog row a manifest stands for (the manifests are the source of truth; rows mirror them). */
export function catalogRow(manifest: BackupManifest, key: string | undefined): Backup {
  return {
    id: manifest.id,
    scope: manifest.scope,
    status: manifest.verification.status,
    startedAt: new Date(manifest.createdAt),
    finishedAt: new Date(manifest.finishedAt),
    pgVersion: manifest.database?.pgVersion ?? null,
    dbSizeBytes: manifest.database?.sizeBytes ?? null,
    manifestKey: key ?? null,
    workflowId: manifest.workflowId,
    encryptionKeyId: manifest.encryption?.keyId ?? null,
    error: manifest.verification.status === 'failed' ? manifest.verification.problems.join('; ').slice(0, 4000) : null,
  };
}

/** Records a check's outcome on the backup's catalog row (creating the row from the manifest when the catalog lacks it). */
export async function recordBackupCheck(orm: Orm, check: Pick<BackupCheck, 'backupId' | 'state' | 'checkedAt' | 'problems'>, manifest?: BackupManifest, manifestKey?: string): Promise<void> {
  const fields = { lastCheckedAt: new Date(check.checkedAt), checkState: check.state, checkProblem: check.problems[0]?.slice(0, 4000) ?? null };
  const em = orm.em.fork();
  const updated = await em.nativeUpdate(Backup, { id: check.backupId }, fields);
  if (updated === 0 && manifest) await em.upsert(Backup, { ...catalogRow(manifest, manifestKey), ...fields });
}

/** Rewrites the catalog from the manifests (after a restore, the catalog is as old as the backup); returns the rows written. */
export async function syncCatalogFromManifests(orm: Orm, bs: BackupStore): Promise<number> {
  const em = orm.em.fork();
  let synced = 0;
  for (const id of await bs.listBackupIds()) {
    const manifest = await bs.readManifest(id).catch(() => undefined);
    if (!manifest) continue;
    await em.upsert(Backup, catalogRow(manifest, await bs.findManifestKey(id)));
    synced++;
  }
  return synced;
}

/** Backups a later check found damaged; none when the database is lost (the manifests alone decide then). */
export async function backupsFoundCorrupt(orm: Orm): Promise<Set<string>> {
  const rows = await orm.em
    .fork()
    .find(Backup, { checkState: 'corrupt' }, { fields: ['id'] })
    .catch(() => [] as Backup[]);
  return new Set(rows.map((r) => r.id));
}
