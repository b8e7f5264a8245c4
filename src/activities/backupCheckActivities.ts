import { Backup, type BackupCheckState } from '../db/backupEntities';
import type { Orm } from '../db/orm';
import { ObjectMissingError } from '../storage/objectStore';
import { BackupIntegrityError } from '../backup/backupIntegrityError';
import { BackupStore } from '../backup/backupStore';
import type { BackupManifest } from '../backup/manifest';
import { heartbeat, withHeartbeat } from './heartbeat';
import type { ActivityDeps } from './deps';
import { BACKUP_ERRORS, failFastOnPermanent, notFound } from './failures';

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

const isObjectProblem = (err: unknown) => err instanceof BackupIntegrityError || err instanceof ObjectMissingError;

export function createBackupCheckActivities({ config, orm, store, logger }: ActivityDeps) {
  const bs = new BackupStore(config, store);

  return {
    /** The newest `newest` backups worth re-checking: verified ones, and those whose manifest no longer reads. */
    async listBackupsToCheck(input: { newest: number }): Promise<string[]> {
      const picked: string[] = [];
      for (const id of (await bs.listBackupIds()).reverse()) {
        if (picked.length >= input.newest) break;
        const manifest = await bs.readManifest(id).catch((err: unknown) => {
          if (err instanceof BackupIntegrityError) return 'unreadable' as const;
          throw err;
        });
        if (manifest === 'unreadable' || manifest.verification.status === 'verified') picked.push(id);
      }
      return picked;
    },

    /**
     * Re-reads every object of a backup and recomputes its sha256 against the manifest, then
     * records the outcome and its time in the catalog. A damaged object is a finding (state
     * `corrupt`, naming it), not a failure; an unreachable MinIO is a failure that retries.
     */
    async checkBackup(input: { backupId: string }): Promise<BackupCheck> {
      return failFastOnPermanent(
        () =>
          withHeartbeat(async () => {
        const checkedAt = new Date().toISOString();
        const manifestKey = await bs.findManifestKey(input.backupId);
        const known = manifestKey !== undefined || (await orm.em.fork().count(Backup, { id: input.backupId })) > 0;
        if (!known) throw notFound(`there is no backup ${input.backupId} (nomaly backup list shows them)`);
        const problems: string[] = [];
        let manifest: BackupManifest | undefined;
        try {
          manifest = await bs.readManifest(input.backupId);
        } catch (err) {
          if (!(err instanceof BackupIntegrityError)) throw err; // a key problem (EncryptionError) fails, non-retryably
          problems.push(err.message);
        }
        const objects = manifest?.objects ?? [];
        let objectsChecked = 0;
        let bytes = 0;
        for (const [i, entry] of objects.entries()) {
          heartbeat({ phase: 'checking', done: i, total: objects.length });
          try {
            await bs.checkObject(entry);
            objectsChecked++;
            bytes += entry.size;
          } catch (err) {
            if (!isObjectProblem(err)) throw err;
            problems.push((err as Error).message);
          }
        }
        const check: BackupCheck = { backupId: input.backupId, state: problems.length ? 'corrupt' : 'verified', checkedAt, objects: objects.length, objectsChecked, bytes, problems };
        await recordBackupCheck(orm, check, manifest, manifestKey);
        if (check.state === 'corrupt') logger.error({ backupId: input.backupId, problems }, 'backup check found damaged objects');
        return check;
          }),
        BACKUP_ERRORS,
      );
    },
  };
}

export type BackupCheckActivities = ReturnType<typeof createBackupCheckActivities>;
