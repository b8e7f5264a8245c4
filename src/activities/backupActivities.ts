import { Backup, type BackupScope } from '../db/backupEntities';
import { BackupStore } from '../backup/backupStore';
import { dumpDatabase } from '../backup/databaseDump';
import { manifestFromParts, type DatabasePart, type ModelsPart, type ObjectEntry, type Verification } from '../backup/manifest';
import { backupModelArtifacts } from '../backup/modelArtifacts';
import { databaseNameOf, urlForDatabase } from '../backup/pgDatabases';
import { applyBackupRetention, type RetentionResult } from '../backup/retention';
import { verifyBackupContents } from '../backup/verification';
import type { ActivityDeps } from './deps';
import { BACKUP_ERRORS, failFastOnPermanent } from './failures';
import { cancellationSignal, heartbeat, withHeartbeat } from './heartbeat';

export interface BeginBackupInput {
  backupId: string;
  scope: BackupScope;
  workflowId: string;
  startedAt: string;
}

export interface DumpSummary {
  dump: ObjectEntry;
  tables: number;
  rows: number;
  sizeBytes: number;
  pgVersion: string;
}

export interface ModelsSummary {
  models: number;
  copied: number;
  reused: number;
  missing: string[];
}

export interface FinishBackupInput {
  backupId: string;
  scope: BackupScope;
  workflowId: string;
  startedAt: string;
  verification?: Verification;
  /** Set when a step failed for good: the backup is recorded as failed with this reason. */
  error?: string;
}

export interface FinishBackupResult {
  backupId: string;
  status: 'verified' | 'failed';
  manifestKey: string | null;
  objects: number;
  bytes: number;
  problems: string[];
}

export interface RetentionInput {
  /** ISO time retention is computed against (the workflow's clock). */
  now: string;
  retentionDays?: number;
  modelBackupsKeep?: number;
}

export type { RetentionResult };

/** What a step that failed for good leaves: a failed verification naming why. */
function failedVerification(problems: string[]): Verification {
  return { status: 'failed', checkedAt: new Date().toISOString(), objectsChecked: 0, rowCountsMatch: null, problems };
}

export function createBackupActivities({ config, orm, store, logger, metrics }: ActivityDeps) {
  const bs = new BackupStore(config, store);
  /** pg_dump, the row counts and the verification's scratch database run as the backup role. */
  const backupUrl = urlForDatabase(config.backupDatabaseUrl, databaseNameOf(config.databaseUrl));

  return {
    /** Records the backup as running. Keyed by the backup id: a retry finds its own row. */
    async beginBackup(input: BeginBackupInput): Promise<{ encrypted: boolean; keyId: string | null }> {
      const key = bs.encryptionKey();
      await bs.ensureBucket();
      await orm.em.fork().upsert(
        Backup,
        { id: input.backupId, scope: input.scope, status: 'running', startedAt: new Date(input.startedAt), workflowId: input.workflowId, encryptionKeyId: key?.id ?? null },
        { onConflictFields: ['id'], onConflictAction: 'ignore' },
      );
      return { encrypted: key !== null, keyId: key?.id ?? null };
    },

    /** pg_dump of the platform database into the backup bucket (see dumpDatabase), checksummed and published. */
    async dumpDatabase(input: { backupId: string }): Promise<DumpSummary> {
      const part = await failFastOnPermanent(
        () => withHeartbeat(() => dumpDatabase(bs, backupUrl, input.backupId, { progress: heartbeat, signal: cancellationSignal() })),
        BACKUP_ERRORS,
      );
      await orm.em.fork().nativeUpdate(Backup, { id: input.backupId }, { pgVersion: part.pgVersion, dbSizeBytes: part.sizeBytes });
      const tables = Object.keys(part.rowCounts).length;
      logger.info({ backupId: input.backupId, bytes: part.dump.size, tables }, 'database dumped');
      return { dump: part.dump, tables, rows: Object.values(part.rowCounts).reduce((a, b) => a + b, 0), sizeBytes: part.sizeBytes, pgVersion: part.pgVersion };
    },

    /** Copies every registered model artifact into the backup bucket under its sha256, once (see backupModelArtifacts). */
    async backupModelArtifacts(input: { backupId: string }): Promise<ModelsSummary> {
      const part = await failFastOnPermanent(() => withHeartbeat(() => backupModelArtifacts(bs, orm, input.backupId, heartbeat)), BACKUP_ERRORS);
      return { models: part.models.length, copied: part.copied, reused: part.reused, missing: part.missing };
    },

    /** Restores the dump into a scratch database and checks row counts and every object's sha256 (see verifyBackupContents). */
    async verifyBackup(input: { backupId: string; scope: BackupScope }): Promise<Verification> {
      return failFastOnPermanent(
        () =>
          withHeartbeat(async () =>
            verifyBackupContents(bs, input.backupId, await bs.readParts(input.backupId, input.scope), {
              serverUrl: config.backupDatabaseUrl,
              restoreJobs: config.backup.restoreJobs,
              progress: heartbeat,
              signal: cancellationSignal(),
            }),
          ),
        BACKUP_ERRORS,
      );
    },

    /** Writes manifest.json and marks the backup verified or failed: never neither. */
    async finishBackup(input: FinishBackupInput): Promise<FinishBackupResult> {
      const key = bs.encryptionKey();
      let parts: { database: DatabasePart | null; models: ModelsPart | null } = { database: null, models: null };
      let verification = input.verification ?? failedVerification([]);
      if (input.error) verification = { ...verification, status: 'failed', problems: [...verification.problems, input.error] };
      try {
        parts = await bs.readParts(input.backupId, input.scope);
      } catch (err) {
        if (verification.status === 'verified') throw err; // cannot happen without parts; be loud if it does
        verification = { ...verification, status: 'failed', problems: [...verification.problems, `parts unreadable: ${(err as Error).message}`] };
      }
      const manifest = manifestFromParts({ ...input, ...parts, verification, encryptionKeyId: key?.id ?? null });
      // A backup that failed before any step recorded a part has nothing to describe.
      const manifestKey = verification.status === 'verified' || parts.database || parts.models ? (await bs.writeManifest(manifest)).key : null;
      await orm.em.fork().upsert(Backup, {
        id: input.backupId,
        scope: input.scope,
        status: verification.status,
        startedAt: new Date(input.startedAt),
        finishedAt: new Date(),
        workflowId: input.workflowId,
        pgVersion: parts.database?.pgVersion ?? null,
        dbSizeBytes: parts.database?.sizeBytes ?? null,
        manifestKey,
        encryptionKeyId: key?.id ?? null,
        error: verification.status === 'failed' ? verification.problems.join('; ').slice(0, 4000) || 'failed' : null,
      });
      await bs.clearStaging(input.backupId).catch(() => undefined);
      if (verification.status === 'verified') metrics.lastVerifiedBackup?.set(Date.now() / 1000);
      return {
        backupId: input.backupId,
        status: verification.status,
        manifestKey,
        objects: manifest.objects.length,
        bytes: manifest.objects.reduce((a, o) => a + o.size, 0),
        problems: verification.problems,
      };
    },

    /** Prunes backups beyond retention and the model artifacts no remaining backup needs (see applyBackupRetention). */
    async applyBackupRetention(input: RetentionInput): Promise<RetentionResult> {
      return applyBackupRetention(
        bs,
        orm,
        { now: input.now, retentionDays: input.retentionDays ?? config.backup.retentionDays, modelBackupsKeep: input.modelBackupsKeep ?? config.backup.modelBackupsKeep },
        logger,
      );
    },
  };
}

export type BackupActivities = ReturnType<typeof createBackupActivities>;
