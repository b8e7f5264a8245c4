import { EncryptionError } from '../storage/encryption';
import { ObjectMissingError } from '../storage/objectStore';
import { BackupIntegrityError } from './backupIntegrityError';
import type { BackupStore } from './backupStore';
import type { DatabasePart, ModelsPart, Verification } from './manifest';
import { compareRowCounts, createEmptyDatabase, databaseNameOf, derivedDatabaseName, dropDatabaseIfExists, tableRowCounts, urlForDatabase, withDatabase } from './pgDatabases';
import type { StepControl } from './progress';
import { restoreDump } from './restore';

export interface VerifyOptions extends StepControl {
  /** Where the scratch database is created (as the backup role). */
  serverUrl: string;
  /** pg_restore --jobs for the scratch restore. */
  restoreJobs: number;
}

/**
 * Verifies a backup before it counts: restores the dump into a scratch database, compares its
 * per-table row counts with the snapshot's, checks every model object's sha256, and drops the
 * scratch database. A damaged object is a problem in the result, not an error.
 */
export async function verifyBackupContents(
  bs: BackupStore,
  backupId: string,
  { database, models }: { database: DatabasePart | null; models: ModelsPart | null },
  { serverUrl, restoreJobs, progress, signal }: VerifyOptions,
): Promise<Verification> {
  const problems: string[] = [];
  let objectsChecked = 0;
  let rowCountsMatch: boolean | null = null;
  if (database) {
    const scratch = derivedDatabaseName(databaseNameOf(bs.config.databaseUrl), `verify_${backupId}`);
    await createEmptyDatabase(serverUrl, scratch);
    try {
      const scratchUrl = urlForDatabase(serverUrl, scratch);
      let digest: { size: number; sha256: string } | undefined;
      try {
        digest = await restoreDump(bs, database.dump, scratchUrl, database.pgMajor, { jobs: restoreJobs, progress, signal });
      } catch (err) {
        if (err instanceof BackupIntegrityError || err instanceof EncryptionError) problems.push(err.message);
        else throw err;
      }
      if (digest) {
        objectsChecked++;
        if (digest.sha256 !== database.dump.sha256 || digest.size !== database.dump.size) {
          problems.push(`backup object ${bs.bucket}/${database.dump.key} is corrupt: sha256 ${digest.sha256} does not match ${database.dump.sha256}`);
        }
        progress({ phase: 'counting rows' });
        const restored = await withDatabase(scratchUrl, tableRowCounts);
        const differences = compareRowCounts(database.rowCounts, restored);
        rowCountsMatch = differences.length === 0;
        problems.push(...differences);
      }
    } finally {
      await dropDatabaseIfExists(serverUrl, scratch);
    }
  }
  if (models) {
    const seen = new Set<string>();
    for (const model of models.models) {
      if (seen.has(model.key)) continue;
      seen.add(model.key);
      progress({ phase: 'checking models', done: seen.size, total: models.models.length });
      try {
        await bs.checkObject(model);
        objectsChecked++;
      } catch (err) {
        if (err instanceof BackupIntegrityError || err instanceof ObjectMissingError) problems.push((err as Error).message);
        else throw err;
      }
    }
  }
  return { status: problems.length === 0 ? 'verified' : 'failed', checkedAt: new Date().toISOString(), objectsChecked, rowCountsMatch, problems };
}
