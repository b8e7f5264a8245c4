import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createBackupActivities } from '../../src/activities/backupActivities';
import { BackupStore } from '../../src/backup/backupStore';
import { createRecoveryActivities } from '../../src/activities/recoveryActivities';
import type { TestPlatform } from '../support/testPlatform';
import { dropDatabasesLike, isolatedEnv, startIsolatedPlatform, tableChecksums } from './backupFixtures';

/** Encrypted backups, through the activities themselves (a worker with a key file runs the same code). */
describe('encrypted backups', () => {
  const env = isolatedEnv('enc');
  let p: TestPlatform;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nomaly-enc-'));
  const keyFile = path.join(dir, 'backup.key');
  const wrongKeyFile = path.join(dir, 'wrong.key');

  beforeAll(async () => {
    writeFileSync(keyFile, randomBytes(32).toString('hex'));
    writeFileSync(wrongKeyFile, randomBytes(32).toString('hex'));
    p = await startIsolatedPlatform(env, []);
  });
  afterAll(async () => {
    await p?.stop();
    await dropDatabasesLike(env.DATABASE_URL);
  });

  it('encrypts the dump and the manifest, verifies, restores with the key and refuses a wrong one', async () => {
    const deps = { ...p.platform, config: { ...p.config, backup: { ...p.config.backup, keyFile } } };
    const backup = createBackupActivities(deps);
    const backupId = 'bk-20261122-000000-encrypt1';
    const base = { backupId, scope: 'database' as const, workflowId: 'wf-enc', startedAt: new Date().toISOString() };
    expect(await backup.beginBackup(base)).toMatchObject({ encrypted: true });
    const dump = await backup.dumpDatabase({ backupId });
    expect(dump.dump.key).toMatch(/platform\.dump\.enc$/);
    const verification = await backup.verifyBackup({ backupId, scope: 'database' });
    expect(verification).toMatchObject({ status: 'verified', rowCountsMatch: true });
    const finished = await backup.finishBackup({ ...base, verification });
    expect(finished).toMatchObject({ status: 'verified', manifestKey: `backups/${backupId}/manifest.json.enc` });

    // Stored bytes are not readable without the key.
    const sealed = await p.platform.store.getVerifiedBytes(p.config.buckets.backups, finished.manifestKey!);
    expect(sealed.toString('latin1')).not.toContain(backupId);
    const bs = new BackupStore(deps.config, p.platform.store);
    const manifest = await bs.readManifest(backupId);
    expect(manifest.encryption).toMatchObject({ algorithm: 'AES-256-GCM', keyId: expect.stringMatching(/^[0-9a-f]{16}$/) });

    const before = await tableChecksums(env.DATABASE_URL, ['backup', 'recovery']);
    const recovery = createRecoveryActivities(deps);
    await recovery.verifyBackupForRecovery({ backupId, scope: 'database' });
    const staged = await recovery.restoreDatabaseToStaging({ recoveryId: 'rec-enc', backupId });
    await recovery.swapDatabase({ stagingDatabase: staged.stagingDatabase, stamp: '20261122_000001' });
    expect(await tableChecksums(env.DATABASE_URL, ['backup', 'recovery'])).toEqual(before);

    const wrong = createRecoveryActivities({ ...p.platform, config: { ...p.config, backup: { ...p.config.backup, keyFile: wrongKeyFile } } });
    await expect(wrong.verifyBackupForRecovery({ backupId, scope: 'database' })).rejects.toThrow(/was encrypted with key id [0-9a-f]{16}, but NOMALY_BACKUP_KEY_FILE holds key id/);
    const none = createRecoveryActivities(p.platform);
    await expect(none.resolveRecoveryBackup({ backupId, scope: 'database' })).rejects.toThrow(/is encrypted .*set NOMALY_BACKUP_KEY_FILE/);
  });
});
