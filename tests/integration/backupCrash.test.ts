import type { ChildProcess } from 'node:child_process';
import type { WorkflowHandle } from '@temporalio/client';
import { BackupStore } from '../../src/backup/backupStore';
import type { BackupProgress, BackupResult } from '../../src/workflows/backup';
import type { RecoveryProgress } from '../../src/workflows/disasterRecovery';
import type { TestPlatform } from '../support/testPlatform';
import { addBulkRows, databasesLike, dropDatabasesLike, isolatedEnv, startControlProcess, startIsolatedPlatform, tableChecksums, waitFor } from './backupFixtures';

const OPTIONS = { maxAttempts: 10, retryInitialSeconds: 0.5, retryMaxSeconds: 2, heartbeatTimeoutSeconds: 3 };

async function retriedAttempts(handle: WorkflowHandle, activityType: string): Promise<number> {
  const history = await handle.fetchHistory();
  const scheduled = new Map<string, string>();
  let maxAttempt = 0;
  if (process.env.DEBUG_BACKUP_TEST) {
    for (const e of history.events ?? []) {
      console.log(e.eventTime?.seconds?.toString(), e.eventType, e.activityTaskScheduledEventAttributes?.activityType?.name ?? '', e.activityTaskStartedEventAttributes?.attempt ?? '', e.activityTaskFailedEventAttributes?.failure?.message ?? '', e.activityTaskTimedOutEventAttributes?.failure?.message ?? '');
    }
  }
  for (const e of history.events ?? []) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(String(e.eventId), s.activityType?.name ?? '');
    const started = e.activityTaskStartedEventAttributes;
    if (started && scheduled.get(String(started.scheduledEventId)) === activityType) maxAttempt = Math.max(maxAttempt, started.attempt ?? 1);
  }
  return maxAttempt;
}

/** A control worker process killed with SIGKILL in the middle of the dump upload and of pg_restore. */
describe('backup and recovery survive SIGKILL of the control worker', () => {
  const env = isolatedEnv('kill');
  let p: TestPlatform;
  const children: ChildProcess[] = [];
  let backup: BackupResult;
  let sums: Record<string, string>;

  beforeAll(async () => {
    p = await startIsolatedPlatform(env, []);
    await addBulkRows(env.DATABASE_URL, 1_500_000);
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await p?.stop();
    await dropDatabasesLike(env.DATABASE_URL);
  });

  async function killWhen(handle: WorkflowHandle, phase: string, delayMs: number): Promise<void> {
    // Only this test's workers poll the queue: the previous test's (idle) survivor goes first.
    for (const child of children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    const t0 = Date.now();
    const log = (m: string) => process.env.DEBUG_BACKUP_TEST && console.log(`${((Date.now() - t0) / 1000).toFixed(1)}s ${m}`);
    let worker = await startControlProcess(env);
    log('worker ready');
    children.push(worker.child);
    await waitFor(phase, async () => {
      const q0 = Date.now();
      const got = await handle.query<{ phase: string }>('progress').catch((err: Error) => ({ phase: `error ${err.message}` }));
      log(`query ${Date.now() - q0}ms ${got.phase}`);
      return got.phase === phase;
    }, 120_000, 10);
    await new Promise((r) => setTimeout(r, delayMs));
    expect((await handle.query<{ phase: string }>('progress')).phase).toBe(phase); // still in it when killed
    worker.child.kill('SIGKILL');
    await worker.exited;
    log('killed');
    worker = await startControlProcess(env);
    log('second worker ready');
    children.push(worker.child);
  }

  it('a backup killed during its upload completes after a restart, and only a whole, verified dump is published', async () => {
    sums = await tableChecksums(env.DATABASE_URL, ['backup', 'recovery']);
    const handle = await p.client.startBackup({ scope: 'database', retention: false, options: OPTIONS });
    await killWhen(handle, 'dumping', 700);
    backup = await handle.result();
    expect(backup.status).toBe('verified');
    expect(await retriedAttempts(handle, 'dumpDatabase')).toBeGreaterThan(1);

    const bs = new BackupStore(p.config, p.platform.store);
    const manifest = await bs.readManifest(backup.backupId);
    expect(manifest.verification).toMatchObject({ status: 'verified', rowCountsMatch: true });
    expect(manifest.database!.rowCounts.anomaly).toBe(1_500_000);
    await bs.checkObject(manifest.database!.dump); // the published bytes are the ones the manifest names
    expect((await p.platform.store.listKeys(bs.bucket, `backups/${backup.backupId}/`)).sort()).toEqual([
      `backups/${backup.backupId}/manifest.json`,
      `backups/${backup.backupId}/parts/database.json`,
      `backups/${backup.backupId}/platform.dump`,
    ]);
    expect(await p.platform.store.listKeys(bs.bucket, 'staging/')).toEqual([]);
    const incomplete: unknown[] = [];
    await new Promise<void>((resolve, reject) => {
      const s = p.platform.store.client.listIncompleteUploads(bs.bucket, '', true);
      s.on('data', (u) => incomplete.push(u));
      s.on('end', () => resolve());
      s.on('error', reject);
    });
    expect(incomplete).toEqual([]);
    const rows = await p.sql<{ id: string; status: string }>('select id, status from backup');
    expect(rows).toEqual([{ id: backup.backupId, status: 'verified' }]);
  });

  it('a recovery killed during pg_restore completes after a restart, with a whole database swapped in', async () => {
    await p.sql("delete from anomaly where row_index <= 1000"); // a change the recovery must undo
    const handle = await p.client.startRecovery({ scope: 'database', backupId: backup.backupId, options: OPTIONS });
    await killWhen(handle, 'restoring-database', 800);
    const result = await handle.result();
    expect(await retriedAttempts(handle, 'restoreDatabaseToStaging')).toBeGreaterThan(1);
    expect(result.restoredRows).toBeGreaterThan(1_500_000);
    expect(await tableChecksums(env.DATABASE_URL, ['backup', 'recovery'])).toEqual(sums);
    const dbs = await databasesLike(env.DATABASE_URL);
    expect(dbs.filter((d) => d.includes('_before_'))).toEqual([result.previousDatabase]);
    expect(dbs.filter((d) => d.includes('_restore_'))).toEqual([]);
    const progress = await handle.query<RecoveryProgress>('progress');
    expect(progress.phase).toBe('completed');
    void ({} as BackupProgress);
  });
});
