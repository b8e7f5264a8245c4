import { ApplicationFailure, defineQuery, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { FinishBackupResult, RetentionResult } from '../activities/backupActivities';
import type { Verification } from '../backup/manifest';
import { longSteps, shortSteps } from './backupActivityOptions';
import { backupIdFor, validateBackupInput, type BackupInput } from '../api/backupInputs';
import { rootCauseMessage } from '../api/rootCause';
import { SEARCH_ATTRIBUTES } from '../api/searchAttributes';

export type BackupPhase =
  | 'validating'
  | 'starting'
  | 'dumping'
  | 'copying-models'
  | 'verifying'
  | 'writing-manifest'
  | 'retention'
  | 'completed'
  | 'failed';

export interface BackupProgress {
  phase: BackupPhase;
  backupId: string | null;
  scope: string | null;
  lastError: string | null;
}

export interface BackupResult extends FinishBackupResult {
  scope: string;
  verification: Verification | null;
  retention: RetentionResult | null;
  durationMs: number;
}

export const backupProgressQuery = defineQuery<BackupProgress>('progress');

/**
 * pg_dump of the platform database (from an exported snapshot, with row counts on it) and the
 * model artifacts into the backup bucket; verified by a restore into a scratch database and a
 * checksum of every object; a manifest; then retention. Verified or failed, never neither.
 */
export async function backup(rawInput: BackupInput = {}): Promise<BackupResult> {
  const progress: BackupProgress = { phase: 'validating', backupId: null, scope: null, lastError: null };
  setHandler(backupProgressQuery, () => ({ ...progress }));
  const input = validateBackupInput(rawInput);
  const info = workflowInfo();
  const started = new Date();
  const backupId = backupIdFor(started, info.runId);
  Object.assign(progress, { backupId, scope: input.scope });
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.jobStatus, value: 'running' }]);
  const long = longSteps(input.options);
  const short = shortSteps(input.options);
  const base = { backupId, scope: input.scope, workflowId: info.workflowId, startedAt: started.toISOString() };

  progress.phase = 'starting';
  await short.beginBackup(base);
  let verification: Verification | undefined;
  let error: string | undefined;
  try {
    if (input.scope !== 'models') {
      progress.phase = 'dumping';
      await long.dumpDatabase({ backupId });
    }
    if (input.scope !== 'database') {
      progress.phase = 'copying-models';
      await long.backupModelArtifacts({ backupId });
    }
    progress.phase = 'verifying';
    verification = await long.verifyBackup({ backupId, scope: input.scope });
  } catch (err) {
    error = rootCauseMessage(err);
    progress.lastError = error;
  }

  progress.phase = 'writing-manifest';
  const finished = await short.finishBackup({ ...base, verification, error });
  let retention: RetentionResult | null = null;
  if (finished.status === 'verified' && input.retention) {
    progress.phase = 'retention';
    retention = await short.applyBackupRetention({
      now: new Date().toISOString(),
      retentionDays: input.retentionDays,
      modelBackupsKeep: input.modelBackupsKeep,
    });
  }
  if (finished.status !== 'verified') {
    progress.phase = 'failed';
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.jobStatus, value: 'failed' }]);
    throw ApplicationFailure.nonRetryable(`backup ${backupId} failed: ${finished.problems.join('; ') || error || 'not verified'}`, 'BackupFailed');
  }
  progress.phase = 'completed';
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.jobStatus, value: 'completed' }]);
  return { ...finished, scope: input.scope, verification: verification ?? null, retention, durationMs: Date.now() - started.getTime() };
}
