import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { Recovery, scopeIncludesDatabase, scopeIncludesModels, type BackupScope, type RecoveryStatus } from '../db/backupEntities';
import { migrate } from '../db/orm';
import { BackupIntegrityError } from '../backup/backupIntegrityError';
import { chooseBackup } from '../backup/backupChoice';
import { BackupStore } from '../backup/backupStore';
import { backupsFoundCorrupt, recordBackupCheck, syncCatalogFromManifests } from '../backup/catalog';
import { StagingDatabaseMissingError, swapInDatabase } from '../backup/databaseSwap';
import { objectsFor } from '../backup/manifest';
import { registryArtifactsMissing, restoreModelArtifacts } from '../backup/modelArtifacts';
import { databaseExists, databaseNameOf, derivedDatabaseName, dropDatabaseIfExists, urlForDatabase, userOf } from '../backup/pgDatabases';
import { carryOverAudit } from '../backup/recoveryAudit';
import { restoreIntoStaging, type StagingRestoreTimings } from '../backup/stagingRestore';
import type { ActivityDeps } from './deps';
import { BACKUP_ERRORS, failFastOnPermanent } from './failures';
import { cancellationSignal, heartbeat, withHeartbeat } from './heartbeat';

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
  timings?: StagingRestoreTimings;
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

  return {
    /** The backup to restore: the one asked for, else the newest verified one not since found damaged (from the manifests; the catalog only vetoes). */
    async resolveRecoveryBackup(input: { backupId?: string; scope: BackupScope }): Promise<ResolvedBackup> {
      return failFastOnPermanent(async () => {
        const manifest = await chooseBackup(bs, {
          backupId: input.backupId,
          scope: input.scope,
          damaged: input.backupId ? new Set<string>() : await backupsFoundCorrupt(orm),
          skipped: (backupId, reason) => logger.warn({ backupId, reason }, 'skipping a backup'),
        });
        if (!manifest) throw nonRetryable(`no verified backup with ${input.scope === 'full' ? 'database and models' : input.scope} in ${bs.bucket}`, 'NotFound');
        return { backupId: manifest.id, createdAt: manifest.createdAt, scope: manifest.scope, encrypted: manifest.encryption !== null };
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
            for (const [i, entry] of objects.entries()) {
              heartbeat({ phase: 'verifying', done: i, total: objects.length });
              await bs.checkObject(entry).catch(async (err: unknown) => {
                // The catalog learns of the damage too: `backup list` must stop calling this backup sound.
                if (err instanceof BackupIntegrityError) {
                  await recordBackupCheck(orm, { backupId: input.backupId, state: 'corrupt', checkedAt: new Date().toISOString(), problems: [err.message] }).catch(() => undefined);
                }
                throw err;
              });
            }
            return { backupId: input.backupId, objects: objects.length, bytes: objects.reduce((a, o) => a + o.size, 0) };
          }),
        BACKUP_ERRORS,
      );
    },

    /** Restores the dump into a new database with NOMALY_RESTORE_JOBS jobs and checks its row counts (see restoreIntoStaging). */
    async restoreDatabaseToStaging(input: { recoveryId: string; backupId: string }): Promise<RestoredToStaging> {
      return failFastOnPermanent(
        () =>
          withHeartbeat(async () => {
            const { database } = await bs.readManifest(input.backupId);
            if (!database) throw nonRetryable(`backup ${input.backupId} holds no database`);
            const stagingDatabase = stagingDatabaseFor(input.recoveryId);
            const restored = await restoreIntoStaging(bs, input.backupId, database, {
              serverUrl: restoreUrl,
              stagingDatabase,
              asRole: restoreAs,
              // Separate roles (scripts/provision-roles.sh): the backup role must read the restored database too.
              grants: restoreAs ? { owner: appRole, reader: userOf(config.backupDatabaseUrl), connectors: [userOf(restoreUrl)] } : undefined,
              restoreJobs: config.backup.restoreJobs,
              progress: heartbeat,
              signal: cancellationSignal(),
            });
            return { stagingDatabase, ...restored };
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
      const result = await swapInDatabase(restoreUrl, { current: dbName, staging: input.stagingDatabase, previous }).catch((err: unknown) => {
        throw err instanceof StagingDatabaseMissingError ? nonRetryable(err.message, 'StagingMissing') : err;
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
            const { models } = await bs.readManifest(input.backupId);
            if (!models) throw nonRetryable(`backup ${input.backupId} holds no models`);
            return restoreModelArtifacts(bs, models, heartbeat);
          }),
        BACKUP_ERRORS,
      );
    },

    /** Every registry row's artifact must exist with its recorded sha256. */
    async checkRegistryArtifacts(input: { failOnMissing: boolean }): Promise<{ models: number; missing: string[] }> {
      const { models, missing } = await registryArtifactsMissing(orm, bs);
      if (missing.length > 0 && input.failOnMissing) {
        throw nonRetryable(`after the restore ${missing.length} registered model(s) lack their artifact: ${missing.slice(0, 20).join(', ')}`, 'ArtifactsMissing');
      }
      return { models, missing };
    },

    /** Records the Recovery row and metrics, and re-synchronises the backup catalog from the manifests. */
    async finishRecovery(input: FinishRecoveryInput): Promise<FinishRecoveryResult> {
      const finished = new Date();
      const recoverySeconds = (finished.getTime() - new Date(input.startedAt).getTime()) / 1000;
      const dataLossWindowSeconds = input.backupCreatedAt ? (finished.getTime() - new Date(input.backupCreatedAt).getTime()) / 1000 : null;
      const catalogSynced = input.status === 'completed' ? await syncCatalogFromManifests(orm, bs) : 0;
      if (input.previousDatabase && (await databaseExists(restoreUrl, input.previousDatabase))) {
        const carried = await carryOverAudit(orm, urlForDatabase(config.databaseUrl, input.previousDatabase));
        logger.info({ from: input.previousDatabase, ...carried }, 'audit rows recorded since the backup carried over');
      }
      await orm.em.fork().upsert(Recovery, {
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
