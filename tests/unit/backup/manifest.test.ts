import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createHash } from 'node:crypto';
import { backupIdOfManifestKey, manifestKey, modelBackupKey } from '../../../src/backup/backupKeys';
import { manifestChecksum, manifestFromParts, objectsFor, type DatabasePart, type ModelEntry, type Verification } from '../../../src/backup/manifest';
import { HashingStream } from '../../../src/storage/hashingStream';

const sha = (c: string) => c.repeat(64);
const dump = { key: 'backups/b1/platform.dump', size: 10, sha256: sha('a') };
const database: DatabasePart = { name: 'nomaly', pgVersion: '16.4', pgMajor: 16, sizeBytes: 1000, snapshotAt: '2026-01-02T03:04:05.000Z', rowCounts: { model: 2 }, dump };
const model = (n: number, s: string): ModelEntry => ({ modelId: n, name: 'm', version: n, artifactKey: `m/v${n}.nmly`, key: modelBackupKey(sha(s)), size: 5, sha256: sha(s) });
const verified: Verification = { status: 'verified', checkedAt: '2026-01-02T03:05:00.000Z', objectsChecked: 2, rowCountsMatch: true, problems: [] };

describe('backup manifest', () => {
  it('lists each object a scope needs once, models shared by two versions included once', () => {
    const models = [model(1, 'b'), model(2, 'b'), model(3, 'c')];
    expect(objectsFor({ database, models }, 'full').map((o) => o.key)).toEqual([dump.key, modelBackupKey(sha('b')), modelBackupKey(sha('c'))]);
    expect(objectsFor({ database, models }, 'database')).toEqual([dump]);
    expect(objectsFor({ database, models }, 'models')).toHaveLength(2);
  });

  it('builds a manifest from its parts: the snapshot time, every object, models not backed up as warnings', () => {
    const manifest = manifestFromParts({
      backupId: 'b1',
      scope: 'full',
      workflowId: 'backup-nightly',
      startedAt: '2026-01-02T03:00:00.000Z',
      database,
      models: { models: [model(1, 'b')], copied: 1, reused: 0, missing: ['m@9: gone'] },
      verification: verified,
      encryptionKeyId: null,
    });
    expect(manifest).toMatchObject({ id: 'b1', createdAt: database.snapshotAt, encryption: null, objects: [dump, { key: modelBackupKey(sha('b')) }] });
    expect(manifest.verification).toEqual({ ...verified, problems: ['warning: not backed up, m@9: gone'] });
    // A models-only backup is as old as its start.
    expect(manifestFromParts({ ...manifest, backupId: 'b2', startedAt: '2026-01-05T00:00:00.000Z', database: null, models: null, verification: verified, encryptionKeyId: 'k1' })).toMatchObject({
      createdAt: '2026-01-05T00:00:00.000Z',
      encryption: { algorithm: 'AES-256-GCM', keyId: 'k1' },
      objects: [],
    });
  });

  it('checksums the manifest without its own checksum field, so any other change shows', () => {
    const manifest = { ...manifestFromParts({ backupId: 'b1', scope: 'database', workflowId: 'w', startedAt: 'x', database, models: null, verification: verified, encryptionKeyId: null }), checksum: '' };
    const sum = manifestChecksum(manifest);
    expect(manifestChecksum({ ...manifest, checksum: sum })).toBe(sum);
    expect(manifestChecksum({ ...manifest, scope: 'full' })).not.toBe(sum);
  });

  it('knows a manifest key, encrypted or not, and nothing else', () => {
    expect(backupIdOfManifestKey(manifestKey('20260102T030405Z-ab', false))).toBe('20260102T030405Z-ab');
    expect(backupIdOfManifestKey(manifestKey('b1', true))).toBe('b1');
    expect(backupIdOfManifestKey('backups/b1/parts/models.json')).toBeUndefined();
    expect(backupIdOfManifestKey('staging/b1/x/manifest.json')).toBeUndefined();
  });
});

describe('HashingStream', () => {
  it('passes the bytes on unchanged and resolves with their size and sha256', async () => {
    const chunks = [Buffer.from('hello '), Buffer.from('world')];
    const hasher = new HashingStream();
    const out: Buffer[] = [];
    await pipeline(Readable.from(chunks), hasher, async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) out.push(chunk);
    });
    expect(Buffer.concat(out).toString()).toBe('hello world');
    expect(await hasher.digest).toEqual({ size: 11, sha256: createHash('sha256').update('hello world').digest('hex') });
  });
});
