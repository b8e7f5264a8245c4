import { BackupIntegrityError } from './backupIntegrityError';
import type { BackupStore } from './backupStore';
import type { DatabasePart } from './manifest';
import { applyRoleGrants, compareRowCounts, createEmptyDatabase, dropDatabaseIfExists, tableRowCounts, urlForDatabase, withDatabase } from './pgDatabases';
import type { StepControl } from './progress';
import { restoreDump } from './restore';

export interface StagingRestoreOptions extends StepControl {
  /** The server (as the restore role) and the new database's name. */
  serverUrl: string;
  stagingDatabase: string;
  /** The role the restored database and its objects belong to, when it is not the restore role. */
  asRole?: string;
  /** With separate roles: what the restored database grants, as scripts/provision-roles.sh does. */
  grants?: { owner: string; reader: string; connectors: string[] };
  restoreJobs: number;
}

export interface StagingRestoreTimings {
  /** Dropping a killed attempt's staging database and creating it (overlaps the download). */
  createDatabaseSeconds: number;
  downloadSeconds: number;
  pgRestoreSeconds: number;
  pgRestoreJobs: number;
  rowCountSeconds: number;
}

/**
 * Restores a backup's dump into a new database and checks its row counts against the backup's.
 * The dump is downloaded and its sha256 checked before pg_restore reads a byte of it (while the
 * database is created). Nothing here touches the live database: a failure drops the new one,
 * a retry recreates it.
 */
export async function restoreIntoStaging(
  bs: BackupStore,
  backupId: string,
  database: DatabasePart,
  options: StagingRestoreOptions,
): Promise<{ rows: number; timings: StagingRestoreTimings }> {
  const { serverUrl, stagingDatabase: staging, progress } = options;
  const t0 = Date.now();
  let createSeconds = 0;
  // Also discards a killed attempt's half. Runs while the dump downloads; awaited before pg_restore.
  const created = createEmptyDatabase(serverUrl, staging, options.asRole).then(() => {
    createSeconds = (Date.now() - t0) / 1000;
  });
  created.catch(() => undefined);
  const stagingUrl = urlForDatabase(serverUrl, staging);
  try {
    const restored = await restoreDump(bs, database.dump, stagingUrl, database.pgMajor, {
      asRole: options.asRole,
      jobs: options.restoreJobs,
      ready: created,
      progress,
      signal: options.signal,
    });
    if (restored.sha256 !== database.dump.sha256) {
      throw new BackupIntegrityError(`backup object ${bs.bucket}/${database.dump.key} is corrupt: sha256 ${restored.sha256} does not match the manifest's ${database.dump.sha256}`);
    }
    progress({ phase: 'counting rows' });
    const t1 = Date.now();
    const counts = await withDatabase(stagingUrl, tableRowCounts);
    const countSeconds = (Date.now() - t1) / 1000;
    const problems = compareRowCounts(database.rowCounts, counts);
    if (problems.length > 0) throw new BackupIntegrityError(`the restored database differs from backup ${backupId}: ${problems.join('; ')}`);
    if (options.grants) await applyRoleGrants(stagingUrl, options.grants.owner, options.grants.reader, options.grants.connectors);
    return {
      rows: Object.values(counts).reduce((a, b) => a + b, 0),
      timings: {
        createDatabaseSeconds: createSeconds,
        downloadSeconds: restored.downloadSeconds,
        pgRestoreSeconds: restored.restoreSeconds,
        pgRestoreJobs: options.restoreJobs,
        rowCountSeconds: countSeconds,
      },
    };
  } catch (err) {
    await created.catch(() => undefined);
    await dropDatabaseIfExists(serverUrl, staging).catch(() => undefined);
    throw err;
  }
}
