/**
 * hyparquet-writer's ByteWriter writing through to a file a megabyte at a time, so a benchmark's
 * Parquet part is never whole in memory (ParquetWriter flushes after each row group).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { ByteWriter } from 'hyparquet-writer';

export class FileByteWriter extends ByteWriter {
  private readonly fd: number;

  constructor(file: string) {
    super(1 << 20);
    this.fd = openSync(file, 'w', 0o600);
  }

  override ensure(size: number): void {
    if (this.index > 1 << 20) this.flush();
    super.ensure(size);
  }

  /** ParquetWriter calls this after each row group. */
  flush(): void {
    const chunk = new Uint8Array(this.buffer, 0, this.index);
    for (let written = 0; written < chunk.length; ) written += writeSync(this.fd, chunk, written);
    this.index = 0;
  }

  override finish(): void {
    this.flush();
    closeSync(this.fd);
  }
}
