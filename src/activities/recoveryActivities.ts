import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { Backup, Recovery, scopeIncludesDatabase, scopeIncludesModels, type BackupScope, type RecoveryStatus } from '../db/backupEntities';
import { migrate } from '../db/orm';
import { ChecksumMismatchError, ObjectMissingError, ObjectUnreadableError } from '../storage/objectStore';
import { BackupIntegrityError } from '../backup/backupIntegrityError';
import { BackupStore } from '../backup/backupStore';
import { objectsFor } from '../backup/manifest';
import { restoreDump } from '../backup/restore';
import { cancellationSignal, heartbeat, withHeartbeat } from './heartbeat';
import { catalogRow, recordBackupCheck } from './backupCheckActivities';
import { carryOverAudit } from '../backup/recoveryAudit';
import { BACKUP_ERRORS, failFastOnPermanent } from './failures';
import type { ActivityDeps } from './deps';
import {
  applyRoleGrants,
  compareRowCounts,
  createEmptyDatabase,
  databaseExists,
  databaseNameOf,
  derivedDatabaseName,
  dropDatabaseIfExists,
  quoteIdent,
  tableRowCounts,
  urlForDatabase,
  userOf,
  withAdmin,
  withDatabase,
} from '../backup/pgTools';

export interface ResolvedBackup {
  backupId: string;
  createdAt: string;
  scope: BackupScope;
  encrypted: boolean;
}

export interface RestoredToStaging {
  stagingDatabase: string;
  rows: number;
  /** Where the time went (for the benchmark and the logs); absent in results recorded by older releases. */
  timings?: {
    /** Dropping a killed attempt's staging database and creating it (overlaps the download). */
    createDatabaseSeconds: number;
    downloadSeconds: number;
    pgRestoreSeconds: number;
    pgRestoreJobs: number;
    rowCountSeconds: number;
  };
}

export interface VerifiedBackup {
  backupId: string;
  objects: number;
  bytes: number;
}

export interface FinishRecoveryInput {
  recoveryId: string;
  backupId: string;
  scope: BackupScope;
  startedAt: string;
  backupCreatedAt?: string;
  status: Exclude<RecoveryStatus, 'running'>;
  previousDatabase?: string | null;
  error?: string;
}

export interface FinishRecoveryResult {
  recoverySeconds: number;
  dataLossWindowSeconds: number | null;
  catalogSynced: number;
}


function nonRetryable(message: string, type = 'BackupIntegrityError'): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, type);
}

export function createRecoveryActivities({ config, orm, store, logger, metrics }: ActivityDeps) {
  const bs = new BackupStore(config, store);
  const dbName = databaseNameOf(config.databaseUrl);
  /** Staging databases, pg_restore and the swap run as the restore role ... */
  const restoreUrl = config.restoreDatabaseUrl;
  /** ... and the restored database and its objects belong to the application role. */
  const appRole = userOf(config.databaseUrl);
  const restoreAs = appRole !== userOf(restoreUrl) ? appRole : undefined;

  function stagingDatabaseFor(recoveryId: string): string {
    return derivedDatabaseName(dbName, `restore_${createHash('sha256').update(recoveryId).digest('hex').slice(0, 10)}`);
  }

  /** The ORM's pooled connections to the replaced database were terminated: wait until it has fresh ones. */
  async function reconnectOrm(): Promise<void> {
    let lastError: unknown;
    for (let i = 0; i < 20; i++) {
      try {
        const [row] = await orm.em.fork().getConnection().execute<Array<{ db: string }>>('select current_database() as db');
        if (row.db === dbName) return;
      } catch (err) {
        lastError = err;
      }
      await new Promise((r) => setTimeout(r, 100 * (i + 1)));
    }
    throw new Error(`the platform database did not answer after the swap: ${(lastError as Error)?.message ?? 'unknown'}`);
  }

  /** Backups a later check found damaged; none when the database is lost (the manifests alone decide then). */
  async function backupsFoundCorrupt(): Promise<Set<string>> {
    const rows = await orm.em
      .fork()
      .find(Backup, { checkState: 'corrupt' }, { fields: ['id'] })
      .catch(() => [] as Backup[]);
    return new Set(rows.map((r) => r.id));
  }

  return {
    /** The backup to restore: the one asked for, else the newest verified one not since found damaged (from the manifests; the catalog only vetoes). */
    async resolveRecoveryBackup(input: { backupId?: string; scope: BackupScope }): Promise<ResolvedBackup> {
      return failFastOnPermanent(async () => {
        const candidates = input.backupId ? [input.backupId] : (await bs.listBackupIds()).reverse();
        const damaged = input.backupId ? new Set<string>() : await backupsFoundCorrupt();
        for (const id of candidates) {
          if (damaged.has(id)) {
            logger.warn({ backupId: id }, 'skipping a backup a later check found damaged');
            continue;
          }
          const manifest = await bs.readManifest(id).catch((err: Error) => {
            if (input.backupId) throw err;
            logger.warn({ backupId: id, err: err.message }, 'skipping unreadable backup manifest');
            return undefined;
          });
          if (!manifest) continue;
          const fits = (!scopeIncludesDatabase(input.scope) || manifest.database) && (!scopeIncludesModels(input.scope) || manifest.models);
          if (input.backupId || (manifest.verification.status === 'verified' && fits)) {
            return { backupId: id, createdAt: manifest.createdAt, scope: manifest.scope, encrypted: manifest.encryption !== null };
          }
        }
        throw nonRetryable(`no verified backup with ${input.scope === 'full' ? 'database and models' : input.scope} in ${bs.bucket}`, 'NotFound');
      }, BACKUP_ERRORS);
    },

    /** Verify first: the manifest and every object's sha256, before anything is touched. */
    async verifyBackupForRecovery(input: { backupId: string; scope: BackupScope }): Promise<VerifiedBackup> {
      return failFastOnPermanent(
        () =>
          withHeartbeat(async () => {
        const manifest = await bs.readManifest(input.backupId);
        if (manifest.verification.status !== 'verified') {
          throw nonRetryable(`backup ${input.backupId} failed its verification (${manifest.verification.problems.join('; ')}); choose another backup`);
        }
        if (manifest.encryption) bs.requireKey(`backup ${input.backupId}`, manifest.encryption.keyId);
        if (scopeIncludesDatabase(input.scope) && !manifest.database) throw nonRetryable(`backup ${input.backupId} (scope ${manifest.scope}) holds no database`);
        if (scopeIncludesModels(input.scope) && !manifest.models) throw nonRetryable(`backup ${input.backupId} (scope ${manifest.scope}) holds no models`);
        const objects = objectsFor(manifest, input.scope);
        let bytes = 0;
        for (const [i, entry] of objects.entries()) {
          heartbeat({ phase: 'verifying', done: i, total: objects.length });
          await bs.checkObject(entry).catch(async (err: unknown) => {
            // The catalog learns of the damage too: `backup list` must stop calling this backup sound.
            if (err instanceof BackupIntegrityError) {
              await recordBackupCheck(orm, { backupId: input.backupId, state: 'corrupt', checkedAt: new Date().toISOString(), problems: [err.message] }).catch(() => undefined);
            }
            throw err;
          });
          bytes += entry.size;
        }
        return { backupId: input.backupId, objects: objects.length, bytes };
          }),
        BACKUP_ERRORS,
      );
    },

    /**
     * Restores the dump into a new database and checks its row counts against the manifest. The
     * dump is downloaded and its sha256 checked before pg_restore reads a byte of it (while the
     * staging database is created); pg_restore then runs with NOMALY_RESTORE_JOBS jobs. Nothing
     * here touches the live database: a failure drops the staging one, a retry recreates it.
     */
    async restoreDatabaseToStaging(input: { recoveryId: string; backupId: string }): Promise<RestoredToStaging> {
      return failFastOnPermanent(
        () =>
          withHeartbeat(async () => {
        const manifest = await bs.readManifest(input.backupId);
        const database = manifest.database;
        if (!database) throw nonRetryable(`backup ${input.backupId} holds no database`);
        const staging = stagingDatabaseFor(input.recoveryId);
        const t0 = Date.now();
        let createSeconds = 0;
        // Also discards a killed attempt's half. Runs while the dump downloads; awaited before pg_restore.
        const created = createEmptyDatabase(restoreUrl, staging, restoreAs).then(() => {
          createSeconds = (Date.now() - t0) / 1000;
        });
        created.catch(() => undefined);
        const stagingUrl = urlForDatabase(restoreUrl, staging);
        try {
          const restored = await restoreDump(bs, database.dump, stagingUrl, database.pgMajor, {
            asRole: restoreAs,
            jobs: config.backup.restoreJobs,
            ready: created,
            progress: (p) => heartbeat(p),
            signal: cancellationSignal(),
          });
          if (restored.sha256 !== database.dump.sha256) {
            throw new BackupIntegrityError(`backup object ${bs.bucket}/${database.dump.key} is corrupt: sha256 ${restored.sha256} does not match the manifest's ${database.dump.sha256}`);
          }
          heartbeat({ phase: 'counting rows' });
          const t1 = Date.now();
          const counts = await withDatabase(stagingUrl, tableRowCounts);
          const countSeconds = (Date.now() - t1) / 1000;
          const problems = compareRowCounts(database.rowCounts, counts);
          if (problems.length > 0) throw new BackupIntegrityError(`the restored database differs from backup ${input.backupId}: ${problems.join('; ')}`);
          if (restoreAs) {
            // Separate roles (scripts/provision-roles.sh): the backup role must read the restored database too.
            await applyRoleGrants(stagingUrl, appRole, userOf(config.backupDatabaseUrl), [userOf(restoreUrl)]);
          }
          return {
            stagingDatabase: staging,
            rows: Object.values(counts).reduce((a, b) => a + b, 0),
            timings: {
              createDatabaseSeconds: createSeconds,
              downloadSeconds: restored.downloadSeconds,
              pgRestoreSeconds: restored.restoreSeconds,
              pgRestoreJobs: config.backup.restoreJobs,
              rowCountSeconds: countSeconds,
            },
          };
        } catch (err) {
          await created.catch(() => undefined);
          await dropDatabaseIfExists(restoreUrl, staging).catch(() => undefined);
          throw err;
        }
          }),
        BACKUP_ERRORS,
      );
    },

    /**
     * Swaps the restored database in by renaming: the current one becomes `<name>_before_<stamp>`
     * (kept until an operator drops it). Connections to it are closed; the workers' pools
     * reconnect to the restored database under the same name.
     */
    async swapDatabase(input: { stagingDatabase: string; stamp: string }): Promise<{ previousDatabase: string | null }> {
      const previous = derivedDatabaseName(dbName, `before_${input.stamp}`);
      const result = await withAdmin(restoreUrl, async (admin) => {
        const exists = async (name: string) => (await admin.query('select 1 from pg_database where datname = $1', [name])).rowCount === 1;
        if (!(await exists(input.stagingDatabase))) {
          if (await exists(previous)) return { previousDatabase: previous }; // an earlier attempt swapped already
          throw nonRetryable(`the restored database ${input.stagingDatabase} is gone; retry the recovery from the restore step`, 'StagingMissing');
        }
        const hadCurrent = await exists(dbName);
        let lastError: unknown;
        for (let attempt = 0; attempt < 20; attempt++) {
          try {
            if (hadCurrent) {
              await admin.query(`alter database ${quoteIdent(dbName)} allow_connections false`);
              await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [dbName]);
            }
            await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [input.stagingDatabase]);
            await admin.query('begin');
            if (hadCurrent) await admin.query(`alter database ${quoteIdent(dbName)} rename to ${quoteIdent(previous)}`);
            await admin.query(`alter database ${quoteIdent(input.stagingDatabase)} rename to ${quoteIdent(dbName)}`);
            await admin.query('commit');
            if (hadCurrent) await admin.query(`alter database ${quoteIdent(previous)} allow_connections true`);
            return { previousDatabase: hadCurrent ? previous : null };
          } catch (err) {
            lastError = err;
            await admin.query('rollback').catch(() => undefined);
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        if (hadCurrent) await admin.query(`alter database ${quoteIdent(dbName)} allow_connections true`).catch(() => undefined);
        throw lastError;
      });
      await reconnectOrm();
      await migrate(orm); // a backup from an older release gets this release's schema
      logger.warn({ database: dbName, previous: result.previousDatabase }, 'restored database swapped in');
      return result;
    },

    async dropStagingDatabase(input: { recoveryId: string }): Promise<void> {
      await dropDatabaseIfExists(restoreUrl, stagingDatabaseFor(input.recoveryId));
    },

    /** Copies model artifacts back into the models bucket (only those missing or altered) and re-verifies each. */
    async restoreModels(input: { backupId: string }): Promise<{ models: number; restored: number; unchanged: number }> {
      return failFastOnPermanent(
        () =>
          withHeartbeat(async () => {
        const manifest = await bs.readManifest(input.backupId);
        const models = manifest.models;
        if (!models) throw nonRetryable(`backup ${input.backupId} holds no models`);
        await store.ensureBuckets([config.buckets.models]);
        let restored = 0;
        let unchanged = 0;
        for (const [i, model] of models.entries()) {
          heartbeat({ phase: 'models', done: i, total: models.length });
          const intact = await store.readPersistently(config.buckets.models, model.artifactKey, () => store.getVerifiedBytes(config.buckets.models, model.artifactKey, model.sha256)).then(
            () => true,
            (err: Error) => {
              // A damaged live artifact is replaced from the backup like a missing one.
              if (err instanceof ObjectMissingError || err instanceof ChecksumMismatchError || err instanceof ObjectUnreadableError) return false;
              throw err;
            },
          );
          if (intact) {
            unchanged++;
            continue;
          }
          const bytes = await bs.getVerifiedBytes(model.key, model.sha256).catch((err: Error) => {
            if (err instanceof ObjectMissingError || err instanceof ChecksumMismatchError) throw new BackupIntegrityError(err.message);
            throw err;
          });
          await store.putBytes(config.buckets.models, model.artifactKey, bytes);
          await store.getVerifiedBytes(config.buckets.models, model.artifactKey, model.sha256);
          restored++;
        }
        return { models: models.length, restored, unchanged };
          }),
        BACKUP_ERRORS,
      );
    },

    /** Every registry row's artifact must exist with its recorded sha256. */
    async checkRegistryArtifacts(input: { failOnMissing: boolean }): Promise<{ models: number; missing: string[] }> {
      const rows = await orm.em
        .fork()
        .getConnection()
        .execute<Array<{ name: string; version: number; artifact_key: string; artifact_sha256: string }>>(
          "select name, version, artifact_key, artifact_sha256 from model where artifact_sha256 is not null and status <> 'failed' order by id",
        );
      const missing: string[] = [];
      for (const row of rows) {
        const stat = await store.stat(config.buckets.models, row.artifact_key);
        if (!stat) missing.push(`${row.name}@${row.version} (${config.buckets.models}/${row.artifact_key} missing)`);
        else if (stat.sha256 && stat.sha256 !== row.artifact_sha256) missing.push(`${row.name}@${row.version} (${row.artifact_key} has another sha256)`);
      }
      if (missing.length > 0 && input.failOnMissing) {
        throw nonRetryable(`after the restore ${missing.length} registered model(s) lack their artifact: ${missing.slice(0, 20).join(', ')}`, 'ArtifactsMissing');
      }
      return { models: rows.length, missing };
    },

    /** Records the Recovery row and metrics, and re-synchronises the backup catalog from the manifests. */
    async finishRecovery(input: FinishRecoveryInput): Promise<FinishRecoveryResult> {
      const finished = new Date();
      const recoverySeconds = (finished.getTime() - new Date(input.startedAt).getTime()) / 1000;
      const dataLossWindowSeconds = input.backupCreatedAt ? (finished.getTime() - new Date(input.backupCreatedAt).getTime()) / 1000 : null;
      const em = orm.em.fork();
      let catalogSynced = 0;
      if (input.status === 'completed') {
        for (const id of await bs.listBackupIds()) {
          const manifest = await bs.readManifest(id).catch(() => undefined);
          if (!manifest) continue;
          await em.upsert(Backup, catalogRow(manifest, await bs.findManifestKey(id)));
          catalogSynced++;
        }
      }
      if (input.previousDatabase && (await databaseExists(restoreUrl, input.previousDatabase))) {
        const carried = await carryOverAudit(orm, urlForDatabase(config.databaseUrl, input.previousDatabase));
        logger.info({ from: input.previousDatabase, ...carried }, 'audit rows recorded since the backup carried over');
      }
      await em.upsert(Recovery, {
        id: input.recoveryId,
        backupId: input.backupId,
        scope: input.scope,
        status: input.status,
        startedAt: new Date(input.startedAt),
        finishedAt: finished,
        recoverySeconds,
        dataLossWindowSeconds,
        previousDatabase: input.previousDatabase ?? null,
        error: input.error?.slice(0, 4000) ?? null,
      });
      if (input.status === 'completed') {
        metrics.recoverySeconds?.set({ scope: input.scope }, recoverySeconds);
        if (dataLossWindowSeconds !== null) metrics.recoveryDataLossWindowSeconds?.set({ scope: input.scope }, dataLossWindowSeconds);
      }
      return { recoverySeconds, dataLossWindowSeconds, catalogSynced };
    },

    /** Whether the database a recovery kept aside still exists (for operators and tests). */
    async databaseExists(input: { name: string }): Promise<boolean> {
      return databaseExists(restoreUrl, input.name);
    },
  };
}

export type RecoveryActivities = ReturnType<typeof createRecoveryActivities>;
