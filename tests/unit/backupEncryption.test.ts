import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { backupKeyFromBytes, decryptBytes, DecryptStream, encryptBytes, EncryptStream, readBackupKeyFile } from '../../src/storage/encryption';

async function through(input: Buffer, transform: NodeJS.ReadWriteStream, pieces = 7): Promise<Buffer> {
  const out: Buffer[] = [];
  const step = Math.max(1, Math.ceil(input.length / pieces));
  const chunks = Array.from({ length: Math.ceil(input.length / step) }, (_, i) => input.subarray(i * step, (i + 1) * step));
  await pipeline(Readable.from(chunks), transform, async function* (source) {
    for await (const c of source) out.push(c as Buffer);
  });
  return Buffer.concat(out);
}

describe('streaming AES-256-GCM for backups', () => {
  const key = backupKeyFromBytes(randomBytes(32));

  it('round-trips empty, small and multi-frame streams, fed in any chunking', async () => {
    for (const size of [0, 1, 1000, 3 * 4096 + 17]) {
      const plain = randomBytes(size);
      const sealed = await through(plain, new EncryptStream(key, 4096), 5);
      expect(sealed.includes(plain.subarray(0, 64)) && size >= 64).toBe(false);
      expect(await through(sealed, new DecryptStream(key), 11)).toEqual(plain);
    }
  });

  it('uses a fresh nonce per object: the same bytes encrypt differently', async () => {
    const plain = Buffer.from('the same bytes');
    expect((await encryptBytes(key, plain)).equals(await encryptBytes(key, plain))).toBe(false);
  });

  it('refuses a wrong key with a message naming both key ids', async () => {
    const sealed = await encryptBytes(key, Buffer.from('secret'));
    const other = backupKeyFromBytes(randomBytes(32));
    await expect(decryptBytes(other, sealed, 'backups/x/platform.dump.enc')).rejects.toThrow(
      new RegExp(`backups/x/platform.dump.enc was encrypted with key id ${key.id}, but NOMALY_BACKUP_KEY_FILE holds key id ${other.id}`),
    );
  });

  it('refuses a flipped byte, a dropped frame and a truncated stream', async () => {
    const plain = randomBytes(10_000);
    const sealed = await through(plain, new EncryptStream(key, 1000));
    const flipped = Buffer.from(sealed);
    flipped[500] ^= 1;
    await expect(through(flipped, new DecryptStream(key))).rejects.toThrow(/failed authentication/);
    const frame = 5 + 1000 + 16;
    const dropped = Buffer.concat([sealed.subarray(0, 24), sealed.subarray(24 + frame)]);
    await expect(through(dropped, new DecryptStream(key))).rejects.toThrow(/failed authentication/);
    await expect(through(sealed.subarray(0, 24 + 3 * frame), new DecryptStream(key))).rejects.toThrow(/truncated/);
  });

  it('reads key files as raw bytes, hex or base64, with the key id = first 16 hex of sha256', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nomaly-key-'));
    const raw = randomBytes(32);
    const expected = backupKeyFromBytes(raw).id;
    for (const [name, content] of [['raw', raw], ['hex', raw.toString('hex') + '\n'], ['b64', raw.toString('base64')]] as const) {
      writeFileSync(path.join(dir, name), content);
      expect(readBackupKeyFile(path.join(dir, name)).id).toBe(expected);
    }
    writeFileSync(path.join(dir, 'bad'), 'short');
    expect(() => readBackupKeyFile(path.join(dir, 'bad'))).toThrow(/holds no AES-256 key/);
    expect(expected).toMatch(/^[0-9a-f]{16}$/);
  });
});
