import { invalidInput } from './inputs';

/**
 * Input validation for the backup and disasterRecovery workflows (and the client, before it
 * starts one): one JSON object, every bad field named in a non-retryable error.
 */

export const BACKUP_SCOPES = ['full', 'database', 'models'] as const;
export type BackupScopeInput = (typeof BACKUP_SCOPES)[number];
export const BACKUP_ID = /^bk-[0-9a-z][0-9a-z-]{0,60}$/;

/** How activities retry before the workflow gives up (backup) or waits for an operator (recovery). */
export interface StepRetryOptions {
  maxAttempts?: number;
  retryInitialSeconds?: number;
  retryMaxSeconds?: number;
  /** Long steps (dump, restore, checksums) heartbeat; a worker that dies is noticed after this long. */
  heartbeatTimeoutSeconds?: number;
}

export type ValidStepRetryOptions = Required<StepRetryOptions>;

export interface BackupInput {
  scope?: BackupScopeInput;
  /** Apply retention after a verified backup (default true). */
  retention?: boolean;
  retentionDays?: number;
  modelBackupsKeep?: number;
  options?: StepRetryOptions;
}

export interface ValidBackupInput {
  scope: BackupScopeInput;
  retention: boolean;
  retentionDays?: number;
  modelBackupsKeep?: number;
  options: ValidStepRetryOptions;
}

export interface DisasterRecoveryInput {
  scope: BackupScopeInput;
  /** Default: the newest verified backup that holds the scope. */
  backupId?: string;
  options?: StepRetryOptions;
}

export interface ValidDisasterRecoveryInput {
  scope: BackupScopeInput;
  backupId?: string;
  options: ValidStepRetryOptions;
}

export const BACKUP_RETRY_DEFAULTS: ValidStepRetryOptions = { maxAttempts: 5, retryInitialSeconds: 2, retryMaxSeconds: 60, heartbeatTimeoutSeconds: 60 };
export const RECOVERY_RETRY_DEFAULTS: ValidStepRetryOptions = { maxAttempts: 8, retryInitialSeconds: 2, retryMaxSeconds: 60, heartbeatTimeoutSeconds: 60 };

type Json = Record<string, unknown>;

function asObject(workflow: string, field: string, value: unknown, example: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalidInput(workflow, field, `must be one JSON object, e.g. ${example}`);
  return value as Json;
}

function rejectUnknown(workflow: string, prefix: string, input: Json, allowed: readonly string[]): void {
  for (const key of Object.keys(input)) {
    if (!allowed.includes(key)) invalidInput(workflow, `${prefix}${key}`, `is not a known field (known: ${allowed.join(', ')})`);
  }
}

function optionalNumber(workflow: string, input: Json, field: string, label: string, min: number, max: number, integer: boolean): number | undefined {
  const value = input[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    invalidInput(workflow, label, `must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function scopeOf(workflow: string, value: unknown, fallback?: BackupScopeInput): BackupScopeInput {
  if (value === undefined && fallback) return fallback;
  if (value === undefined) invalidInput(workflow, 'scope', `is required: one of ${BACKUP_SCOPES.join(', ')}`);
  if (!BACKUP_SCOPES.includes(value as never)) invalidInput(workflow, 'scope', `"${String(value)}" is not one of ${BACKUP_SCOPES.join(', ')}`);
  return value as BackupScopeInput;
}

function retryOptions(workflow: string, raw: unknown, defaults: ValidStepRetryOptions): ValidStepRetryOptions {
  if (raw === undefined) return { ...defaults };
  const input = asObject(workflow, 'options', raw, '{"maxAttempts": 5, "retryInitialSeconds": 2}');
  rejectUnknown(workflow, 'options.', input, ['maxAttempts', 'retryInitialSeconds', 'retryMaxSeconds', 'heartbeatTimeoutSeconds']);
  const options: ValidStepRetryOptions = {
    maxAttempts: optionalNumber(workflow, input, 'maxAttempts', 'options.maxAttempts', 1, 1000, true) ?? defaults.maxAttempts,
    retryInitialSeconds: optionalNumber(workflow, input, 'retryInitialSeconds', 'options.retryInitialSeconds', 0.05, 3600, false) ?? defaults.retryInitialSeconds,
    retryMaxSeconds: optionalNumber(workflow, input, 'retryMaxSeconds', 'options.retryMaxSeconds', 0.05, 86400, false) ?? defaults.retryMaxSeconds,
    heartbeatTimeoutSeconds: optionalNumber(workflow, input, 'heartbeatTimeoutSeconds', 'options.heartbeatTimeoutSeconds', 2, 86400, true) ?? defaults.heartbeatTimeoutSeconds,
  };
  if (options.retryMaxSeconds < options.retryInitialSeconds) invalidInput(workflow, 'options.retryMaxSeconds', 'must not be below options.retryInitialSeconds');
  return options;
}

export function validateBackupInput(raw: unknown): ValidBackupInput {
  const w = 'backup';
  const input = asObject(w, '(input)', raw ?? {}, '{"scope": "full"}');
  rejectUnknown(w, '', input, ['scope', 'retention', 'retentionDays', 'modelBackupsKeep', 'options']);
  if (input.retention !== undefined && typeof input.retention !== 'boolean') invalidInput(w, 'retention', 'must be true or false');
  return {
    scope: scopeOf(w, input.scope, 'full'),
    retention: input.retention !== false,
    retentionDays: optionalNumber(w, input, 'retentionDays', 'retentionDays', 1, 36500, true),
    modelBackupsKeep: optionalNumber(w, input, 'modelBackupsKeep', 'modelBackupsKeep', 1, 10000, true),
    options: retryOptions(w, input.options, BACKUP_RETRY_DEFAULTS),
  };
}

export function validateDisasterRecoveryInput(raw: unknown): ValidDisasterRecoveryInput {
  const w = 'disasterRecovery';
  const input = asObject(w, '(input)', raw, '{"scope": "full"} or {"scope": "database", "backupId": "bk-…"}');
  rejectUnknown(w, '', input, ['scope', 'backupId', 'options']);
  const backupId = input.backupId;
  if (backupId !== undefined && (typeof backupId !== 'string' || !BACKUP_ID.test(backupId))) {
    invalidInput(w, 'backupId', `${JSON.stringify(backupId)} is not a backup id (they look like bk-20261122-023000-1a2b3c4d; nomaly backup list)`);
  }
  return { scope: scopeOf(w, input.scope), backupId: backupId as string | undefined, options: retryOptions(w, input.options, RECOVERY_RETRY_DEFAULTS) };
}

export interface VerifyBackupsInput {
  /** Check this backup; without it, the newest `newest` verified backups. */
  backupId?: string;
  newest?: number;
  options?: StepRetryOptions;
}

export interface ValidVerifyBackupsInput {
  backupId?: string;
  newest: number;
  options: ValidStepRetryOptions;
}

export const VERIFY_BACKUPS_DEFAULTS = { newest: 3 } as const;

export function validateVerifyBackupsInput(raw: unknown): ValidVerifyBackupsInput {
  const w = 'verifyBackups';
  const input = asObject(w, '(input)', raw ?? {}, '{"backupId": "bk-…"} or {"newest": 3}');
  rejectUnknown(w, '', input, ['backupId', 'newest', 'options']);
  const backupId = input.backupId;
  if (backupId !== undefined && (typeof backupId !== 'string' || !BACKUP_ID.test(backupId))) {
    invalidInput(w, 'backupId', `${JSON.stringify(backupId)} is not a backup id (they look like bk-20261122-023000-1a2b3c4d; nomaly backup list)`);
  }
  if (backupId !== undefined && input.newest !== undefined) invalidInput(w, 'newest', 'goes without backupId: give one backup id or how many of the newest backups to check');
  return {
    backupId: backupId as string | undefined,
    newest: optionalNumber(w, input, 'newest', 'newest', 1, 1000, true) ?? VERIFY_BACKUPS_DEFAULTS.newest,
    options: retryOptions(w, input.options, BACKUP_RETRY_DEFAULTS),
  };
}

/** What an operator runs to resume or give up a recovery that waits for one (printed by the CLI, sent with the alert). */
export function operatorCommands(recoveryId: string): { retry: string; abort: string } {
  return { retry: `nomaly restore retry ${recoveryId}`, abort: `nomaly restore abort ${recoveryId}` };
}

/** The backup id of a workflow run: its start time and run id, the same on every replay. */
export function backupIdFor(started: Date, runId: string): string {
  const iso = started.toISOString(); // 2026-11-22T02:30:00.000Z
  const stamp = `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}`;
  return `bk-${stamp}-${runId.replace(/[^0-9a-f]/gi, '').slice(0, 8).toLowerCase()}`;
}

export function timestampSuffix(at: Date): string {
  const iso = at.toISOString();
  return `${iso.slice(0, 10).replace(/-/g, '')}_${iso.slice(11, 19).replace(/:/g, '')}`;
}

