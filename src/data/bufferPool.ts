/**
 * Large scratch buffers reused from one task to the next (a chunk's CSV bytes). A scoring worker
 * that allocated tens of MB per chunk made V8 start a full collection every few hundred
 * milliseconds; taking them from here instead makes that garbage disappear. Buffers unused for
 * `idleMs` are dropped, so an idle worker gives the memory back.
 */
export class BufferPool {
  private free: Buffer[] = [];
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly maxFree: number,
    private readonly idleMs = 30_000,
  ) {}

  /** A buffer of at least `bytes` (its contents are whatever the last user left). */
  take(bytes: number): Buffer {
    const fits = this.free.findIndex((buffer) => buffer.length >= bytes);
    if (fits >= 0) return this.free.splice(fits, 1)[0];
    // Some headroom: the next chunk's range is a little longer or shorter.
    return Buffer.allocUnsafeSlow(Math.ceil(bytes * 1.05));
  }

  give(buffer: Buffer): void {
    this.free.push(buffer);
    if (this.free.length > this.maxFree) this.free.shift();
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => (this.free = []), this.idleMs).unref();
  }

  /** Buffers waiting to be reused. */
  get size(): number {
    return this.free.length;
  }
}
