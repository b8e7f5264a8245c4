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

export function decodeScoresFile(bytes: Uint8Array): Float64Array {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < HEADER_BYTES || buf.toString('ascii', 0, 4) !== SCORES_MAGIC) throw new Error('not a Nomaly score file (bad magic)');
  const version = buf.readUInt16LE(4);
  if (version !== SCORES_FORMAT_VERSION) throw new Error(`score file format version ${version}; this build reads ${SCORES_FORMAT_VERSION}`);
  const rows = Number(buf.readBigUInt64LE(8));
  if (buf.length !== HEADER_BYTES + rows * 8) throw new Error(`score file is truncated: ${rows} rows need ${HEADER_BYTES + rows * 8} bytes, found ${buf.length}`);
  // Copy: the body need not be 8-byte aligned inside the caller's buffer.
  return new Float64Array(Uint8Array.prototype.slice.call(buf, HEADER_BYTES).buffer);
}
