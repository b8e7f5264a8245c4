/**
 * Streaming CSV: a byte stream → batches of parsed rows, so a file of any size is read with
 * memory bounded by the batch size (about `batchBytes` of text plus its rows as doubles).
 *
 * The stream is cut at record boundaries (a line feed outside quotes, tracked across chunks
 * with the RFC 4180 field state machine), and each batch is parsed by `readCsv` with the header
 * line in front of it, so batches get exactly the checks, values and error messages (with the
 * file's own line numbers) of reading the whole file at once.
 */
import { readCsv, type CsvReadOptions } from './csv';
import type { DatasetTable } from './table';
import { DatasetFormatError } from './datasetError';

const LF = 10;
const CR = 13;
const QUOTE = 34;
const COMMA = 44;
const SPACE = 32;
const TAB = 9;

// Field state machine states.
const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_IN_QUOTED = 3;

export interface CsvStreamOptions extends Omit<CsvReadOptions, 'rowStart' | 'rowEnd' | 'firstDataLine' | 'allowNoRows'> {
  /** Approximate bytes of text per batch (default 8 MiB). */
  batchBytes?: number;
}

/** Finds record ends in a byte stream; remembers the field state and the line count between chunks. */
class RecordBoundaryScanner {
  private state = FIELD_START;
  /** Line feeds seen (inside quoted fields too). */
  private lines = 0;

  /**
   * Scans buf[from, end) and returns the index just past the last (or, with `first`, the first)
   * record-ending line feed, or -1; `linesAtCut` is the number of line feeds up to that point.
   */
  scan(buf: Buffer, from: number, first = false): { cut: number; linesAtCut: number } {
    const to = buf.length;
    let cut = -1;
    let linesAtCut = this.lines;
    let state = this.state;
    let lines = this.lines;
    if (!first && state !== QUOTED && state !== QUOTE_IN_QUOTED && buf.indexOf(QUOTE, from) === -1) {
      // Fast path: no quotes ahead, every line feed ends a record.
      for (let i = buf.indexOf(LF, from); i !== -1; i = buf.indexOf(LF, i + 1)) {
        lines++;
        cut = i + 1;
      }
      linesAtCut = lines;
      if (to > from) state = buf[to - 1] === LF || buf[to - 1] === COMMA ? FIELD_START : UNQUOTED;
    } else {
      for (let i = from; i < to; i++) {
        const c = buf[i];
        if (c === LF) lines++;
        if (state === QUOTED) {
          if (c === QUOTE) state = QUOTE_IN_QUOTED;
          continue;
        }
        if (state === QUOTE_IN_QUOTED) {
          if (c === QUOTE) {
            state = QUOTED;
            continue;
          }
          if (c !== COMMA && c !== LF && c !== SPACE && c !== TAB && c !== CR) {
            state = UNQUOTED; // text after a closing quote: readCsv reports it
            continue;
          }
        }
        if (c === COMMA) state = FIELD_START;
        else if (c === LF) {
          state = FIELD_START;
          cut = i + 1;
          linesAtCut = lines;
          if (first) {
            this.lines = lines;
            this.state = state;
            return { cut, linesAtCut };
          }
        } else if (state === FIELD_START && c === QUOTE) state = QUOTED;
        else if (state === FIELD_START && c !== CR) state = UNQUOTED;
      }
    }
    this.state = state;
    this.lines = lines;
    return { cut, linesAtCut };
  }
}

function isBlank(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (c !== SPACE && c !== TAB && c !== CR && c !== LF) return false;
  }
  return true;
}

/** Line (1-based, relative to `buf`) of a blank line after the last non-blank byte, if any. */
function trailingBlankLine(buf: Buffer): number | undefined {
  let last = buf.length - 1;
  while (last >= 0 && (buf[last] === SPACE || buf[last] === TAB || buf[last] === CR || buf[last] === LF)) last--;
  let newlines = 0;
  for (let i = last + 1; i < buf.length; i++) if (buf[i] === LF) newlines++;
  if (newlines < 2) return undefined;
  let line = 1;
  for (let i = 0; i <= last; i++) if (buf[i] === LF) line++;
  return line + 1;
}

function toBuffer(raw: Buffer | Uint8Array | string): Buffer {
  if (typeof raw === 'string') return Buffer.from(raw, 'utf8');
  return Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
}

/**
 * Yields the file's data rows in batches: each a DatasetTable whose `firstRow` is its first row's
 * index in the file and whose `totalRows` counts the rows read so far. Header, column count,
 * cell and label checks are readCsv's, with the file's own line numbers.
 */
export async function* csvBatches(
  source: AsyncIterable<Buffer | Uint8Array | string>,
  options: CsvStreamOptions = {},
): AsyncGenerator<DatasetTable> {
  const batchBytes = options.batchBytes ?? 8 * 1024 * 1024;
  const readOptions: CsvReadOptions = {
    featureColumns: options.featureColumns,
    labelColumn: options.labelColumn,
    idColumn: options.idColumn,
    cellTypes: options.cellTypes,
    defaultCellType: options.defaultCellType,
    withCategoryText: options.withCategoryText,
  };
  const scanner = new RecordBoundaryScanner();
  let header: Buffer | undefined; // the header record with its line feed
  let headerLines = 0;
  let pending: Buffer = Buffer.alloc(0);
  let scanned = 0; // bytes of `pending` the scanner has seen
  let pendingStartLine = 1; // file line of pending's first byte
  let rows = 0;
  let blankLine: number | undefined; // a blank line at the end of the previous batch
  let sawBytes = false;

  const parse = (body: Buffer, startLine: number): DatasetTable | undefined => {
    if (isBlank(body)) {
      blankLine ??= startLine;
      return undefined;
    }
    if (blankLine !== undefined) {
      throw new DatasetFormatError(`line ${blankLine}: blank line between data rows; remove it`, blankLine);
    }
    const table = readCsv(header!, { ...readOptions, body, firstDataLine: startLine });
    const trailing = trailingBlankLine(body);
    if (trailing !== undefined) blankLine = startLine + trailing - 1;
    table.firstRow = rows;
    rows += table.features.rows;
    table.totalRows = rows;
    return table;
  };

  // Chunks that arrived since the last batch, joined once a batch's worth is there: joining on
  // every arrival would copy a batch hundreds of times over (network streams come in 16-64 KiB pieces).
  const arrived: Buffer[] = [];
  let arrivedBytes = 0;
  const joinArrived = () => {
    if (arrived.length === 0) return;
    pending = pending.length === 0 && arrived.length === 1 ? arrived[0] : Buffer.concat([pending, ...arrived]);
    arrived.length = 0;
    arrivedBytes = 0;
  };

  for await (const raw of source) {
    const chunk = toBuffer(raw);
    if (chunk.length === 0) continue;
    sawBytes = true;
    arrived.push(chunk);
    arrivedBytes += chunk.length;
    if (header && pending.length + arrivedBytes < batchBytes) continue;
    joinArrived();
    if (!header) {
      const { cut, linesAtCut } = scanner.scan(pending, scanned, true);
      scanned = pending.length;
      if (cut === -1) continue;
      header = Buffer.from(pending.subarray(0, cut));
      headerLines = linesAtCut;
      readCsv(header, { ...readOptions, allowNoRows: true }); // header errors first, naming line 1
      pending = pending.subarray(cut);
      pendingStartLine = headerLines + 1;
      scanned = 0;
    }
    if (pending.length < batchBytes) continue;
    const { cut, linesAtCut } = scanner.scan(pending, scanned);
    scanned = pending.length;
    if (cut === -1) continue;
    const body = pending.subarray(0, cut);
    const startLine = pendingStartLine;
    pending = Buffer.from(pending.subarray(cut));
    scanned -= cut;
    pendingStartLine = linesAtCut + 1;
    const table = parse(body, startLine);
    if (table) yield table;
  }

  joinArrived();
  if (!sawBytes) throw new DatasetFormatError('empty file: no header line');
  if (!header) {
    readCsv(pending, readOptions); // a header without a line feed: readCsv names the problem
    throw new DatasetFormatError('empty file: header but no data rows');
  }
  if (pending.length > 0) {
    const table = parse(pending, pendingStartLine);
    if (table) yield table;
  }
  if (rows === 0) throw new DatasetFormatError('empty file: header but no data rows');
}
