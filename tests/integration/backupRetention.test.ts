import { createBackupActivities } from '../../src/activities/backupActivities';
import { modelBackupKey } from '../../src/backup/backupKeys';
import { BackupStore } from '../../src/backup/backupStore';
import { MANIFEST_FORMAT, type BackupManifest } from '../../src/backup/manifest';
import { Backup, type BackupScope, type BackupStatus } from '../../src/db/backupEntities';
import type { TestPlatform } from '../support/testPlatform';
import { dropDatabasesLike, isolatedEnv, startIsolatedPlatform } from './backupFixtures';

const DAY = 86_400_000;
const NOW = new Date('2026-11-22T03:00:00Z');

describe('backup retention', () => {
  const env = isolatedEnv('ret');
  let p: TestPlatform;
  let bs: BackupStore;

  beforeAll(async () => {
    p = await startIsolatedPlatform(env, []);
    bs = new BackupStore(p.config, p.platform.store);
    await bs.ensureBucket();
  });
  afterAll(async () => {
    await p?.stop();
    await dropDatabasesLike(env.DATABASE_URL);
  });

  /** A catalogued backup with a manifest and its objects; models name their artifact sha256s. */
  async function addBackup(id: string, scope: BackupScope, status: BackupStatus, ageDays: number, modelShas: string[] = []): Promise<void> {
    const at = new Date(NOW.getTime() - ageDays * DAY);
    const dump = scope === 'models' ? null : await p.platform.store.putBytes(bs.bucket, `backups/${id}/platform.dump`, Buffer.from(`dump ${id}`));
    const models =
      scope === 'database'
        ? null
        : await Promise.all(
            modelShas.map(async (sha, i) => {
              const key = modelBackupKey(sha);
              const stored = await p.platform.store.putBytes(bs.bucket, key, Buffer.from(`artifact ${sha}`));
              return { modelId: i + 1, name: `m${i}`, version: 1, artifactKey: `m${i}/v1.nmly`, key, size: stored.size, sha256: stored.sha256 };
            }),
          );
    const manifest: Omit<BackupManifest, 'checksum'> = {
      format: MANIFEST_FORMAT,
      id,
      createdAt: at.toISOString(),
      finishedAt: at.toISOString(),
      scope,
      workflowId: `wf-${id}`,
      database: dump
        ? { name: 'x', pgVersion: '15', pgMajor: 15, sizeBytes: 1, snapshotAt: at.toISOString(), rowCounts: {}, dump: { key: dump.key, size: dump.size, sha256: dump.sha256 } }
        : null,
      models,
      objects: [],
      encryption: null,
      verification: { status: status === 'verified' ? 'verified' : 'failed', checkedAt: at.toISOString(), objectsChecked: 0, rowCountsMatch: null, problems: [] },
    };
    await bs.writeManifest(manifest);
    await p.platform.orm.em.fork().insert(Backup, { id, scope, status, startedAt: at, finishedAt: at, workflowId: `wf-${id}` });
  }

  const sha = (c: string) => c.repeat(64);

  it('prunes exactly the expected backups: days for databases, last N for models, never the newest verified', async () => {
    await addBackup('bk-01-db-old', 'database', 'verified', 40); // beyond 30 days → pruned
    await addBackup('bk-02-full-old', 'full', 'verified', 35, [sha('a')]); // db beyond days, models beyond last 2 → pruned
    await addBackup('bk-03-models-old', 'models', 'verified', 20, [sha('b')]); // beyond last 2 → pruned
    await addBackup('bk-04-full-mid', 'full', 'verified', 10, [sha('c'), sha('d')]); // db kept, model part dropped
    await addBackup('bk-05-db-failed', 'database', 'failed', 31); // failed, beyond days → pruned
    await addBackup('bk-06-db-failed-new', 'database', 'failed', 1); // failed but recent → kept
    await addBackup('bk-07-full-new', 'full', 'verified', 2, [sha('d'), sha('e')]); // kept
    await addBackup('bk-08-models-new', 'models', 'verified', 1, [sha('e'), sha('f')]); // kept

    const activities = createBackupActivities(p.platform);
    const result = await activities.applyBackupRetention({ now: NOW.toISOString(), retentionDays: 30, modelBackupsKeep: 2 });
    expect(result.pruned.sort()).toEqual(['bk-01-db-old', 'bk-02-full-old', 'bk-03-models-old', 'bk-05-db-failed']);
    expect(result.modelPartsPruned).toEqual(['bk-04-full-mid']);
    expect(result.artifactsRemoved).toBe(3); // a, b, c; d is still in bk-07

    const remaining = await p.sql<{ id: string; scope: string }>('select id, scope from backup order by id');
    expect(remaining).toEqual([
      { id: 'bk-04-full-mid', scope: 'database' },
      { id: 'bk-06-db-failed-new', scope: 'database' },
      { id: 'bk-07-full-new', scope: 'full' },
      { id: 'bk-08-models-new', scope: 'models' },
    ]);
    expect(await bs.listBackupIds()).toEqual(remaining.map((r) => r.id));
    for (const id of result.pruned) expect(await p.platform.store.listKeys(bs.bucket, `backups/${id}/`)).toEqual([]);
    const mid = await bs.readManifest('bk-04-full-mid');
    expect(mid).toMatchObject({ scope: 'database', models: null });
    expect((await p.platform.store.listKeys(bs.bucket, 'models/sha256/')).sort()).toEqual([sha('d'), sha('e'), sha('f')].map(modelBackupKey).sort());
  });

  it('never deletes the newest verified backup, however old', async () => {
    await p.sql('delete from backup');
    for (const key of await p.platform.store.listKeys(bs.bucket, '')) await p.platform.store.remove(bs.bucket, key);
    await addBackup('bk-11-db-ancient', 'database', 'verified', 400);
    await addBackup('bk-12-db-older', 'database', 'verified', 500);
    await addBackup('bk-13-models-ancient', 'models', 'verified', 300, [sha('9')]);
    const result = await createBackupActivities(p.platform).applyBackupRetention({ now: NOW.toISOString(), retentionDays: 30, modelBackupsKeep: 1 });
    expect(result.pruned).toEqual(['bk-12-db-older']);
    expect(await bs.listBackupIds()).toEqual(['bk-11-db-ancient', 'bk-13-models-ancient']);
  });
});
