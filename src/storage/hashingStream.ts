import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** A pass-through that counts and hashes (SHA-256) what flows through it. */
export class HashingStream extends Transform {
  private readonly hash = createHash('sha256');
  private size = 0;
  /** Resolves with the size and sha256 of everything that passed, once the stream has ended. */
  readonly digest: Promise<{ size: number; sha256: string }>;
  private resolveDigest!: (value: { size: number; sha256: string }) => void;

  constructor(private readonly onBytes?: (total: number) => void) {
    super();
    this.digest = new Promise((resolve) => {
      this.resolveDigest = resolve;
    });
  }

  get bytes(): number {
    return this.size;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    this.onBytes?.(this.size);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.resolveDigest({ size: this.size, sha256: this.hash.digest('hex') });
    callback();
  }
}
