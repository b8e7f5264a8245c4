import { Readable } from 'node:stream';
import { sha256Hex } from '../../src/storage/objectStore';
import { startTestPlatform, type TestPlatform } from '../support/testPlatform';

/** What the object store layer promises callers, checked against the real MinIO and minio client. */
describe('object store on MinIO', () => {
  let p: TestPlatform;
  const bucket = () => p.config.buckets.results;
  beforeAll(async () => {
    p = await startTestPlatform([]);
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('writes a buffer above the client part size in one atomic PUT, not a multipart upload', async () => {
    const bytes = Buffer.alloc(70 * 1024 * 1024, 7);
    bytes.writeUInt32LE(0xdeadbeef, bytes.length - 4);
    const stored = await p.platform.store.putBytes(bucket(), 'store-test/large.bin', bytes);
    // A multipart object's ETag ends in -<parts>; a single PUT's is the plain MD5.
    const info = await p.platform.store.client.statObject(bucket(), 'store-test/large.bin');
    expect(info.etag).toMatch(/^[0-9a-f]{32}$/);
    expect((await p.platform.store.getVerifiedBytes(bucket(), 'store-test/large.bin', stored.sha256)).equals(bytes)).toBe(true);
    expect(await p.platform.store.listKeys(bucket(), 'store-test/')).toEqual(['store-test/large.bin']);
    await p.platform.store.remove(bucket(), 'store-test/large.bin');
  });

  it('publishes a streamed upload by copy: the final key gets the bytes and their sha256, the staged key is gone', async () => {
    const bytes = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7) % 256));
    await p.platform.store.putStream(bucket(), 'store-test/staging/a/dump', Readable.from([bytes.subarray(0, 40_000), bytes.subarray(40_000)]));
    const published = await p.platform.store.publishByCopy(bucket(), 'store-test/staging/a/dump', 'store-test/final/dump', { size: bytes.length, sha256: sha256Hex(bytes) });
    expect(published).toMatchObject({ key: 'store-test/final/dump', size: bytes.length, sha256: sha256Hex(bytes) });
    expect(await p.platform.store.stat(bucket(), 'store-test/final/dump')).toMatchObject({ size: bytes.length, sha256: sha256Hex(bytes) });
    expect((await p.platform.store.getVerifiedBytes(bucket(), 'store-test/final/dump')).equals(bytes)).toBe(true);
    expect(await p.platform.store.listKeys(bucket(), 'store-test/staging/')).toEqual([]);
    await p.platform.store.remove(bucket(), 'store-test/final/dump');
  });

  it('refuses to call a copy published when its size is not the one the uploader counted, and removes the staged object', async () => {
    await p.platform.store.putBytes(bucket(), 'store-test/staging/b/dump', Buffer.from('twelve bytes'));
    await expect(p.platform.store.publishByCopy(bucket(), 'store-test/staging/b/dump', 'store-test/final/b', { size: 13, sha256: sha256Hex(Buffer.from('twelve bytes')) })).rejects.toThrow(
      /did not arrive whole/,
    );
    expect(await p.platform.store.listKeys(bucket(), 'store-test/staging/')).toEqual([]);
    await p.platform.store.remove(bucket(), 'store-test/final/b');
  });

  it('removes many objects at once, missing ones included', async () => {
    const keys = Array.from({ length: 25 }, (_, i) => `store-test/many/${i}.bin`);
    for (const key of keys) await p.platform.store.putBytes(bucket(), key, Buffer.from(key));
    await p.platform.store.removeMany(bucket(), [...keys, 'store-test/many/never-written.bin']);
    expect(await p.platform.store.listKeys(bucket(), 'store-test/many/')).toEqual([]);
    await expect(p.platform.store.removeMany(bucket(), [])).resolves.toBeUndefined();
  });

  it('reads a range into a given buffer, or into a new one when it is too small', async () => {
    const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
    await p.platform.store.putBytes(bucket(), 'store-test/range.bin', bytes);
    const into = Buffer.alloc(200_000);
    const range = await p.platform.store.getRange(bucket(), 'store-test/range.bin', 1000, 151_000, into);
    expect(range.buffer).toBe(into.buffer);
    expect(range.equals(bytes.subarray(1000, 151_000))).toBe(true);
    const fresh = await p.platform.store.getRange(bucket(), 'store-test/range.bin', 0, 300_000, into);
    expect(fresh.buffer).not.toBe(into.buffer);
    expect(fresh.equals(bytes)).toBe(true);
    await p.platform.store.remove(bucket(), 'store-test/range.bin');
  });
});
