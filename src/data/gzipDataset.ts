/**
 * Gzip-compressed CSV and JSON lines (`.csv.gz`, `.jsonl.gz`). A gzip stream cannot be cut into
 * byte ranges (a chunk could only start reading at the file's first byte), so registration
 * decompresses it once, as a stream (through a local temporary file), into the plain file under
 * its own content address: the dataset is the plain file (its row index, chunks and range reads
 * as for any upload), and the record keeps the uploaded file's sha256 as `sourceSha256`. The size limit applies to the
 * decompressed bytes, so a small file that expands without bound (a "gzip bomb") is refused
 * once it passes the limit, never written out whole.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { ObjectStore } from '../storage/objectStore';
import { HashingStream } from '../storage/hashingStream';
import { datasetKey } from '../storage/keys';
import { DatasetFormatError } from './datasetError';

export { isGzip } from './fileSignature';

/** Refuses the stream once more than `maxBytes` have passed through. */
class SizeLimit extends Transform {
  private bytes = 0;

  constructor(private readonly maxBytes: number, private readonly name: string) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      callback(new DatasetFormatError(`${this.name}: decompressed, the file is over the dataset size limit of ${this.maxBytes} bytes (raise NOMALY_MAX_DATASET_BYTES to accept it)`));
      return;
    }
    callback(null, chunk);
  }
}

/** zlib's errors carry a Z_ code (by shape: an error from node's own realm is not an `instanceof Error` in every context, jest's for one). */
function isZlibError(err: unknown): err is { message: string } {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}

export interface Decompressed {
  key: string;
  sha256: string;
  size: number;
}

/**
 * Decompresses the stored gzip object `key` (its sha256 checked as it is read) into the plain
 * file at `datasetKey(<its sha256>, format)`. The plain bytes go to a local temporary file first
 * (at most `maxBytes`), then up with their digest known, published atomically: a failure at
 * any point leaves nothing in the store. Corrupt gzip data and a result over `maxBytes` are
 * DatasetFormatErrors.
 */
export async function gunzipStored(
  store: ObjectStore,
  bucket: string,
  source: { key: string; sha256: string; name: string },
  format: string,
  maxBytes: number,
  onBytes?: (bytes: number) => void,
): Promise<Decompressed> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nomaly-gunzip-'));
  try {
    const file = path.join(dir, `plain.${format}`);
    const hasher = new HashingStream(onBytes);
    try {
      await pipeline(Readable.from(store.streamVerified(bucket, source.key, source.sha256)), createGunzip(), new SizeLimit(maxBytes, source.name), hasher, createWriteStream(file));
    } catch (err) {
      if (isZlibError(err)) throw new DatasetFormatError(`${source.name}: not valid gzip data (${err.message}); check the file is complete (gzip -t FILE)`);
      throw err;
    }
    const digest = await hasher.digest;
    if (digest.size === 0) throw new DatasetFormatError(`${source.name}: empty file (0 bytes once decompressed)`);
    const published = await store.putFilePublished(bucket, datasetKey(digest.sha256, format), file, digest);
    return { key: published.key, sha256: digest.sha256, size: digest.size };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
