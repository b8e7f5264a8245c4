import { readFileSync } from 'node:fs';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { readCsv } from '../../src/data/csv';
import { decodeModel } from '../../src/scoring/codec';
import type { BackupManifest } from '../../src/backup/manifest';
import type { RecoveryProgress, RecoveryResult } from '../../src/workflows/disasterRecovery';
import type { BackupResult } from '../../src/workflows/backup';
import type { verifyBackups } from '../../src/workflows/verifyBackups';
import { rootCauseMessage } from '../../src/api/rootCause';
import { EXAMPLE_CSV, maybeRecordHistory, type TestPlatform } from '../support/testPlatform';
import {
  admin,
  databasesLike,
  dropDatabasesLike,
  isAlive,
  isolatedEnv,
  restartServices,
  startIsolatedPlatform,
  tableChecksums,
  waitFor,
} from './backupFixtures';

/** The catalog tables change by design across a recovery (the backup's row, the recovery's row). */
const CATALOG = ['backup', 'recovery'];
const FAST = { maxAttempts: 2, retryInitialSeconds: 0.2, retryMaxSeconds: 0.5, heartbeatTimeoutSeconds: 10 };

describe('backup, then disaster recovery on the real stack', () => {
  const env = isolatedEnv('rt');
  let p: TestPlatform;
  let backupResult: BackupResult;
  let before: Record<string, string>;
  const scoresBefore = new Map<string, Float64Array>();

  beforeAll(async () => {
    p = await startIsolatedPlatform(env, ['control', 'scoring']);
  });
  afterAll(async () => {
    await p?.stop();
    await dropDatabasesLike(env.DATABASE_URL);
  });

  async function scoreAllModels(): Promise<Map<string, Float64Array>> {
    const rows = await p.sql<{ name: string; version: number; artifact_key: string; artifact_sha256: string; feature_columns: string[] }>(
      "select name, version, artifact_key, artifact_sha256, feature_columns from model where status <> 'failed' order by id",
    );
    const scores = new Map<string, Float64Array>();
    for (const row of rows) {
      const bytes = await p.platform.store.getVerifiedBytes(p.config.buckets.models, row.artifact_key, row.artifact_sha256);
      const model = decodeModel(bytes);
      const table = readCsv(readFileSync(EXAMPLE_CSV), { featureColumns: row.feature_columns });
      scores.set(`${row.name}@${row.version}`, Float64Array.from(model.score(table.features)));
    }
    return scores;
  }

  it('backs up (snapshot dump, models, verification, manifest) and restores everything into a wiped database and an emptied model bucket', async () => {
    const dataset = await p.client.uploadDataset(EXAMPLE_CSV);
    await (await p.client.startTraining({ datasetId: dataset.id, modelName: 'rt-hbos', algorithm: 'hbos', contamination: 0.05 })).result();
    await (await p.client.startTraining({ datasetId: dataset.id, modelName: 'rt-forest', contamination: 0.1, params: { seed: 3, nTrees: 50 } })).result();
    await (await p.client.startDetection({ model: 'rt-hbos', datasetId: dataset.id })).result();
    for (const [k, v] of await scoreAllModels()) scoresBefore.set(k, v);
    expect(scoresBefore.size).toBe(2);

    const handle = await p.client.startBackup({ scope: 'full', retention: false });
    backupResult = await handle.result();
    await maybeRecordHistory(handle, 'backup');
    before = await tableChecksums(env.DATABASE_URL, CATALOG);
    expect(backupResult).toMatchObject({ status: 'verified', scope: 'full', problems: [] });
    expect(backupResult.verification).toMatchObject({ status: 'verified', rowCountsMatch: true, objectsChecked: 3 });

    const manifest: BackupManifest = await p.client.showBackup(backupResult.backupId);
    expect(manifest).toMatchObject({ id: backupResult.backupId, scope: 'full', verification: { status: 'verified' }, encryption: null });
    expect(manifest.database!.pgVersion).toMatch(/^\d+/);
    expect(manifest.database!.sizeBytes).toBeGreaterThan(0);
    expect(manifest.database!.rowCounts).toMatchObject({ dataset: 1, model: 2, detection_job: 1 });
    expect(manifest.database!.rowCounts.anomaly).toBeGreaterThan(0);
    expect(manifest.models).toHaveLength(2);
    expect(manifest.objects.every((o) => /^[0-9a-f]{64}$/.test(o.sha256) && o.size > 0)).toBe(true);
    const [row] = await p.sql<{ status: string; manifest_key: string }>('select status, manifest_key from backup where id = ?', [backupResult.backupId]);
    expect(row).toMatchObject({ status: 'verified' });
    // No staging leftovers, no scratch database.
    expect(await p.platform.store.listKeys(p.config.buckets.backups, 'staging/')).toEqual([]);
    expect((await databasesLike(env.DATABASE_URL)).filter((n) => n.includes('verify'))).toEqual([]);

    // A second backup copies no model again (content-addressed).
    const second = await (await p.client.startBackup({ scope: 'models', retention: false })).result();
    expect(second.status).toBe('verified');
    const modelsPart = second.verification!;
    expect(modelsPart.objectsChecked).toBe(2);

    // Disaster: the database is dropped and recreated empty, the model bucket is emptied.
    const dbName = new URL(env.DATABASE_URL).pathname.slice(1);
    await admin(env.DATABASE_URL, async (c) => {
      await c.query(`drop database "${dbName}" with (force)`);
      await c.query(`create database "${dbName}"`);
    });
    for (const key of await p.platform.store.listKeys(p.config.buckets.models, '')) await p.platform.store.remove(p.config.buckets.models, key);

    const recovery = await p.client.startRecovery({ scope: 'full', backupId: backupResult.backupId });
    const result: RecoveryResult = await recovery.result();
    await maybeRecordHistory(recovery, 'disasterRecovery');
    expect(result).toMatchObject({ backupId: backupResult.backupId, scope: 'full', artifactsMissing: [] });
    expect(result.models).toMatchObject({ models: 2, restored: 2 });
    expect(result.previousDatabase).toMatch(/_before_\d{8}_\d{6}$/);
    expect(result.recoverySeconds).toBeGreaterThan(0);
    expect(result.dataLossWindowSeconds).toBeGreaterThan(0);

    expect(await tableChecksums(env.DATABASE_URL, CATALOG)).toEqual(before);
    const after = await scoreAllModels();
    expect([...after.keys()].sort()).toEqual([...scoresBefore.keys()].sort());
    for (const [k, v] of scoresBefore) expect(Buffer.from(after.get(k)!.buffer).equals(Buffer.from(v.buffer))).toBe(true);

    // The workers' own pool survived the swap; the catalog was re-synchronised from the manifests.
    const [rec] = await p.sql<{ status: string; recovery_seconds: number; data_loss_window_seconds: number; previous_database: string }>(
      'select * from recovery where id = ?',
      [recovery.workflowId],
    );
    expect(rec).toMatchObject({ status: 'completed', previous_database: result.previousDatabase });
    expect(rec.recovery_seconds).toBeGreaterThan(0);
    expect(rec.data_loss_window_seconds).toBeGreaterThan(0);
    const catalog = await p.sql<{ id: string; status: string }>('select id, status from backup order by id');
    expect(catalog).toEqual([
      { id: backupResult.backupId, status: 'verified' },
      { id: second.backupId, status: 'verified' },
    ]);
    const metrics = await p.platform.metrics.registry.metrics();
    expect(metrics).toMatch(/^nomaly_recovery_duration_seconds\{scope="full"\} [0-9.]+$/m);
    expect(metrics).toMatch(/^nomaly_recovery_data_loss_window_seconds\{scope="full"\} [0-9.]+$/m);
    // The wiped database is kept aside until an operator drops it.
    expect(await databasesLike(env.DATABASE_URL)).toContain(result.previousDatabase);
  });

  it('refuses a backup with one flipped byte before touching anything, naming the object', async () => {
    const manifest = await p.client.showBackup(backupResult.backupId);
    const dump = manifest.database!.dump;
    const original = await p.platform.store.getVerifiedBytes(p.config.buckets.backups, dump.key, dump.sha256);
    const flipped = Buffer.from(original);
    flipped[Math.floor(flipped.length / 2)] ^= 0x01;
    await p.platform.store.putBytes(p.config.buckets.backups, dump.key, flipped);
    const databasesBefore = await databasesLike(env.DATABASE_URL);
    const sumsBefore = await tableChecksums(env.DATABASE_URL);
    try {
      const handle = await p.client.startRecovery({ scope: 'full', backupId: backupResult.backupId });
      const failure = await handle.result().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      const message = String((failure as { cause?: { cause?: Error } }).cause?.cause?.message ?? (failure as Error).message);
      expect(message).toContain(dump.key);
      expect(message).toMatch(/corrupt/);
      const progress = await p.client.progress<RecoveryProgress>(handle.workflowId);
      expect(progress.phase).toBe('failed');
      // Nothing touched: same databases, same rows (apart from the recovery's own failed row and the backup's check).
      expect(await databasesLike(env.DATABASE_URL)).toEqual(databasesBefore);
      const sumsAfter = await tableChecksums(env.DATABASE_URL, ['recovery', 'backup']);
      const { recovery: _r, backup: _b, ...expected } = sumsBefore;
      expect(sumsAfter).toEqual(expected);
      const [checked] = await p.sql<{ check_state: string; check_problem: string }>('select check_state, check_problem from backup where id = ?', [backupResult.backupId]);
      expect(checked.check_state).toBe('corrupt');
      expect(checked.check_problem).toContain(dump.key);
      const [rec] = await p.sql<{ status: string; error: string }>('select status, error from recovery where id = ?', [handle.workflowId]);
      expect(rec.status).toBe('failed');
      expect(rec.error).toContain(dump.key);
    } finally {
      await p.platform.store.putBytes(p.config.buckets.backups, dump.key, original);
    }
  });

  it('with MinIO stopped mid-recovery: retries, waits for an operator, and completes after MinIO is back and `retry` is sent', async () => {
    const sums = await tableChecksums(env.DATABASE_URL, CATALOG);
    const handle = await p.client.startRecovery({ scope: 'full', backupId: backupResult.backupId, options: FAST });
    await waitFor('the database restore', async () => {
      const progress = await p.client.progress<RecoveryProgress>(handle.workflowId);
      return progress.phase === 'restoring-database' || progress.phase === 'swapping-database';
    }, 60_000, 5);

    const pidFile = path.join(process.env.NOMALY_DATA_DIR!, 'pids/minio.pid');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    process.kill(pid, 'SIGKILL');
    await waitFor('minio to stop', async () => !isAlive(pid));
    try {
      const waiting = await waitFor('awaiting-operator', async () => {
        const progress = await p.client.progress<RecoveryProgress>(handle.workflowId);
        return progress.phase === 'awaiting-operator' ? progress : undefined;
      }, 60_000, 100);
      expect(waiting.failedStep).toMatch(/restoring-database|restoring-models|checking-artifacts|recording/);
      expect(waiting.lastError).toBeTruthy();
      expect((await handle.describe()).status.name).toBe('RUNNING');
      // It stays there: no retry without an operator.
      await new Promise((r) => setTimeout(r, 1500));
      expect((await p.client.progress<RecoveryProgress>(handle.workflowId)).phase).toBe('awaiting-operator');
    } finally {
      restartServices();
    }
    await p.client.retryRecovery(handle.workflowId);
    const result = await handle.result();
    expect(result).toMatchObject({ backupId: backupResult.backupId, artifactsMissing: [] });
    expect(await tableChecksums(env.DATABASE_URL, CATALOG)).toEqual(sums);
    const history = await handle.fetchHistory();
    const signals = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'retry');
    expect(signals).toHaveLength(1);
  });

  it('a recovery waiting for an operator ends on `abort`, recorded as aborted, data untouched', async () => {
    const sums = await tableChecksums(env.DATABASE_URL, CATALOG);
    const pid = Number(readFileSync(path.join(process.env.NOMALY_DATA_DIR!, 'pids/minio.pid'), 'utf8'));
    process.kill(pid, 'SIGKILL');
    await waitFor('minio to stop', async () => !isAlive(pid));
    let handle;
    try {
      handle = await p.client.startRecovery({ scope: 'models', options: FAST });
      const waiting = await waitFor('awaiting-operator', async () => {
        const progress = await p.client.progress<RecoveryProgress>(handle!.workflowId);
        return progress.phase === 'awaiting-operator' ? progress : undefined;
      }, 60_000, 100);
      expect(waiting.failedStep).toBe('resolving-backup');
      await p.client.abortRecovery(handle.workflowId);
      const failure = await handle.result().then(() => undefined, (err: unknown) => err);
      expect(rootCauseMessage(failure)).toMatch(/aborted by an operator/);
      expect((await p.client.progress<RecoveryProgress>(handle.workflowId)).phase).toBe('aborted');
    } finally {
      restartServices();
    }
    const [rec] = await p.sql<{ status: string }>('select status from recovery where id = ?', [handle.workflowId]);
    expect(rec.status).toBe('aborted');
    expect(await tableChecksums(env.DATABASE_URL, CATALOG)).toEqual(sums);
  });

  it('a backup id that does not exist fails at once, naming the missing manifest', async () => {
    const handle = await p.client.startRecovery({ scope: 'models', backupId: 'bk-20000101-000000-deadbeef', options: FAST });
    const failure = await handle.result().then(() => undefined, (err: unknown) => err);
    expect(rootCauseMessage(failure)).toMatch(/bk-20000101-000000-deadbeef has no manifest/);
  });

  it('a database restore from an older backup keeps the recovery rows and backup checks recorded since that backup', async () => {
    // The earlier tests' recoveries all ran after the backup: its snapshot holds none of their rows.
    const before = await p.sql<{ id: string; status: string }>('select id, status from recovery order by id');
    expect(before.length).toBeGreaterThanOrEqual(3);
    const check = await p.client.temporal.workflow.execute<typeof verifyBackups>('verifyBackups', {
      taskQueue: 'nomaly-control',
      workflowId: `verify-before-restore-${Date.now()}`,
      args: [{ backupId: backupResult.backupId }],
    });
    expect(check.corrupt).toEqual([]);

    const handle = await p.client.startRecovery({ scope: 'database', backupId: backupResult.backupId, options: FAST });
    await handle.result();
    const after = await p.sql<{ id: string; status: string }>('select id, status from recovery order by id');
    const byId = (rows: Array<{ id: string; status: string }>) => [...rows].sort((a, b) => a.id.localeCompare(b.id));
    expect(byId(after)).toEqual(byId([...before, { id: handle.workflowId, status: 'completed' }]));
    const [row] = await p.sql<{ check_state: string; last_checked_at: Date }>('select check_state, last_checked_at from backup where id = ?', [backupResult.backupId]);
    expect(row.check_state).toBe('verified');
    expect(new Date(row.last_checked_at).toISOString()).toBe(check.checks[0].checkedAt);
  });

  it('rejects bad input with a non-retryable error naming the field', async () => {
    await expect(p.client.startRecovery({ scope: 'everything' as never })).rejects.toThrow(/"scope" "everything" is not one of/);
    const handle = await p.client.temporal.workflow.start('disasterRecovery', {
      taskQueue: 'nomaly-control',
      workflowId: `recovery-bad-input-${Date.now()}`,
      args: [{ scope: 'full', backupId: 42 }],
    });
    const failure = await handle.result().then(() => undefined, (err: unknown) => err);
    expect(rootCauseMessage(failure)).toMatch(/"backupId" 42 is not a backup id/);
  });
});
