import { defineQuery, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { BackupCheck } from '../activities/backupCheckActivities';
import { alerts } from './activityOptions';
import { longSteps, shortSteps } from './backupActivityOptions';
import { validateVerifyBackupsInput, type VerifyBackupsInput } from '../api/backupInputs';
import { SEARCH_ATTRIBUTES } from '../api/searchAttributes';

export interface VerifyBackupsProgress {
  phase: 'validating' | 'listing' | 'checking' | 'completed';
  backupIds: string[];
  checked: number;
}

export interface VerifyBackupsResult {
  checks: BackupCheck[];
  /** Ids of the backups found damaged (each check's problems name the objects). */
  corrupt: string[];
}

export const verifyBackupsProgressQuery = defineQuery<VerifyBackupsProgress>('progress');

/**
 * Re-reads and re-hashes every object of one backup (`nomaly backup verify ID`) or of the newest
 * verified ones (the scheduled check), recording each outcome and its time in the catalog. A
 * damaged backup is reported (and alerted), not thrown: the run's job is to find it.
 */
export async function verifyBackups(rawInput: VerifyBackupsInput = {}): Promise<VerifyBackupsResult> {
  const progress: VerifyBackupsProgress = { phase: 'validating', backupIds: [], checked: 0 };
  setHandler(verifyBackupsProgressQuery, () => ({ ...progress, backupIds: [...progress.backupIds] }));
  const input = validateVerifyBackupsInput(rawInput);
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.jobStatus, value: 'running' }]);
  const long = longSteps(input.options);
  const short = shortSteps(input.options);

  progress.phase = 'listing';
  progress.backupIds = input.backupId ? [input.backupId] : await short.listBackupsToCheck({ newest: input.newest });
  progress.phase = 'checking';
  const checks: BackupCheck[] = [];
  for (const backupId of progress.backupIds) {
    checks.push(await long.checkBackup({ backupId }));
    progress.checked = checks.length;
  }
  const corrupt = checks.filter((c) => c.state === 'corrupt').map((c) => c.backupId);
  if (corrupt.length > 0) {
    // Found by a schedule at night, damage must reach a person; the check's result stands even if the webhook does not answer.
    const damaged = checks.filter((c) => c.state === 'corrupt').map((c) => ({ backupId: c.backupId, problems: c.problems.slice(0, 10) }));
    await alerts.postAlert({ kind: 'nomaly.backup.corrupt', checkId: workflowInfo().workflowId, backups: damaged }).catch(() => undefined);
  }
  progress.phase = 'completed';
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.jobStatus, value: corrupt.length ? 'corrupt-found' : 'completed' }]);
  return { checks, corrupt };
}
