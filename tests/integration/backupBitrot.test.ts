import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import { DEFAULT_BACKUP_VERIFY_SCHEDULE, applyBackupVerifySchedule } from '../../src/client/schedules';
import { TASK_QUEUES } from '../../src/config/taskQueues';
import type { BackupResult } from '../../src/workflows/backup';
import type { RecoveryProgress } from '../../src/workflows/disasterRecovery';
import { rootCauseMessage } from '../../src/api/rootCause';
import type { verifyBackups } from '../../src/workflows/verifyBackups';
import { EXAMPLE_CSV, maybeRecordHistory, type TestPlatform } from '../support/testPlatform';
import {
  activitiesRetriedWithoutEnd,
  dropDatabasesLike,
  isAlive,
  isolatedEnv,
  restartServices,
  root,
  startIsolatedPlatform,
  tableChecksums,
  waitFor,
} from './backupFixtures';
import { startWebhookReceiver } from '../support/webhookReceiver';

const FAST = { maxAttempts: 2, retryInitialSeconds: 0.2, retryMaxSeconds: 0.5, heartbeatTimeoutSeconds: 10 };

/**
 * Flips one byte of an object where MinIO keeps it on its drive: inside xl.meta for a small
 * (inlined) object, inside part.1 for a larger one. MinIO then answers 503 (or breaks the
 * stream off) for every read of it, while it still lists and stats it.
 */
function flipStoredByte(bucket: string, key: string): void {
  const dir = path.join(process.env.NOMALY_DATA_DIR!, 'minio', bucket, key);
  const part = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => path.join(dir, e.name, 'part.1'))
    .find((f) => statSync(f, { throwIfNoEntry: false }));
  const file = part ?? path.join(dir, 'xl.meta');
  const bytes = readFileSync(file);
  // The inlined data is the tail of xl.meta; a part's middle is data in any case.
  const at = part ? Math.floor(bytes.length / 2) : bytes.length - Math.min(500, Math.floor(bytes.length / 4));
  bytes[at] ^= 0x01;
  writeFileSync(file, bytes);
}

describe('a backup damaged on MinIO\'s disk', () => {
  const env = isolatedEnv('rot');
  let p: TestPlatform;
  let older: BackupResult;
  let damaged: BackupResult;
  let dumpKey: string;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  const previousUrl = process.env.NOMALY_ALERT_WEBHOOK_URL;

  const verify = (args: Parameters<typeof verifyBackups>[0], id = `verify-${Date.now()}`) =>
    p.client.temporal.workflow.execute<typeof verifyBackups>('verifyBackups', { taskQueue: TASK_QUEUES.control, workflowId: id, args: [args] });

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    process.env.NOMALY_ALERT_WEBHOOK_URL = receiver.url; // read by the worker's config at start
    p = await startIsolatedPlatform(env, ['control', 'scoring']);
    older = await (await p.client.startBackup({ scope: 'database', retention: false })).result();
    const damagedRun = await p.client.startBackup({ scope: 'database', retention: false });
    damaged = await damagedRun.result();
    expect(await activitiesRetriedWithoutEnd(damagedRun)).toEqual([]);
    dumpKey = (await p.client.showBackup(damaged.backupId)).database!.dump.key;
    flipStoredByte(p.config.buckets.backups, dumpKey);
  });
  afterAll(async () => {
    await p?.stop();
    await receiver?.close();
    process.env.NOMALY_ALERT_WEBHOOK_URL = previousUrl;
    await dropDatabasesLike(env.DATABASE_URL);
  });

  it('makes a recovery fail at once as an integrity failure naming the object, touching nothing', async () => {
    const sums = await tableChecksums(env.DATABASE_URL, ['recovery', 'backup']);
    const started = Date.now();
    const handle = await p.client.startRecovery({ scope: 'database', backupId: damaged.backupId, options: FAST });
    const failure = await handle.result().then(() => undefined, (err: unknown) => err);
    const seconds = (Date.now() - started) / 1000;
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const message = rootCauseMessage(failure);
    expect(message).toContain(`${p.config.buckets.backups}/${dumpKey}`);
    expect(message).toMatch(/unreadable/);
    expect(((failure as WorkflowFailedError).cause?.cause as { type?: string } | undefined)?.type).toBe('BackupIntegrityError');
    expect((await p.client.progress<RecoveryProgress>(handle.workflowId)).phase).toBe('failed'); // not awaiting-operator
    expect(seconds).toBeLessThan(60);
    expect(await activitiesRetriedWithoutEnd(handle)).toEqual([]);
    expect(await tableChecksums(env.DATABASE_URL, ['recovery', 'backup'])).toEqual(sums);
    // The catalog now knows: backup list must stop calling it sound.
    const [row] = await p.sql<{ check_state: string; check_problem: string }>('select check_state, check_problem from backup where id = ?', [damaged.backupId]);
    expect(row.check_state).toBe('corrupt');
    expect(row.check_problem).toContain(dumpKey);
  });

  it('`backup verify` re-reads every object: the damaged backup is recorded corrupt naming the object, the intact one verified', async () => {
    const badId = `verify-bad-${Date.now()}`;
    const bad = await verify({ backupId: damaged.backupId }, badId);
    expect(bad.corrupt).toEqual([damaged.backupId]);
    await maybeRecordHistory(p.client.temporal.workflow.getHandle(badId), 'verifyBackupsCorrupt');
    const alert = receiver.bodies().find((a) => a.checkId === badId);
    expect(alert).toMatchObject({ kind: 'nomaly.backup.corrupt', backups: [{ backupId: damaged.backupId }] });
    expect(JSON.stringify(alert)).toContain(`${p.config.buckets.backups}/${dumpKey}`);
    expect(bad.checks[0]).toMatchObject({ backupId: damaged.backupId, state: 'corrupt', objects: 1, objectsChecked: 0 });
    expect(bad.checks[0].problems.join()).toContain(`${p.config.buckets.backups}/${dumpKey}`);

    const goodId = `verify-good-${Date.now()}`;
    const good = await verify({ backupId: older.backupId }, goodId);
    expect(receiver.bodies().filter((a) => a.checkId === goodId)).toEqual([]); // nothing to say about an intact backup
    expect(await activitiesRetriedWithoutEnd(p.client.temporal.workflow.getHandle(goodId))).toEqual([]);
    expect(good.checks[0]).toMatchObject({ backupId: older.backupId, state: 'verified', objects: 1, objectsChecked: 1, problems: [] });
    const rows = await p.sql<{ id: string; check_state: string; last_checked_at: Date }>(
      'select id, check_state, last_checked_at from backup where id in (?, ?) order by started_at',
      [older.backupId, damaged.backupId],
    );
    expect(rows.map((r) => [r.id, r.check_state, new Date(r.last_checked_at).toISOString()])).toEqual([
      [older.backupId, 'verified', good.checks[0].checkedAt],
      [damaged.backupId, 'corrupt', bad.checks[0].checkedAt],
    ]);

    const unknown = await verify({ backupId: 'bk-20000101-000000-deadbeef' }).catch((err: unknown) => err);
    expect(rootCauseMessage(unknown)).toMatch(/there is no backup bk-20000101-000000-deadbeef/);
  });

  it('`nomaly backup list` shows each backup\'s last check and its state; `backup verify` exits 1 naming the object', async () => {
    const cliEnv = { ...process.env, ...env, LOG_LEVEL: 'warn' };
    const cli = path.join(root, 'dist/client/cli.js');
    const { stdout } = await promisify(execFile)(process.execPath, [cli, 'backup', 'list'], { env: cliEnv });
    const line = (id: string) => stdout.split('\n').find((l) => l.startsWith(id)) ?? '';
    expect(line(damaged.backupId)).toMatch(/ corrupt .*checked \d{4}-\d\d-\d\dT\S+ corrupt/);
    expect(line(older.backupId)).toMatch(/ verified .*checked \d{4}-\d\d-\d\dT\S+ verified/);
    expect(stdout).toContain(`${p.config.buckets.backups}/${dumpKey}`);

    const run = await promisify(execFile)(process.execPath, [cli, 'backup', 'verify', damaged.backupId], { env: cliEnv }).then(
      () => ({ code: 0, stdout: '' }),
      (err: { code: number; stdout: string }) => err,
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`${damaged.backupId} corrupt: 0 of 1 objects`);
    expect(run.stdout).toContain(`${p.config.buckets.backups}/${dumpKey}`);
  });

  it('a recovery of "the newest verified backup" passes over the one a check found damaged', async () => {
    const handle = await p.client.startRecovery({ scope: 'database', options: FAST });
    const result = await handle.result();
    expect(result.backupId).toBe(older.backupId);
  });

  it('the scheduled re-check verifies the newest backups and records when', async () => {
    const spec = { ...DEFAULT_BACKUP_VERIFY_SCHEDULE, id: `test-backup-verify-${Date.now()}`, input: { newest: 2 } };
    expect(await applyBackupVerifySchedule(p.client.temporal, spec)).toBe('created');
    const handle = p.client.temporal.schedule.getHandle(spec.id);
    expect((await handle.describe()).policies).toMatchObject({ overlap: 'SKIP', catchupWindow: 60 * 60 * 1000 });
    const [before] = await p.sql<{ last_checked_at: Date }>('select last_checked_at from backup where id = ?', [older.backupId]);
    await handle.trigger();
    const rows = await waitFor('the scheduled check', async () => {
      const checked = await p.sql<{ id: string; check_state: string; last_checked_at: Date }>(
        'select id, check_state, last_checked_at from backup where last_checked_at > ? order by started_at',
        [before.last_checked_at],
      );
      return checked.length === 2 ? checked : undefined;
    }, 60_000, 250);
    expect(rows.map((r) => [r.id, r.check_state])).toEqual([
      [older.backupId, 'verified'],
      [damaged.backupId, 'corrupt'],
    ]);
    await handle.delete();
  });

  it('with MinIO stopped, a check fails and retries as an outage: nothing is called corrupt', async () => {
    const [before] = await p.sql<{ check_state: string; last_checked_at: Date }>('select check_state, last_checked_at from backup where id = ?', [older.backupId]);
    const pid = Number(readFileSync(path.join(process.env.NOMALY_DATA_DIR!, 'pids/minio.pid'), 'utf8'));
    process.kill(pid, 'SIGKILL');
    await waitFor('minio to stop', async () => !isAlive(pid));
    try {
      const failure = await verify({ backupId: older.backupId, options: FAST }).then(() => undefined, (err: unknown) => err);
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      expect(rootCauseMessage(failure)).toMatch(/ECONNREFUSED/);
      expect(rootCauseMessage(failure)).not.toMatch(/unreadable|corrupt/);
    } finally {
      restartServices();
    }
    const [after] = await p.sql<{ check_state: string; last_checked_at: Date }>('select check_state, last_checked_at from backup where id = ?', [older.backupId]);
    expect(after).toEqual(before);
  });

  it('a backup of models whose live artifact is damaged on disk completes at once, naming what it could not back up', async () => {
    const dataset = await p.client.uploadDataset(EXAMPLE_CSV);
    const model = await (await p.client.startTraining({ datasetId: dataset.id, modelName: 'rot-model', algorithm: 'hbos' })).result();
    flipStoredByte(p.config.buckets.models, model.artifactKey);
    const started = Date.now();
    const result = await (await p.client.startBackup({ scope: 'models', retention: false })).result();
    expect((Date.now() - started) / 1000).toBeLessThan(60);
    const manifest = await p.client.showBackup(result.backupId);
    expect(manifest.models).toEqual([]);
    expect(manifest.verification.problems.join()).toContain(`not backed up, rot-model@1: object ${p.config.buckets.models}/${model.artifactKey} is unreadable`);
  });
});
