import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  defineQuery,
  defineSignal,
  patched,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { FinishRecoveryResult, ResolvedBackup } from '../activities/recoveryActivities';
import { alerts } from './activityOptions';
import { longSteps, shortSteps } from './backupActivityOptions';
import { operatorCommands, timestampSuffix, validateDisasterRecoveryInput, type DisasterRecoveryInput } from '../api/backupInputs';
import { rootCauseMessage } from '../api/rootCause';
import { SEARCH_ATTRIBUTES } from '../api/searchAttributes';

export type RecoveryPhase =
  | 'validating'
  | 'resolving-backup'
  | 'verifying-backup'
  | 'restoring-database'
  | 'swapping-database'
  | 'restoring-models'
  | 'checking-artifacts'
  | 'recording'
  | 'awaiting-operator'
  | 'completed'
  | 'failed'
  | 'aborted';

export interface RecoveryProgress {
  phase: RecoveryPhase;
  scope: string | null;
  backupId: string | null;
  /** While awaiting an operator: the step that ran out of retries, and why. */
  failedStep: RecoveryPhase | null;
  lastError: string | null;
  operatorRetries: number;
  previousDatabase: string | null;
}

export interface RecoveryResult extends FinishRecoveryResult {
  recoveryId: string;
  backupId: string;
  scope: string;
  previousDatabase: string | null;
  restoredRows: number | null;
  models: { models: number; restored: number; unchanged: number } | null;
  artifactsMissing: string[];
}

export const recoveryProgressQuery = defineQuery<RecoveryProgress>('progress');
/** Start over from the step that ran out of retries. */
export const retrySignal = defineSignal('retry');
/** Give up: the recovery ends as aborted; the current data stays as it is. */
export const abortSignal = defineSignal('abort');

function isPermanent(err: unknown): boolean {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure && cause.nonRetryable === true;
}

/**
 * Restores the database, the models or both from a backup (default: the newest verified one).
 * Verify first; restore into a new database and swap it in by rename; models are copied back
 * and re-verified. A step that runs out of retries waits for an operator's `retry` or `abort`.
 */
export async function disasterRecovery(rawInput: DisasterRecoveryInput): Promise<RecoveryResult> {
  const progress: RecoveryProgress = {
    phase: 'validating',
    scope: null,
    backupId: null,
    failedStep: null,
    lastError: null,
    operatorRetries: 0,
    previousDatabase: null,
  };
  let decision: 'retry' | 'abort' | undefined;
  setHandler(recoveryProgressQuery, () => ({ ...progress }));
  setHandler(retrySignal, () => {
    if (progress.phase === 'awaiting-operator') decision = 'retry';
  });
  setHandler(abortSignal, () => {
    decision = 'abort';
  });

  const input = validateDisasterRecoveryInput(rawInput);
  const recoveryId = workflowInfo().workflowId;
  const started = new Date();
  progress.scope = input.scope;
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.jobStatus, value: 'running' }]);
  const long = longSteps(input.options);
  const short = shortSteps(input.options);
  // Bookkeeping after a failure must not itself wait for an operator.
  const bestEffort = shortSteps({ ...input.options, maxAttempts: 3 });

  let resolved: ResolvedBackup | undefined;
  let staging: string | undefined;
  let swapped = false;

  async function step<T>(phase: RecoveryPhase, work: () => Promise<T>): Promise<T> {
    for (;;) {
      if (decision === 'abort') throw ApplicationFailure.nonRetryable('recovery aborted by an operator', 'RecoveryAborted');
      progress.phase = phase;
      try {
        const result = await work();
        progress.failedStep = null;
        return result;
      } catch (err) {
        if (isPermanent(err)) throw err;
        progress.phase = 'awaiting-operator';
        progress.failedStep = phase;
        progress.lastError = rootCauseMessage(err);
        upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.jobStatus, value: 'awaiting-operator' }]);
        if (patched('recovery-operator-alert')) {
          // Not awaited: a failing webhook must not delay the wait, nor an operator's answer; the wait goes on whether it arrives or not.
          alerts
            .postAlert({
              kind: 'nomaly.recovery.awaiting-operator',
              recoveryId,
              failedStep: phase,
              error: progress.lastError,
              operatorRetries: progress.operatorRetries,
              commands: operatorCommands(recoveryId),
            })
            .catch(() => undefined);
        }
        decision = undefined;
        await condition(() => decision !== undefined);
        if (decision === 'abort') throw ApplicationFailure.nonRetryable(`recovery aborted by an operator after: ${progress.lastError}`, 'RecoveryAborted');
        decision = undefined;
        progress.operatorRetries++;
        upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.jobStatus, value: 'running' }]);
      }
    }
  }

  try {
    resolved = await step('resolving-backup', () => short.resolveRecoveryBackup({ backupId: input.backupId, scope: input.scope }));
    progress.backupId = resolved.backupId;
    const backupId = resolved.backupId;
    await step('verifying-backup', () => long.verifyBackupForRecovery({ backupId, scope: input.scope }));

    let restoredRows: number | null = null;
    if (input.scope !== 'models') {
      const restored = await step('restoring-database', () => long.restoreDatabaseToStaging({ recoveryId, backupId }));
      staging = restored.stagingDatabase;
      restoredRows = restored.rows;
      const stagingDatabase = staging;
      const { previousDatabase } = await step('swapping-database', () => short.swapDatabase({ stagingDatabase, stamp: timestampSuffix(started) }));
      swapped = true;
      progress.previousDatabase = previousDatabase;
    }
    let models: RecoveryResult['models'] = null;
    if (input.scope !== 'database') models = await step('restoring-models', () => long.restoreModels({ backupId }));
    const check = await step('checking-artifacts', () => short.checkRegistryArtifacts({ failOnMissing: input.scope !== 'database' }));

    const finished = await step('recording', () =>
      short.finishRecovery({
        recoveryId,
        backupId,
        scope: input.scope,
        startedAt: started.toISOString(),
        backupCreatedAt: resolved!.createdAt,
        status: 'completed',
        previousDatabase: progress.previousDatabase,
      }),
    );
    progress.phase = 'completed';
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.jobStatus, value: 'completed' }]);
    return {
      ...finished,
      recoveryId,
      backupId,
      scope: input.scope,
      previousDatabase: progress.previousDatabase,
      restoredRows,
      models,
      artifactsMissing: check.missing,
    };
  } catch (err) {
    const aborted = err instanceof ApplicationFailure && err.type === 'RecoveryAborted';
    progress.phase = aborted ? 'aborted' : 'failed';
    progress.lastError = rootCauseMessage(err);
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.jobStatus, value: progress.phase }]);
    if (staging && !swapped) await bestEffort.dropStagingDatabase({ recoveryId }).catch(() => undefined);
    await bestEffort
      .finishRecovery({
        recoveryId,
        backupId: resolved?.backupId ?? input.backupId ?? 'none',
        scope: input.scope,
        startedAt: started.toISOString(),
        backupCreatedAt: resolved?.createdAt,
        status: aborted ? 'aborted' : 'failed',
        previousDatabase: progress.previousDatabase,
        error: progress.lastError,
      })
      .catch(() => undefined);
    throw err;
  }
}
