import type { Orm } from '../db/orm';
import { ObjectMissingError } from '../storage/objectStore';
import { BackupIntegrityError } from './backupIntegrityError';
import type { BackupStore } from './backupStore';
import { recordBackupCheck, type BackupCheck } from './catalog';
import type { BackupManifest } from './manifest';
import type { ReportProgress } from './progress';

const isObjectProblem = (err: unknown) => err instanceof BackupIntegrityError || err instanceof ObjectMissingError;

/**
 * Re-reads every object of a backup and recomputes its sha256 against the manifest, then records
 * the outcome and its time in the catalog. A damaged object or manifest is a finding (state
 * `corrupt`, naming it), not an error; an unreachable MinIO or a wrong key is an error.
 */
export async function checkBackupObjects(bs: BackupStore, orm: Orm, backupId: string, manifestKey: string | undefined, progress: ReportProgress): Promise<BackupCheck> {
  const checkedAt = new Date().toISOString();
  const problems: string[] = [];
  let manifest: BackupManifest | undefined;
  try {
    manifest = await bs.readManifest(backupId);
  } catch (err) {
    if (!(err instanceof BackupIntegrityError)) throw err;
    problems.push(err.message);
  }
  const objects = manifest?.objects ?? [];
  let objectsChecked = 0;
  let bytes = 0;
  for (const [i, entry] of objects.entries()) {
    progress({ phase: 'checking', done: i, total: objects.length });
    try {
      await bs.checkObject(entry);
      objectsChecked++;
      bytes += entry.size;
    } catch (err) {
      if (!isObjectProblem(err)) throw err;
      problems.push((err as Error).message);
    }
  }
  const check: BackupCheck = { backupId, state: problems.length ? 'corrupt' : 'verified', checkedAt, objects: objects.length, objectsChecked, bytes, problems };
  await recordBackupCheck(orm, check, manifest, manifestKey);
  return check;
}
