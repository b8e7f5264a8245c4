import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * Streaming AES-256-GCM for backups, so a multi-GB dump is encrypted on its way to MinIO
 * without being held in memory (MinIO's SSE-C fails with multipart uploads in the client).
 *
 * Layout: a 24-byte header (magic "NMLYENC1", the 8-byte key id, an 8-byte random nonce), then
 * frames of [u32 ciphertext length][u8 flags][ciphertext][16-byte GCM tag]. Each frame's IV is
 * the object's nonce + the frame counter (u32), the AAD binds counter and flags, and the last
 * frame carries FINAL: reordered, dropped, truncated or altered frames all fail authentication.
 */

const MAGIC = Buffer.from('NMLYENC1', 'ascii');
const HEADER_BYTES = MAGIC.length + 8 + 8;
const FRAME_HEADER_BYTES = 5;
const TAG_BYTES = 16;
const FLAG_FINAL = 1;
export const DEFAULT_FRAME_BYTES = 1024 * 1024;
const MAX_FRAME_BYTES = 64 * 1024 * 1024;

export class EncryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EncryptionError';
  }
}

export interface BackupKey {
  key: Buffer;
  /** First 16 hex digits of the key's sha256: recorded in manifests, never the key itself. */
  id: string;
}

export function backupKeyFromBytes(key: Buffer): BackupKey {
  if (key.length !== 32) throw new EncryptionError(`an AES-256 key is 32 bytes, this one is ${key.length}`);
  return { key, id: createHash('sha256').update(key).digest('hex').slice(0, 16) };
}

/** Reads a key file holding 32 raw bytes, 64 hex digits or the base64 of 32 bytes. */
export function readBackupKeyFile(file: string): BackupKey {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (err) {
    throw new EncryptionError(`NOMALY_BACKUP_KEY_FILE=${file} cannot be read: ${(err as Error).message}`);
  }
  if (raw.length === 32) return backupKeyFromBytes(raw);
  const text = raw.toString('utf8').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return backupKeyFromBytes(Buffer.from(text, 'hex'));
  const decoded = Buffer.from(text, 'base64');
  if (decoded.length === 32) return backupKeyFromBytes(decoded);
  throw new EncryptionError(
    `NOMALY_BACKUP_KEY_FILE=${file} holds no AES-256 key: use 32 random bytes, 64 hex digits or base64 (e.g. openssl rand -hex 32 > key)`,
  );
}

function frameIv(nonce: Buffer, counter: number): Buffer {
  const iv = Buffer.alloc(12);
  nonce.copy(iv, 0);
  iv.writeUInt32BE(counter, 8);
  return iv;
}

function frameAad(counter: number, flags: number): Buffer {
  const aad = Buffer.alloc(5);
  aad.writeUInt32BE(counter, 0);
  aad.writeUInt8(flags, 4);
  return aad;
}

/** Encrypts a stream of any length into frames of `frameBytes` plaintext. */
export class EncryptStream extends Transform {
  private readonly nonce = randomBytes(8);
  private counter = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly backupKey: BackupKey, private readonly frameBytes = DEFAULT_FRAME_BYTES) {
    super();
    this.push(Buffer.concat([MAGIC, Buffer.from(backupKey.id, 'hex'), this.nonce]));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    // Keep at least one byte back, so the final frame is never empty unless the stream is.
    while (this.pendingBytes > this.frameBytes) {
      const all = Buffer.concat(this.pending);
      this.pushFrame(all.subarray(0, this.frameBytes), 0);
      const rest = all.subarray(this.frameBytes);
      this.pending = [rest];
      this.pendingBytes = rest.length;
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.pushFrame(Buffer.concat(this.pending), FLAG_FINAL);
    this.pending = [];
    callback();
  }

  private pushFrame(plain: Buffer, flags: number): void {
    if (this.counter === 0xffffffff) throw new EncryptionError('stream too long for one nonce');
    const cipher = createCipheriv('aes-256-gcm', this.backupKey.key, frameIv(this.nonce, this.counter));
    cipher.setAAD(frameAad(this.counter, flags));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    const head = Buffer.alloc(FRAME_HEADER_BYTES);
    head.writeUInt32BE(body.length, 0);
    head.writeUInt8(flags, 4);
    this.push(Buffer.concat([head, body, cipher.getAuthTag()]));
    this.counter++;
  }
}

/** Reads the key id from an encrypted object's first bytes (undefined when it is not ours). */
export function encryptedKeyId(firstBytes: Buffer): string | undefined {
  if (firstBytes.length < HEADER_BYTES || !firstBytes.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  return firstBytes.subarray(MAGIC.length, MAGIC.length + 8).toString('hex');
}

/** Decrypts what EncryptStream wrote; a wrong key, a flipped byte or a truncated stream is an EncryptionError. */
export class DecryptStream extends Transform {
  private buffer: Buffer = Buffer.alloc(0);
  private nonce?: Buffer;
  private counter = 0;
  private finished = false;

  constructor(private readonly backupKey: BackupKey, private readonly objectName = 'the backup object') {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    try {
      this.drain();
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    if (!this.finished || this.buffer.length > 0) {
      callback(new EncryptionError(`${this.objectName} is truncated or has trailing bytes: its final encrypted frame is missing`));
      return;
    }
    callback();
  }

  private drain(): void {
    if (!this.nonce) {
      if (this.buffer.length < HEADER_BYTES) return;
      const keyId = encryptedKeyId(this.buffer);
      if (keyId === undefined) throw new EncryptionError(`${this.objectName} is not an encrypted Nomaly backup object`);
      if (keyId !== this.backupKey.id) {
        throw new EncryptionError(
          `${this.objectName} was encrypted with key id ${keyId}, but NOMALY_BACKUP_KEY_FILE holds key id ${this.backupKey.id}: configure the key the backup was made with`,
        );
      }
      this.nonce = Buffer.from(this.buffer.subarray(MAGIC.length + 8, HEADER_BYTES));
      this.buffer = this.buffer.subarray(HEADER_BYTES);
    }
    for (;;) {
      if (this.buffer.length < FRAME_HEADER_BYTES) return;
      const length = this.buffer.readUInt32BE(0);
      const flags = this.buffer.readUInt8(4);
      if (length > MAX_FRAME_BYTES || (flags & ~FLAG_FINAL) !== 0) throw new EncryptionError(`${this.objectName} is corrupt (bad frame header)`);
      if (this.finished) throw new EncryptionError(`${this.objectName} has data after its final frame`);
      const total = FRAME_HEADER_BYTES + length + TAG_BYTES;
      if (this.buffer.length < total) return;
      const decipher = createDecipheriv('aes-256-gcm', this.backupKey.key, frameIv(this.nonce!, this.counter));
      decipher.setAAD(frameAad(this.counter, flags));
      decipher.setAuthTag(this.buffer.subarray(FRAME_HEADER_BYTES + length, total));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(this.buffer.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length)), decipher.final()]);
      } catch {
        throw new EncryptionError(`${this.objectName} failed authentication at frame ${this.counter}: it was altered, or the key is wrong`);
      }
      this.push(plain);
      this.counter++;
      this.buffer = this.buffer.subarray(total);
      if (flags & FLAG_FINAL) this.finished = true;
    }
  }
}

/** Whole-buffer helpers for small objects such as manifests. */
export async function encryptBytes(backupKey: BackupKey, plain: Buffer): Promise<Buffer> {
  return collect(new EncryptStream(backupKey), plain);
}

export async function decryptBytes(backupKey: BackupKey, sealed: Buffer, objectName?: string): Promise<Buffer> {
  return collect(new DecryptStream(backupKey, objectName), sealed);
}

function collect(transform: Transform, input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    transform.on('data', (c: Buffer) => out.push(c));
    transform.on('error', reject);
    transform.on('end', () => resolve(Buffer.concat(out)));
    transform.end(input);
  });
}
