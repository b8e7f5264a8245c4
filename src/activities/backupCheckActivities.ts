import { Backup } from '../db/backupEntities';
import { BackupIntegrityError } from '../backup/backupIntegrityError';
import { checkBackupObjects } from '../backup/backupCheck';
import { BackupStore } from '../backup/backupStore';
import type { BackupCheck } from '../backup/catalog';
import type { ActivityDeps } from './deps';
import { BACKUP_ERRORS, failFastOnPermanent, notFound } from './failures';
import { heartbeat, withHeartbeat } from './heartbeat';

export type { BackupCheck };

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
     * Re-reads and re-hashes every object of a backup and records the outcome in the catalog (see
     * checkBackupObjects). A damaged object is a finding, not a failure; an unreachable MinIO is a
     * failure that retries; a wrong key fails at once.
     */
    async checkBackup(input: { backupId: string }): Promise<BackupCheck> {
      return failFastOnPermanent(
        () =>
          withHeartbeat(async () => {
            const manifestKey = await bs.findManifestKey(input.backupId);
            const known = manifestKey !== undefined || (await orm.em.fork().count(Backup, { id: input.backupId })) > 0;
            if (!known) throw notFound(`there is no backup ${input.backupId} (nomaly backup list shows them)`);
            const check = await checkBackupObjects(bs, orm, input.backupId, manifestKey, heartbeat);
            if (check.state === 'corrupt') logger.error({ backupId: input.backupId, problems: check.problems }, 'backup check found damaged objects');
            return check;
          }),
        BACKUP_ERRORS,
      );
    },
  };
}

export type BackupCheckActivities = ReturnType<typeof createBackupCheckActivities>;
