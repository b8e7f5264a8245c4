import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import * as Minio from 'minio';

/** Object keys are built by our code from ids and hashes; this keeps a hostile name from escaping its prefix. */
export function assertSafeKey(key: string): void {
  if (!key || key.startsWith('/') || key.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new ObjectStoreError(`unsafe object key "${key}"`);
  }
}

export class ObjectStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ObjectStoreError';
  }
}

/** Raised when stored bytes no longer match their recorded sha256: retrying cannot fix it. */
export class ChecksumMismatchError extends ObjectStoreError {
  constructor(bucket: string, key: string, expected: string, actual: string) {
    super(`object ${bucket}/${key} is corrupt: sha256 ${actual} does not match the recorded ${expected}`);
    this.name = 'ChecksumMismatchError';
  }
}

/** Bytes read by range that no longer match the CRC-32 their index recorded for them. */
export class CorruptRangeError extends ObjectStoreError {
  constructor(bucket: string, key: string, block: number, blockBytes: number) {
    super(`object ${bucket}/${key} is corrupt: bytes ${block * blockBytes}-${(block + 1) * blockBytes} do not match the CRC-32 its index recorded`);
    this.name = 'CorruptRangeError';
  }
}

/** A registered object that is not in the store: the registry and the store disagree, which no retry repairs. */
export class ObjectMissingError extends ObjectStoreError {
  constructor(bucket: string, key: string) {
    super(`object ${bucket}/${key} does not exist, although it is registered (was the object store's data replaced or deleted?)`);
    this.name = 'ObjectMissingError';
  }
}

/**
 * An object the server still holds but cannot serve, read after read, while it answers for its
 * bucket: its stored bytes are damaged (MinIO answers 503 for bitrot on a single drive). No
 * retry repairs it.
 */
export class ObjectUnreadableError extends ObjectStoreError {
  constructor(
    readonly bucket: string,
    readonly key: string,
    attempts: number,
    cause: string,
  ) {
    super(`object ${bucket}/${key} is unreadable: ${attempts} reads failed (${cause}) while the server answers for ${bucket}; its stored bytes are likely damaged`);
    this.name = 'ObjectUnreadableError';
  }
}

/** Whole reads of one object before its failures count as the object's, not the server's. */
export const PERSISTENT_READ_ATTEMPTS = 3;
const REREAD_DELAY_MS = 300;

function isNotFound(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'NotFound' || code === 'NoSuchKey';
}

export interface StoredObject {
  bucket: string;
  key: string;
  size: number;
  sha256: string;
  /** The server's entity tag: changes whenever the object's bytes are replaced. */
  etag?: string;
}

/** One object of a listing: what pinning a source records of it. */
export interface ListedObject {
  key: string;
  size: number;
  etag: string;
}

const SHA_META = 'sha256';
/** The minio client's default part size: a file up to this goes up in one atomic PUT. */
const SINGLE_PUT_BYTES = 64 * 1024 * 1024;
/** S3's limit on one PUT, and on one server-side copy. */
const MAX_SINGLE_PUT_BYTES = 5 * 1024 ** 3;
/** Part size for streams of unknown length (an unknown size would mean ~528 MiB parts held in memory). */
export const STREAM_PART_SIZE = 32 * 1024 * 1024;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function sha256OfFile(file: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

/**
 * MinIO access with our own end-to-end SHA-256: the minio client checks downloads by size
 * only, so every write records the digest and every read recomputes it before use.
 */
export class ObjectStore {
  /**
   * @param wholePutClient the same server with the largest part size, so a buffer of any size up
   *   to S3's 5 GiB single-PUT limit goes up in one PUT (the client splits anything above its
   *   part size into a multipart upload, which is not atomic).
   */
  constructor(
    readonly client: Minio.Client,
    private readonly wholePutClient: Minio.Client = client,
    /** The same server with STREAM_PART_SIZE parts, for streams of unknown length. */
    private readonly streamClient: Minio.Client = client,
  ) {}

  static connect(options: { endPoint: string; port: number; useSSL: boolean; accessKey: string; secretKey: string }): ObjectStore {
    return new ObjectStore(
      new Minio.Client(options),
      new Minio.Client({ ...options, partSize: MAX_SINGLE_PUT_BYTES }),
      new Minio.Client({ ...options, partSize: STREAM_PART_SIZE }),
    );
  }

  async ensureBuckets(buckets: string[]): Promise<void> {
    for (const bucket of buckets) {
      if (await this.client.bucketExists(bucket)) continue;
      try {
        await this.client.makeBucket(bucket);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw err;
      }
    }
  }

  /**
   * Writes bytes at a deterministic key in one PUT, which MinIO applies atomically: readers see
   * the old object or the new one, never a part, and a retry overwrites with the same bytes.
   */
  async putBytes(bucket: string, key: string, bytes: Uint8Array, contentType = 'application/octet-stream'): Promise<StoredObject> {
    assertSafeKey(key);
    if (bytes.byteLength > MAX_SINGLE_PUT_BYTES) throw new ObjectStoreError(`${bucket}/${key}: ${bytes.byteLength} bytes is more than one PUT takes (5 GiB)`);
    const sha256 = sha256Hex(bytes);
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    await this.wholePutClient.putObject(bucket, key, buffer, buffer.length, { 'Content-Type': contentType, [SHA_META]: sha256 });
    return { bucket, key, size: buffer.length, sha256 };
  }

  /** Streams a local file up with its size given (an unknown size makes the client buffer ~0.5 GiB parts). */
  async putFile(bucket: string, key: string, file: string, known?: { sha256: string; size: number }): Promise<StoredObject> {
    assertSafeKey(key);
    const { sha256, size } = known ?? (await sha256OfFile(file));
    const { size: sizeNow } = await stat(file);
    if (sizeNow !== size) throw new ObjectStoreError(`${file} changed while it was being uploaded`);
    await this.client.putObject(bucket, key, createReadStream(file), size, { [SHA_META]: sha256 });
    return { bucket, key, size, sha256 };
  }

  /** putFile, atomically: above the single-PUT size via a key unique to this attempt, published by a server-side copy. */
  async putFilePublished(bucket: string, key: string, file: string, known: { sha256: string; size: number }): Promise<StoredObject> {
    if (known.size <= SINGLE_PUT_BYTES) return this.putFile(bucket, key, file, known);
    const staging = `${key}.staging-${randomBytes(6).toString('hex')}`;
    await this.putFile(bucket, staging, file, known);
    return this.publishByCopy(bucket, staging, key, known);
  }

  /**
   * Uploads a stream of unknown length in STREAM_PART_SIZE parts. A multipart upload is not
   * atomic and the client resumes an incomplete one of the same key: write to a key unique to
   * the attempt and publishByCopy once its checksum is known.
   */
  async putStream(bucket: string, key: string, stream: Readable, contentType = 'application/octet-stream'): Promise<void> {
    assertSafeKey(key);
    await this.streamClient.putObject(bucket, key, stream, undefined, { 'Content-Type': contentType });
  }

  /**
   * Publishes a staged object under its final key by a server-side copy that records its sha256
   * (readers see the whole object or none), checks it arrived whole, and removes the staged one.
   */
  async publishByCopy(bucket: string, stagingKey: string, finalKey: string, known: { size: number; sha256: string }): Promise<StoredObject> {
    assertSafeKey(stagingKey);
    assertSafeKey(finalKey);
    const source = new Minio.CopySourceOptions({ Bucket: bucket, Object: stagingKey });
    const dest = new Minio.CopyDestinationOptions({ Bucket: bucket, Object: finalKey, MetadataDirective: 'REPLACE', UserMetadata: { [SHA_META]: known.sha256 } });
    try {
      // A single copy is limited to 5 GiB; composeObject copies larger objects part by part.
      if (known.size > MAX_SINGLE_PUT_BYTES) await this.client.composeObject(dest, [source]);
      else await this.client.copyObject(source, dest);
      const published = await this.stat(bucket, finalKey);
      if (!published || published.size !== known.size) throw new ObjectStoreError(`copy of ${bucket}/${stagingKey} to ${finalKey} did not arrive whole`);
    } finally {
      await this.client.removeObject(bucket, stagingKey);
    }
    return { bucket, key: finalKey, size: known.size, sha256: known.sha256 };
  }

  /** Asks the server to abort multipart uploads left incomplete for `days` (a killed uploader's). Best effort: not every server supports it. */
  async abortStaleUploads(bucket: string, days: number): Promise<void> {
    await this.client
      .setBucketLifecycle(bucket, {
        Rule: [{ ID: 'abort-stale-uploads', Status: 'Enabled', Filter: { Prefix: '' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: days } }],
      } as never)
      .catch(() => undefined);
  }

  /** Removes the incomplete multipart uploads of every key under `prefix`. */
  async removeIncompleteUploads(bucket: string, prefix: string): Promise<void> {
    const uploads: string[] = [];
    // MinIO lists incomplete uploads by exact object name only: list them all and filter.
    const stream = this.client.listIncompleteUploads(bucket, '', true);
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (u: { key?: string }) => u.key?.startsWith(prefix) && uploads.push(u.key));
      stream.on('end', () => resolve());
      stream.on('error', reject);
    });
    for (const key of new Set(uploads)) await this.client.removeIncompleteUpload(bucket, key);
  }

  async stat(bucket: string, key: string): Promise<StoredObject | undefined> {
    assertSafeKey(key);
    try {
      const info = await this.client.statObject(bucket, key);
      return { bucket, key, size: info.size, sha256: String(info.metaData?.[SHA_META] ?? ''), etag: info.etag };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** A whole object as a stream, unchecked (ObjectMissingError when it is not there); hash what you read. */
  async getStream(bucket: string, key: string): Promise<Readable> {
    assertSafeKey(key);
    return this.client.getObject(bucket, key).catch((err: unknown) => {
      throw isNotFound(err) ? new ObjectMissingError(bucket, key) : err;
    });
  }

  /** Reads a whole object and refuses it unless its sha256 matches `expectedSha256` (or the recorded one). */
  async getVerifiedBytes(bucket: string, key: string, expectedSha256?: string): Promise<Buffer> {
    assertSafeKey(key);
    const recorded = expectedSha256 ?? (await this.stat(bucket, key))?.sha256;
    if (!recorded) throw new ObjectStoreError(`object ${bucket}/${key} has no recorded sha256; refusing to trust it`);
    const stream = await this.getStream(bucket, key);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    const actual = sha256Hex(bytes);
    if (actual !== recorded) throw new ChecksumMismatchError(bucket, key, recorded, actual);
    return bytes;
  }

  /**
   * Reads bytes [start, end) of an object. Ranges carry no checksum of their own: use them on
   * content-addressed objects whose whole-object sha256 was verified (e.g. when planning chunks).
   * With `into` (large enough), the bytes land in it and the result is a view of it.
   */
  async getRange(bucket: string, key: string, start: number, end: number, into?: Buffer): Promise<Buffer> {
    assertSafeKey(key);
    if (end <= start) return Buffer.alloc(0);
    const stream = await this.client.getPartialObject(bucket, key, start, end - start).catch((err: unknown) => {
      throw isNotFound(err) ? new ObjectMissingError(bucket, key) : err;
    });
    // Copied straight into one buffer of the range's size, not collected and concatenated: a
    // chunk of a big job reads tens of MB, and every copy of them is garbage to collect.
    const bytes = into && into.length >= end - start ? into.subarray(0, end - start) : Buffer.allocUnsafe(end - start);
    let at = 0;
    for await (const chunk of stream) {
      const piece = chunk as Buffer;
      if (at + piece.length > bytes.length) {
        stream.destroy();
        throw new ObjectStoreError(`object ${bucket}/${key}: asked for ${end - start} bytes at ${start}, got more`);
      }
      piece.copy(bytes, at);
      at += piece.length;
    }
    if (at !== bytes.length) throw new ObjectStoreError(`object ${bucket}/${key}: asked for ${end - start} bytes at ${start}, got ${at}`);
    return bytes;
  }

  /** Streams a whole object, recomputing its sha256 as it goes; the caller learns the digest at the end. */
  async *streamVerified(bucket: string, key: string, expectedSha256: string): AsyncGenerator<Buffer> {
    assertSafeKey(key);
    const stream = await this.getStream(bucket, key);
    const hash = createHash('sha256');
    for await (const chunk of stream) {
      hash.update(chunk as Buffer);
      yield chunk as Buffer;
    }
    const actual = hash.digest('hex');
    if (actual !== expectedSha256) throw new ChecksumMismatchError(bucket, key, expectedSha256, actual);
  }

  async remove(bucket: string, key: string): Promise<void> {
    assertSafeKey(key);
    await this.client.removeObject(bucket, key);
  }

  /** Removes many objects in as few requests as S3 allows (1,000 keys each); missing ones are no error. */
  async removeMany(bucket: string, keys: string[]): Promise<void> {
    keys.forEach(assertSafeKey);
    if (keys.length === 0) return;
    // The client returns the per-key errors of a quiet multi-delete: nothing when all went.
    const failed = (await this.client.removeObjects(bucket, keys)) as Array<{ Key?: string; Code?: string; Message?: string }>;
    if (failed.length > 0) throw new ObjectStoreError(`removing ${failed.length} of ${keys.length} objects from ${bucket} failed: ${failed[0].Key}: ${failed[0].Code} ${failed[0].Message ?? ''}`.trim());
  }

  /** Every object under `prefix` with its size and ETag, in key order. */
  async listObjects(bucket: string, prefix: string): Promise<ListedObject[]> {
    const objects: ListedObject[] = [];
    const stream = this.client.listObjectsV2(bucket, prefix, true);
    for await (const item of stream as AsyncIterable<{ name?: string; size?: number; etag?: string }>) {
      if (item.name) objects.push({ key: item.name, size: item.size ?? 0, etag: String(item.etag ?? '').replace(/"/g, '') });
    }
    return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async listKeys(bucket: string, prefix: string): Promise<string[]> {
    const keys: string[] = [];
    const stream = this.client.listObjectsV2(bucket, prefix, true);
    for await (const item of stream as AsyncIterable<{ name?: string }>) if (item.name) keys.push(item.name);
    return keys;
  }

  /**
   * Runs `read` (one whole read of bucket/key), again after each failure, up to
   * PERSISTENT_READ_ATTEMPTS reads. A failed read counts against the object only when the server
   * answers for its bucket right after it; when every read failed that way, the object itself is
   * the problem: ObjectUnreadableError. When the server does not answer (an outage), the read's
   * error is thrown as it is, for the caller's retries. Errors that already say what is wrong
   * (missing, corrupt, or `isFinal`) are not read again.
   */
  async readPersistently<T>(bucket: string, key: string, read: () => Promise<T>, isFinal: (err: unknown) => boolean = () => false): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let failure: unknown;
      try {
        return await read();
      } catch (err) {
        if (err instanceof ObjectStoreError || isNotFound(err) || (err as Error).name === 'AbortError' || isFinal(err)) throw err;
        failure = err;
      }
      const serverAnswers = await this.client.bucketExists(bucket).then(
        () => true,
        () => false,
      );
      if (!serverAnswers) throw failure;
      if (attempt >= PERSISTENT_READ_ATTEMPTS) throw new ObjectUnreadableError(bucket, key, attempt, (failure as Error)?.message ?? String(failure));
      await new Promise((r) => setTimeout(r, REREAD_DELAY_MS * attempt));
    }
  }

  async ping(bucket: string): Promise<void> {
    if (!(await this.client.bucketExists(bucket))) throw new ObjectStoreError(`bucket ${bucket} does not exist`);
  }
}
