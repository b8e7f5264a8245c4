import type { Command } from 'commander';
import type { WorkflowHandle } from '@temporalio/client';
import { failureMessage, NomalyClient, type RecoveryProgress } from './nomalyClient';
import { BACKUP_ID, BACKUP_SCOPES, operatorCommands, type BackupScopeInput } from '../workflows/backupInputs';
import type { BackupManifest } from '../backup/manifest';
import { loadConfig } from '../config';
import { TASK_QUEUES } from '../config/taskQueues';
import { openOrm } from '../db/orm';
import type { VerifyBackupsResult, verifyBackups } from '../workflows/verifyBackups';

async function withClient<T>(work: (client: NomalyClient) => Promise<T>): Promise<T> {
  const client = await NomalyClient.connect();
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}

function out(json: boolean | undefined, value: unknown, human: () => void): void {
  if (json) console.log(JSON.stringify(value, null, 2));
  else human();
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** The last re-check of a backup, from the catalog. */
interface LastCheck {
  state: 'verified' | 'corrupt';
  at: string;
  problem: string | null;
}

/**
 * The catalog's re-check results by backup id; null when the database does not answer (the list
 * itself comes from the manifests, which do not need it).
 */
async function readLastChecks(): Promise<Map<string, LastCheck> | null> {
  let orm;
  try {
    orm = await openOrm(loadConfig().databaseUrl, { poolMax: 1 });
    const rows = await orm.em
      .fork()
      .getConnection()
      .execute<Array<{ id: string; last_checked_at: Date; check_state: LastCheck['state']; check_problem: string | null }>>(
        'select id, last_checked_at, check_state, check_problem from backup where last_checked_at is not null',
      );
    return new Map(rows.map((r) => [r.id, { state: r.check_state, at: new Date(r.last_checked_at).toISOString(), problem: r.check_problem }]));
  } catch {
    return null;
  } finally {
    await orm?.close(true).catch(() => undefined);
  }
}

function summary(m: BackupManifest, check: LastCheck | undefined, checksKnown: boolean): string {
  const bytes = m.objects.reduce((a, o) => a + o.size, 0);
  const models = m.models ? `${m.models.length} models` : '-';
  // A later check that found damage outranks what the manifest recorded when the backup was made.
  const status = check?.state === 'corrupt' ? 'corrupt' : m.verification.status;
  const checked = !checksKnown ? 'checked ?' : check ? `checked ${check.at} ${check.state}` : 'checked never';
  return `${m.id}  ${m.createdAt}  ${m.scope.padEnd(8)}  ${status.padEnd(8)}  ${mb(bytes).padStart(10)}  ${models.padEnd(9)}  ${checked}${m.encryption ? '  encrypted' : ''}`;
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
          out(opts.json, { workflowId: handle.workflowId, uiUrl: client.uiUrl(handle.workflowId) }, () =>
            console.log(`backup started: ${handle.workflowId}\n${client.uiUrl(handle.workflowId)}`),
          );
          return;
        }
        const result = await handle.result();
        out(opts.json, result, () => {
          console.log(`backup ${result.backupId} ${result.status}: ${result.objects} objects, ${mb(result.bytes)}, ${(result.durationMs / 1000).toFixed(1)}s`);
          if (result.retention) console.log(`retention: pruned ${result.retention.pruned.join(', ') || 'nothing'}`);
        });
      });
    });
  backup
    .command('list')
    .description('list backups from their manifests (works with the database lost)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const manifests = await withClient((client) => client.listBackups());
      const checks = await readLastChecks();
      const listed = manifests.map(({ models: _m, database, ...rest }) => ({
        ...rest,
        database: database && { ...database, rowCounts: undefined },
        lastCheck: checks ? (checks.get(rest.id) ?? null) : undefined,
      }));
      out(opts.json, listed, () => {
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
      const result = await withClient(async (client) =>
        client.temporal.workflow
          .execute<typeof verifyBackups>('verifyBackups', {
            taskQueue: TASK_QUEUES.control,
            workflowId: `backup-verify-${id}-${Date.now().toString(36)}`,
            args: [{ backupId: id }],
          })
          .catch((err: unknown) => {
            throw new Error(failureMessage(err));
          }),
      );
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
          out(opts.json, { workflowId: handle.workflowId, uiUrl: client.uiUrl(handle.workflowId) }, () =>
            console.log(`recovery started: ${handle.workflowId}\n${client.uiUrl(handle.workflowId)}`),
          );
          return;
        }
        await watchRecovery(client, handle);
        const result = await handle.result();
        out(opts.json, result, () => {
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
  out(json, result, () => {
    for (const c of result.checks) {
      console.log(`${c.backupId} ${c.state}: ${c.objectsChecked} of ${c.objects} objects read back intact (${mb(c.bytes)}), checked ${c.checkedAt}`);
      for (const problem of c.problems) console.log(`  ${problem}`);
    }
  });
}

export { failureMessage };
