/**
 * The per-job score file: every row's score in row order, Float64 little-endian, behind a
 * 16-byte header so a reader can tell what it holds without the database:
 *   bytes 0-3   "NSCR"
 *   bytes 4-5   format version (1)
 *   bytes 6-7   bytes per score (8)
 *   bytes 8-15  row count (uint64)
 */
export const SCORES_MAGIC = 'NSCR';
export const SCORES_FORMAT_VERSION = 1;
const HEADER_BYTES = 16;

export function encodeScoresHeader(rows: number): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.write(SCORES_MAGIC, 0, 'ascii');
  header.writeUInt16LE(SCORES_FORMAT_VERSION, 4);
  header.writeUInt16LE(8, 6);
  header.writeBigUInt64LE(BigInt(rows), 8);
  return header;
}

/** The row count a score file's header gives, after checking its magic and version. */
function headerRows(buf: Buffer): number {
  if (buf.length < HEADER_BYTES || buf.toString('ascii', 0, 4) !== SCORES_MAGIC) throw new Error('not a Nomaly score file (bad magic)');
  const version = buf.readUInt16LE(4);
  if (version !== SCORES_FORMAT_VERSION) throw new Error(`score file format version ${version}; this build reads ${SCORES_FORMAT_VERSION}`);
  return Number(buf.readBigUInt64LE(8));
}

export function decodeScoresFile(bytes: Uint8Array): Float64Array {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rows = headerRows(buf);
  if (buf.length !== HEADER_BYTES + rows * 8) throw new Error(`score file is truncated: ${rows} rows need ${HEADER_BYTES + rows * 8} bytes, found ${buf.length}`);
  // Copy: the body need not be 8-byte aligned inside the caller's buffer.
  return new Float64Array(Uint8Array.prototype.slice.call(buf, HEADER_BYTES).buffer);
}

/**
 * A score file's scores streamed in batches of `batchRows` (the last may be shorter), from the
 * pieces of its bytes as they arrive: memory is one batch and one piece, never the file. Throws
 * when the bytes are not a score file or do not hold the rows its header says.
 */
export async function* scoresFileBatches(pieces: AsyncIterable<Buffer>, batchRows: number): AsyncGenerator<Float64Array> {
  let header = false;
  let pending: Buffer = Buffer.alloc(0);
  let rows = 0;
  let seen = 0;
  const batchBytes = batchRows * 8;
  for await (const piece of pieces) {
    pending = pending.length ? Buffer.concat([pending, piece]) : piece;
    if (!header) {
      if (pending.length < HEADER_BYTES) continue;
      rows = headerRows(pending);
      header = true;
      pending = pending.subarray(HEADER_BYTES);
    }
    while (pending.length >= batchBytes) {
      yield scoresOf(pending.subarray(0, batchBytes));
      seen += batchRows;
      pending = pending.subarray(batchBytes);
    }
  }
  if (!header) headerRows(pending);
  if (pending.length % 8 !== 0 || seen + pending.length / 8 !== rows) {
    throw new Error(`score file is truncated: its header says ${rows} rows, it holds ${(seen * 8 + pending.length) / 8}`);
  }
  if (pending.length) yield scoresOf(pending);
}

/** Little-endian doubles copied out of `bytes` (which need not be 8-byte aligned). */
function scoresOf(bytes: Buffer): Float64Array {
  return new Float64Array(Uint8Array.prototype.slice.call(bytes).buffer);
}
