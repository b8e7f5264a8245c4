/**
 * A CSV dataset's row index, built once in the streaming pass that registers it (or, for a
 * dataset registered before indexes existed, by the first job that plans on it):
 *
 * - where every ROW_STRIDE-th data row starts, so a job plans its chunks' byte ranges without
 *   reading the file again;
 * - a CRC-32 of every BLOCK_BYTES of the file, so a chunk that reads a byte range checks exactly
 *   the bytes it uses. The file's sha256 was verified in the pass that built the index, and the
 *   index object has a sha256 of its own; CRC-32 per block is enough to catch a changed or
 *   corrupt byte afterwards, at a quarter of sha256's cost per chunk.
 *
 * Rows are counted as CsvLayoutScanner counts them (the CSV reader's rules: header first, blank
 * lines hold no row, quoted newlines do not end a row).
 */
import { crc32 } from 'node:zlib';
import { CsvLayoutScanner, type CsvLayout } from './csvLayout';

/**
 * Counts a text format's rows as its reader does and notes where every rowsPerChunk-th row
 * starts (CSV: CsvLayoutScanner; JSON lines: JsonLinesLayoutScanner). The index is the same for both.
 */
export interface RowLayoutScanner {
  push(piece: Uint8Array): void;
  finish(): CsvLayout;
}

export const ROW_STRIDE = 1000;
export const BLOCK_BYTES = 256 * 1024;

export interface CsvIndex {
  /** Bytes of the header line, its newline included. */
  headerEnd: number;
  dataRows: number;
  fileBytes: number;
  rowStride: number;
  /** rowStarts[k] is where data row k × rowStride starts; the last entry is where the last row ends. */
  rowStarts: Float64Array;
  blockBytes: number;
  /** blockCrcs[i] is the CRC-32 of bytes [i × blockBytes, (i + 1) × blockBytes) (the last block may be shorter). */
  blockCrcs: Uint32Array;
}

export class CsvIndexError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsvIndexError';
  }
}

/** Feeds on the file's bytes in order, in pieces of any size. */
export class CsvIndexBuilder {
  private readonly rows: RowLayoutScanner;
  private readonly crcs: number[] = [];
  private crc = 0;
  private inBlock = 0; // bytes of the current block hashed so far
  private bytes = 0;

  constructor(
    private readonly rowStride = ROW_STRIDE,
    private readonly blockBytes = BLOCK_BYTES,
    scanner: (rowsPerChunk: number) => RowLayoutScanner = (n) => new CsvLayoutScanner(n),
  ) {
    this.rows = scanner(rowStride);
  }

  push(piece: Uint8Array): void {
    this.rows.push(piece);
    this.bytes += piece.length;
    let at = 0;
    while (at < piece.length) {
      const take = Math.min(this.blockBytes - this.inBlock, piece.length - at);
      this.crc = crc32(piece.subarray(at, at + take), this.crc);
      this.inBlock += take;
      at += take;
      if (this.inBlock === this.blockBytes) this.endBlock();
    }
  }

  finish(): CsvIndex {
    if (this.inBlock > 0) this.endBlock();
    const layout = this.rows.finish();
    return {
      headerEnd: layout.headerEnd,
      dataRows: layout.dataRows,
      fileBytes: this.bytes,
      rowStride: this.rowStride,
      rowStarts: Float64Array.from(layout.chunkStarts),
      blockBytes: this.blockBytes,
      blockCrcs: Uint32Array.from(this.crcs),
    };
  }

  private endBlock(): void {
    this.crcs.push(this.crc);
    this.crc = 0;
    this.inBlock = 0;
  }
}

export async function buildCsvIndex(pieces: AsyncIterable<Uint8Array>): Promise<CsvIndex> {
  const builder = new CsvIndexBuilder();
  for await (const piece of pieces) builder.push(piece);
  return builder.finish();
}

const MAGIC = 0x4e4d4349; // "NMCI"
const VERSION = 1;
const HEADER_BYTES = 48;

export function encodeCsvIndex(index: CsvIndex): Buffer {
  const out = Buffer.alloc(HEADER_BYTES + index.rowStarts.length * 8 + index.blockCrcs.length * 4);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, VERSION, true);
  view.setFloat64(8, index.headerEnd, true);
  view.setFloat64(16, index.dataRows, true);
  view.setFloat64(24, index.fileBytes, true);
  view.setUint32(32, index.rowStride, true);
  view.setUint32(36, index.blockBytes, true);
  view.setUint32(40, index.rowStarts.length, true);
  view.setUint32(44, index.blockCrcs.length, true);
  let at = HEADER_BYTES;
  for (const start of index.rowStarts) {
    view.setFloat64(at, start, true);
    at += 8;
  }
  for (const crc of index.blockCrcs) {
    view.setUint32(at, crc, true);
    at += 4;
  }
  return out;
}

export function decodeCsvIndex(bytes: Uint8Array): CsvIndex {
  if (bytes.length < HEADER_BYTES) throw new CsvIndexError(`CSV index too short (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw new CsvIndexError('not a CSV index (bad magic)');
  if (view.getUint32(4, true) !== VERSION) throw new CsvIndexError(`CSV index version ${view.getUint32(4, true)} is not ${VERSION}`);
  const index: CsvIndex = {
    headerEnd: view.getFloat64(8, true),
    dataRows: view.getFloat64(16, true),
    fileBytes: view.getFloat64(24, true),
    rowStride: view.getUint32(32, true),
    blockBytes: view.getUint32(36, true),
    rowStarts: new Float64Array(view.getUint32(40, true)),
    blockCrcs: new Uint32Array(view.getUint32(44, true)),
  };
  const expectedBytes = HEADER_BYTES + index.rowStarts.length * 8 + index.blockCrcs.length * 4;
  if (bytes.length !== expectedBytes) throw new CsvIndexError(`CSV index holds ${bytes.length} bytes, its header says ${expectedBytes}`);
  let at = HEADER_BYTES;
  for (let k = 0; k < index.rowStarts.length; k++, at += 8) index.rowStarts[k] = view.getFloat64(at, true);
  for (let i = 0; i < index.blockCrcs.length; i++, at += 4) index.blockCrcs[i] = view.getUint32(at, true);
  if (
    index.rowStride < 1 ||
    index.blockBytes < 1 ||
    index.rowStarts.length !== Math.ceil(index.dataRows / index.rowStride) + 1 ||
    index.blockCrcs.length !== Math.ceil(index.fileBytes / index.blockBytes)
  ) {
    throw new CsvIndexError('CSV index is inconsistent (entry counts do not match its rows and bytes)');
  }
  return index;
}

/** The whole blocks that cover bytes [start, end): a range read of these can be verified. */
export function blockSpan(index: CsvIndex, start: number, end: number): { readStart: number; readEnd: number } {
  if (!(start >= 0 && start <= end && end <= index.fileBytes)) throw new RangeError(`bytes ${start}-${end} are outside the file's ${index.fileBytes}`);
  const readStart = Math.floor(start / index.blockBytes) * index.blockBytes;
  const readEnd = Math.min(Math.ceil(end / index.blockBytes) * index.blockBytes, index.fileBytes);
  return { readStart, readEnd };
}

/** Checks bytes read from `readStart` (a block boundary) against the index; returns the first bad block, or -1. */
export function firstCorruptBlock(index: CsvIndex, readStart: number, bytes: Uint8Array): number {
  const first = readStart / index.blockBytes;
  for (let at = 0, block = first; at < bytes.length; at += index.blockBytes, block++) {
    const piece = bytes.subarray(at, Math.min(at + index.blockBytes, bytes.length));
    if (block >= index.blockCrcs.length || crc32(piece) !== index.blockCrcs[block]) return block;
  }
  return -1;
}

/** Where data row `row` starts, when it is an indexed row (a multiple of the stride, or the end). */
export function indexedRowStart(index: CsvIndex, row: number): number | undefined {
  if (row === index.dataRows) return index.rowStarts[index.rowStarts.length - 1];
  return row % index.rowStride === 0 ? index.rowStarts[row / index.rowStride] : undefined;
}
