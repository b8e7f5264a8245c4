import { BigIntType, EntitySchema } from '@mikro-orm/core';

/**
 * The backup and recovery catalog. The manifests in the backup bucket are the source of truth
 * (a restored database holds the catalog as it was at the backup's snapshot); these rows are
 * the queryable mirror, re-synchronised from the manifests after every recovery.
 */

export type BackupScope = 'database' | 'models' | 'full';
/** Whether a backup or recovery of this scope covers the database, and the model artifacts. */
export const scopeIncludesDatabase = (scope: BackupScope): boolean => scope !== 'models';
export const scopeIncludesModels = (scope: BackupScope): boolean => scope !== 'database';
export type BackupStatus = 'running' | 'verified' | 'failed';
/** What the last re-read of a backup's objects found; null: never re-checked since it was made. */
export type BackupCheckState = 'verified' | 'corrupt';

export class Backup {
  id!: string;
  scope!: BackupScope;
  status: BackupStatus = 'running';
  startedAt: Date = new Date();
  finishedAt?: Date | null;
  pgVersion?: string | null;
  dbSizeBytes?: number | null;
  manifestKey?: string | null;
  /** The workflow that made it: a retried activity finds its own row. */
  workflowId!: string;
  encryptionKeyId?: string | null;
  error?: string | null;
  lastCheckedAt?: Date | null;
  checkState?: BackupCheckState | null;
  /** The first problem the last check found (it names the object). */
  checkProblem?: string | null;
}

export const BackupSchema = new EntitySchema<Backup>({
  class: Backup,
  tableName: 'backup',
  properties: {
    id: { type: 'string', primary: true },
    scope: { type: 'string' },
    status: { type: 'string' },
    startedAt: { type: 'datetime' },
    finishedAt: { type: 'datetime', nullable: true },
    pgVersion: { type: 'string', nullable: true },
    dbSizeBytes: { type: new BigIntType('number'), nullable: true },
    manifestKey: { type: 'string', nullable: true },
    workflowId: { type: 'string' },
    encryptionKeyId: { type: 'string', nullable: true },
    error: { type: 'text', nullable: true },
    lastCheckedAt: { type: 'datetime', nullable: true },
    checkState: { type: 'string', nullable: true },
    checkProblem: { type: 'text', nullable: true },
  },
});

export type RecoveryStatus = 'running' | 'completed' | 'failed' | 'aborted';

export class Recovery {
  /** The disasterRecovery workflow id. */
  id!: string;
  backupId!: string;
  scope!: BackupScope;
  status: RecoveryStatus = 'running';
  startedAt: Date = new Date();
  finishedAt?: Date | null;
  /** Recovery time: from the workflow's start to the recovered platform. */
  recoverySeconds?: number | null;
  /** Data-loss window: the age of the backup when the recovery finished. */
  dataLossWindowSeconds?: number | null;
  /** The replaced database, kept under this name until an operator drops it. */
  previousDatabase?: string | null;
  error?: string | null;
}

export const RecoverySchema = new EntitySchema<Recovery>({
  class: Recovery,
  tableName: 'recovery',
  properties: {
    id: { type: 'string', primary: true },
    backupId: { type: 'string' },
    scope: { type: 'string' },
    status: { type: 'string' },
    startedAt: { type: 'datetime' },
    finishedAt: { type: 'datetime', nullable: true },
    recoverySeconds: { type: 'double', nullable: true },
    dataLossWindowSeconds: { type: 'double', nullable: true },
    previousDatabase: { type: 'string', nullable: true },
    error: { type: 'text', nullable: true },
  },
});
