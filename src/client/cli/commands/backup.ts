import type { Command } from 'commander';
import type { WorkflowHandle } from '@temporalio/client';
import type { NomalyClient, RecoveryProgress } from '../../nomalyClient';
import { BACKUP_ID, BACKUP_SCOPES, operatorCommands, type BackupScopeInput } from '../../../api/backupInputs';
import type { BackupCheck, BackupManifest } from '../../readStore';
import type { VerifyBackupsResult } from '../../../workflows/verifyBackups';
import { mebibytes, printResult } from '../output';
import { withClient } from '../withClient';

function summary(m: BackupManifest, check: BackupCheck | undefined, checksKnown: boolean): string {
  const bytes = m.objects.reduce((a, o) => a + o.size, 0);
  const models = m.models ? `${m.models.length} models` : '-';
  // A later check that found damage outranks what the manifest recorded when the backup was made.
  const status = check?.state === 'corrupt' ? 'corrupt' : m.verification.status;
  const checked = !checksKnown ? 'checked ?' : check ? `checked ${check.at} ${check.state}` : 'checked never';
  return `${m.id}  ${m.createdAt}  ${m.scope.padEnd(8)}  ${status.padEnd(8)}  ${mebibytes(bytes).padStart(10)}  ${models.padEnd(9)}  ${checked}${m.encryption ? '  encrypted' : ''}`;
}

/**
 * Follows a recovery until it ends, on stderr: each phase once, and the moment it waits for an
 * operator, the failed step, its error and the exact commands to retry or abort.
 */
async function watchRecovery(client: NomalyClient, handle: WorkflowHandle): Promise<void> {
  const done = handle.result();
  let finished = false;
  done.finally(() => (finished = true)).catch(() => undefined);
  let last = '';
  while (!finished) {
    const p = await client.progress<RecoveryProgress>(handle.workflowId).catch(() => undefined);
    if (p) {
      const line = p.phase === 'awaiting-operator' ? `awaiting-operator:${p.failedStep}:${p.operatorRetries}` : p.phase;
      if (line !== last) {
        last = line;
        if (p.phase === 'awaiting-operator') {
          const commands = operatorCommands(handle.workflowId);
          console.error(
            `recovery ${handle.workflowId} is waiting for an operator: step ${p.failedStep} failed: ${p.lastError}\n` +
              `  fix the cause, then retry that step:  ${commands.retry}\n` +
              `  or give up (the current data stays):  ${commands.abort}`,
          );
        } else {
          console.error(`recovery: ${p.phase}`);
        }
      }
    }
    await Promise.race([done.catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
  }
}

/** `nomaly backup …`, `nomaly restore …` and `nomaly schedules apply`. */
export function registerBackupCommands(program: Command): void {
  const backup = program.command('backup').description('back up the platform database and model artifacts to MinIO');
  backup
    .command('now')
    .description('start a backup now (verified by a test restore; retention applied afterwards)')
    .option('--scope <scope>', `one of ${BACKUP_SCOPES.join(', ')} (default full)`)
    .option('--no-retention', 'do not apply retention after this backup')
    .option('--wait', 'wait for the backup and print it')
    .option('--json', 'print JSON')
    .action(async (opts: { scope?: BackupScopeInput; retention: boolean; wait?: boolean; json?: boolean }) => {
      await withClient(async (client) => {
        const handle = await client.startBackup({ scope: opts.scope, retention: opts.retention });
        if (!opts.wait) {
          printResult(opts.json, { workflowId: handle.workflowId, uiUrl: client.uiUrl(handle.workflowId) }, () =>
            console.log(`backup started: ${handle.workflowId}\n${client.uiUrl(handle.workflowId)}`),
          );
          return;
        }
        const result = await handle.result();
        printResult(opts.json, result, () => {
          console.log(`backup ${result.backupId} ${result.status}: ${result.objects} objects, ${mebibytes(result.bytes)}, ${(result.durationMs / 1000).toFixed(1)}s`);
          if (result.retention) console.log(`retention: pruned ${result.retention.pruned.join(', ') || 'nothing'}`);
        });
      });
    });
  backup
    .command('list')
    .description('list backups from their manifests (works with the database lost)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { manifests, checks } = await withClient(async (client) => ({ manifests: await client.listBackups(), checks: await client.reads.backupChecks() }));
      const listed = manifests.map(({ models: _m, database, ...rest }) => ({
        ...rest,
        database: database && { ...database, rowCounts: undefined },
        lastCheck: checks ? (checks.get(rest.id) ?? null) : undefined,
      }));
      printResult(opts.json, listed, () => {
        if (manifests.length === 0) console.log('no backups yet (nomaly backup now --wait)');
        if (manifests.length > 0 && !checks) console.log('(the database does not answer: when each backup was last checked is unknown)');
        for (const m of manifests) {
          const check = checks?.get(m.id);
          console.log(summary(m, check, checks !== null));
          if (check?.state === 'corrupt' && check.problem) console.log(`    ${check.problem}`);
        }
      });
    });
  backup
    .command('verify')
    .argument('<id>', 'a backup id (bk-…)')
    .description('re-read every object of a backup and re-check its sha256; records the result and time in the catalog')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      if (!BACKUP_ID.test(id)) throw new Error(`${JSON.stringify(id)} is not a backup id (they look like bk-20261122-023000-1a2b3c4d; nomaly backup list)`);
      const result = await withClient((client) => client.verifyBackup(id));
      printCheck(result, opts.json);
      if (result.corrupt.length > 0) process.exitCode = 1;
    });
  backup
    .command('show')
    .argument('<id>', 'a backup id (bk-…)')
    .description('print a backup\'s manifest')
    .action(async (id: string) => {
      console.log(JSON.stringify(await withClient((client) => client.showBackup(id)), null, 2));
    });

  const restore = program
    .command('restore')
    .description('disaster recovery: restore the database, the models or both from a backup')
    .option('--scope <scope>', `one of ${BACKUP_SCOPES.join(', ')}`, 'full')
    .option('--backup <id>', 'the backup to restore (default: the newest verified one)')
    .option('--id <workflowId>', 'a workflow id; starting it again returns the running recovery')
    .option('--wait', 'wait, showing the phase, and print the result')
    .option('--json', 'print JSON')
    .action(async (opts: { scope: BackupScopeInput; backup?: string; id?: string; wait?: boolean; json?: boolean }) => {
      await withClient(async (client) => {
        const handle = await client.startRecovery({ scope: opts.scope, backupId: opts.backup }, { workflowId: opts.id });
        if (!opts.wait) {
          printResult(opts.json, { workflowId: handle.workflowId, uiUrl: client.uiUrl(handle.workflowId) }, () =>
            console.log(`recovery started: ${handle.workflowId}\n${client.uiUrl(handle.workflowId)}`),
          );
          return;
        }
        await watchRecovery(client, handle);
        const result = await handle.result();
        printResult(opts.json, result, () => {
          console.log(`recovered from ${result.backupId} (${result.scope}) in ${result.recoverySeconds.toFixed(1)}s; data-loss window ${Math.round(result.dataLossWindowSeconds ?? 0)}s`);
          if (result.previousDatabase) console.log(`the previous database is kept as ${result.previousDatabase} (drop it when no longer needed)`);
        });
      });
    });
  restore
    .command('retry')
    .argument('<workflowId>', 'a recovery waiting for an operator')
    .description('start a waiting recovery over from its failed step')
    .action(async (id: string) => {
      await withClient((client) => client.retryRecovery(id));
      console.log(`retry sent to ${id}`);
    });
  restore
    .command('abort')
    .argument('<workflowId>', 'a recovery waiting for an operator')
    .description('give up a waiting recovery (the current data stays as it is)')
    .action(async (id: string) => {
      await withClient((client) => client.abortRecovery(id));
      console.log(`abort sent to ${id}`);
    });
}

function printCheck(result: VerifyBackupsResult, json: boolean | undefined): void {
  printResult(json, result, () => {
    for (const c of result.checks) {
      console.log(`${c.backupId} ${c.state}: ${c.objectsChecked} of ${c.objects} objects read back intact (${mebibytes(c.bytes)}), checked ${c.checkedAt}`);
      for (const problem of c.problems) console.log(`  ${problem}`);
    }
  });
}
