import type { Command } from 'commander';
import { failureMessage, NomalyClient } from './nomalyClient';
import { BACKUP_SCOPES, type BackupScopeInput } from '../workflows/backupInputs';
import type { BackupManifest } from '../activities/backupCatalog';

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

function summary(m: BackupManifest): string {
  const bytes = m.objects.reduce((a, o) => a + o.size, 0);
  const models = m.models ? `${m.models.length} models` : '-';
  return `${m.id}  ${m.createdAt}  ${m.scope.padEnd(8)}  ${m.verification.status.padEnd(8)}  ${mb(bytes).padStart(10)}  ${models}${m.encryption ? '  encrypted' : ''}`;
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
      out(opts.json, manifests.map(({ models: _m, database, ...rest }) => ({ ...rest, database: database && { ...database, rowCounts: undefined } })), () => {
        if (manifests.length === 0) console.log('no backups yet (nomaly backup now --wait)');
        for (const m of manifests) console.log(summary(m));
      });
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
        let last = '';
        const done = handle.result();
        let finished = false;
        done.finally(() => (finished = true)).catch(() => undefined);
        while (!finished) {
          const p = await client.progress<{ phase: string; lastError: string | null }>(handle.workflowId).catch(() => undefined);
          const line = p ? `${p.phase}${p.phase === 'awaiting-operator' ? ` (${p.lastError}); run: nomaly restore retry ${handle.workflowId}` : ''}` : '';
          if (line && line !== last && !opts.json) console.error(`recovery: ${line}`);
          last = line || last;
          await Promise.race([done.catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
        }
        const result = await done;
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

export { failureMessage };
