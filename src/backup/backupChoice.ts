import { scopeIncludesDatabase, scopeIncludesModels, type BackupScope } from '../db/backupEntities';
import type { BackupStore } from './backupStore';
import type { BackupManifest } from './manifest';

export interface BackupChoice {
  /** The backup asked for: its manifest must read, whatever it holds (verifying it comes next). */
  backupId?: string;
  scope: BackupScope;
  /** Backups a later check found damaged: passed over when choosing the newest. */
  damaged: Set<string>;
  /** Told about each backup passed over, and why. */
  skipped: (backupId: string, reason: string) => void;
}

/**
 * The backup a recovery restores: the one asked for, else the newest verified one that holds
 * what `scope` needs and was not since found damaged. Decided by the manifests (the catalog may
 * be lost with the database); undefined when none fits.
 */
export async function chooseBackup(bs: BackupStore, choice: BackupChoice): Promise<BackupManifest | undefined> {
  if (choice.backupId) return bs.readManifest(choice.backupId);
  for (const id of (await bs.listBackupIds()).reverse()) {
    if (choice.damaged.has(id)) {
      choice.skipped(id, 'a later check found it damaged');
      continue;
    }
    const manifest = await bs.readManifest(id).catch((err: Error) => {
      choice.skipped(id, `its manifest does not read: ${err.message}`);
      return undefined;
    });
    if (!manifest) continue;
    const fits = (!scopeIncludesDatabase(choice.scope) || manifest.database) && (!scopeIncludesModels(choice.scope) || manifest.models);
    if (manifest.verification.status === 'verified' && fits) return manifest;
  }
  return undefined;
}
