/**
 * CSV dataset reader: bytes → typed arrays, in one pass, with errors a user can act on.
 *
 * The file is parsed byte by byte straight from the Buffer. Numeric cells go into a preallocated
 * row-major Float64Array without creating a string per cell (a fast exact decimal parse, with
 * `Number()` as the fallback for decimals too long for it). Numbers are plain decimals only
 * (see decimalText.ts); a feature cell holding a boolean (booleanCells.ts) becomes 1 or 0, one
 * holding a missing-value token (missingValues.ts) NaN: checks made only for cells that are not numbers. A column
 * read as a category (options.cellTypes) gets the hash code of its cell's bytes, a timestamp
 * column epoch milliseconds (cellValues.ts; the common ISO forms from the bytes, timestampBytes.ts).
 * Only header names, id cells, timestamps of the uncommon forms, the
 * first cell of each distinct category when its text is asked for, and cells that are in error
 * are turned into strings; the text must be UTF-8.
 *
 * Format: RFC 4180 — comma separated, `\n` or `\r\n` line endings, optional double-quoted fields
 * (`""` inside quotes is one quote; quoted fields may span lines), an optional UTF-8 byte order
 * mark, an optional trailing newline and blank trailing lines. The first line must be a header.
 */
import type { DatasetTable } from './table';
import { Matrix } from '../scoring/matrix';
import { DatasetFormatError } from './datasetError';
import { decimalValue, notANumberReason } from './decimalText';
import { assertUtf8 } from './utf8';
import { isMissingCsvCell } from './missingValues';
import { csvBooleanCell } from './booleanCells';
import { categoryCode, categoryCodeOfBytes, timestampMillis, type FeatureCellType } from './cellValues';
import { fastTimestampMillis } from './timestampBytes';
import { categoryTextOf, cellKinds, KIND_CATEGORY, KIND_NUMBER, NOT_A_TIMESTAMP } from './typedCells';

export { DatasetFormatError } from './datasetError';


export interface CsvReadOptions {
  /** Label column; default `label` if the file has such a column. Never a feature. */
  labelColumn?: string;
  /** Id column; default `id` if the file has such a column. Never a feature; cells may be any text. */
  idColumn?: string;
  /** Feature columns in the order wanted; default every column that is not the label or the id. */
  featureColumns?: string[];
  /**
   * Materialise only the data rows in [rowStart, rowEnd) (0-based data row indexes; default all).
   * Rows outside the window are still checked for their column count and counted in `totalRows`.
   */
  rowStart?: number;
  rowEnd?: number;
  /**
   * The file line number of the first data line (default 2, right after the header). A chunk
   * read by byte range is the header plus a slice from mid-file; this keeps its error
   * messages pointing at the line in the whole file.
   */
  firstDataLine?: number;
  /**
   * The data rows, when they are not in the input after its header: `input` then holds just the
   * header line. A chunk read by byte range parses its rows where they are, instead of copying
   * them behind a copy of the header.
   */
  body?: Buffer;
  /**
   * Where to parse the features (rows × feature columns; a bigger table outgrows it into a new
   * array): the table's matrix is then a view of it, valid until the caller reuses it. A chunk
   * scored block by block parses every block into one buffer, instead of allocating (and
   * collecting) a matrix per block.
   */
  into?: Float64Array;
  /** Accept a header without data rows (checks the header only); default false. */
  allowNoRows?: boolean;
  /**
   * How feature columns' cells become numbers (cellValues.ts): a column not named is `number`
   * (exactly the numeric path); `category` takes any non-missing text as its code, `timestamp`
   * an ISO 8601 text as epoch milliseconds. Names that are not feature columns are ignored.
   */
  cellTypes?: Readonly<Record<string, FeatureCellType>>;
  /** The cell type of feature columns `cellTypes` does not name (default `number`): a schema sniff reads every one as a category. */
  defaultCellType?: FeatureCellType;
  /** Also return `categoryText`: code → text of each distinct category value read (once per value, not per row). */
  withCategoryText?: boolean;
}

const LF = 10;
const CR = 13;
const TAB = 9;
const SPACE = 32;
const QUOTE = 34;
const COMMA = 44;
const PLUS = 43;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const LOWER_E = 101;
const UPPER_E = 69;

/** The columns that take the label and id roles when the options name none. */
export const DEFAULT_LABEL_COLUMN = 'label';
export const DEFAULT_ID_COLUMN = 'id';

export const ROLE_LABEL = -1;
export const ROLE_ID = -2;
export const ROLE_IGNORED = -3;

const HEADER_EXAMPLE = 'the first line must name the columns, e.g. f0,f1,label';

/** 10^0 … 10^22: every one is exactly representable as a double. */
const POW10 = new Float64Array(23);
for (let i = 0, p = 1; i < POW10.length; i++, p *= 10) POW10[i] = p;

/**
 * Scans one field at a time. Mutable fields instead of a returned object, so scanning allocates
 * nothing. After `next()`: the field's content is bytes [start, end) (inside the quotes for a
 * quoted field), `escaped` says it contains `""` pairs, `recordEnd` says it was the last field of
 * its record, and `pos`/`line` have moved past the field and its terminator.
 */
class FieldScanner {
  pos: number;
  line = 1;
  start = 0;
  end = 0;
  quoted = false;
  escaped = false;
  recordEnd = false;

  constructor(
    readonly buf: Buffer,
    readonly len: number,
    pos: number,
  ) {
    this.pos = pos;
  }

  /** Scans the next field; `columnName()` names it in error messages. */
  next(columnName: () => string): void {
    const buf = this.buf;
    const len = this.len;
    let p = this.pos;
    if (p < len && buf[p] === QUOTE) {
      const openLine = this.line;
      let escaped = false;
      p++;
      const start = p;
      for (;;) {
        if (p >= len) {
          throw new DatasetFormatError(
            `line ${openLine}, column "${columnName()}": a quoted field is never closed (a field that starts with " must end with "; write a quote inside it as "")`,
            openLine,
            columnName(),
          );
        }
        const c = buf[p];
        if (c === QUOTE) {
          if (p + 1 < len && buf[p + 1] === QUOTE) {
            escaped = true;
            p += 2;
            continue;
          }
          break;
        }
        if (c === LF) this.line++;
        p++;
      }
      this.start = start;
      this.end = p;
      this.quoted = true;
      this.escaped = escaped;
      p++; // past the closing quote
      // Tolerate spaces between the closing quote and the separator.
      while (p < len && (buf[p] === SPACE || buf[p] === TAB)) p++;
      if (p < len) {
        const c = buf[p];
        if (c !== COMMA && c !== LF && c !== CR) {
          throw new DatasetFormatError(
            `line ${this.line}, column "${columnName()}": unexpected text after the closing quote of a quoted field (write a quote inside a quoted field as "")`,
            this.line,
            columnName(),
          );
        }
      }
    } else {
      const start = p;
      while (p < len) {
        const c = buf[p];
        if (c === COMMA || c === LF || c === CR) break;
        p++;
      }
      this.start = start;
      this.end = p;
      this.quoted = false;
      this.escaped = false;
    }
    if (p >= len) {
      this.recordEnd = true;
    } else {
      const c = buf[p];
      p++;
      if (c === COMMA) {
        this.recordEnd = false;
      } else {
        this.recordEnd = true;
        if (c === CR && p < len && buf[p] === LF) p++;
        this.line++;
      }
    }
    this.pos = p;
  }

  /** The current field as a string (UTF-8, `""` unescaped). */
  text(): string {
    const s = this.buf.toString('utf8', this.start, this.end);
    return this.escaped ? s.replace(/""/g, '"') : s;
  }
}

/** What fastDecimal found: a value (written out), not a plain decimal, or a plain decimal too long or too large for it. */
const DECIMAL = 0;
const NOT_DECIMAL = 1;
const LONG_DECIMAL = 2;

/**
 * Exact parse of a plain decimal (`[+-]digits[.digits][(e|E)[+-]digits]`, spaces/tabs around it
 * allowed) with at most 15 significant digits and a decimal exponent within ±22: then the mantissa
 * and the power of ten are both exact doubles and one multiplication or division rounds correctly,
 * so the result is exactly what `Number(text)` gives. Writes it to out[at] and returns DECIMAL;
 * for anything else it returns NOT_DECIMAL, or LONG_DECIMAL for a plain decimal that was only too
 * long or too large for the fast path (so it is ASCII and not blank); the caller then falls back
 * to `Number()`. The value is written, not returned: a double returned from a call that is not
 * inlined is boxed, a heap object per cell for the collector to sweep.
 */
function fastDecimal(buf: Buffer, s: number, e: number, out: Float64Array, at: number): number {
  while (s < e && (buf[s] === SPACE || buf[s] === TAB)) s++;
  while (e > s && (buf[e - 1] === SPACE || buf[e - 1] === TAB)) e--;
  if (s === e) return NOT_DECIMAL;
  let p = s;
  let negative = false;
  let c = buf[p];
  if (c === MINUS) {
    negative = true;
    p++;
  } else if (c === PLUS) {
    p++;
  }
  let mantissa = 0;
  let significant = 0;
  let digits = 0;
  let exponent = 0;
  while (p < e) {
    const d = buf[p] - ZERO;
    if (d < 0 || d > 9) break;
    digits++;
    if (mantissa !== 0 || d !== 0) {
      if (++significant <= 15) mantissa = mantissa * 10 + d;
    }
    p++;
  }
  if (p < e && buf[p] === DOT) {
    p++;
    while (p < e) {
      const d = buf[p] - ZERO;
      if (d < 0 || d > 9) break;
      digits++;
      if (mantissa !== 0 || d !== 0) {
        if (++significant <= 15) mantissa = mantissa * 10 + d;
      }
      exponent--;
      p++;
    }
  }
  if (digits === 0) return NOT_DECIMAL;
  if (p < e) {
    c = buf[p];
    if (c !== LOWER_E && c !== UPPER_E) return NOT_DECIMAL;
    p++;
    let expNegative = false;
    if (p < e && (buf[p] === MINUS || buf[p] === PLUS)) {
      expNegative = buf[p] === MINUS;
      p++;
    }
    let exp = 0;
    let expDigits = 0;
    while (p < e) {
      const d = buf[p] - ZERO;
      if (d < 0 || d > 9) return NOT_DECIMAL;
      if (exp < 100000) exp = exp * 10 + d;
      expDigits++;
      p++;
    }
    if (expDigits === 0) return NOT_DECIMAL;
    exponent += expNegative ? -exp : exp;
  }
  if (significant > 15) return LONG_DECIMAL;
  let value: number;
  if (mantissa === 0) value = 0;
  else if (exponent === 0) value = mantissa;
  else if (exponent > 0 && exponent <= 22) value = mantissa * POW10[exponent];
  else if (exponent < 0 && exponent >= -22) value = mantissa / POW10[-exponent];
  else return LONG_DECIMAL;
  out[at] = negative ? -value : value;
  return DECIMAL;
}

/**
 * Writes the current field to out[at] when it is a finite decimal; false when it is not one
 * (empty, text, infinite, a hexadecimal/binary/octal numeral). A field with `""` in it holds a
 * quote, so it is never a number.
 */
function readNumberCell(sc: FieldScanner, out: Float64Array, at: number): boolean {
  if (sc.escaped) return false;
  const found = fastDecimal(sc.buf, sc.start, sc.end, out, at);
  if (found === DECIMAL) return true;
  if (found === NOT_DECIMAL) return false;
  // Most writers print doubles with 17 significant digits: Number() on a latin1 slice is
  // cheaper than a UTF-8 decode, and the same text for a plain (ASCII) decimal.
  const v = Number(sc.buf.toString('latin1', sc.start, sc.end));
  if (!Number.isFinite(v)) return false;
  out[at] = v;
  return true;
}

/**
 * A category or timestamp cell into out[at] (NaN when missing); false for a timestamp cell that
 * is not one. A category's code is hashed from the bytes where they lie; only a cell with `""`
 * in it, and the first cell of each distinct value when `texts` is asked for, becomes a string.
 */
function readTypedCell(sc: FieldScanner, kind: number, out: Float64Array, at: number, texts: Map<number, string> | undefined): boolean {
  const { buf, start, end } = sc;
  if (isMissingCsvCell(buf, start, end)) {
    out[at] = NaN;
    return true;
  }
  if (kind === KIND_CATEGORY) {
    const code = sc.escaped ? categoryCode(sc.text()) : categoryCodeOfBytes(buf, start, end);
    if (texts !== undefined && !texts.has(code)) texts.set(code, categoryTextOf(sc.text()));
    out[at] = code;
    return true;
  }
  let ms = sc.escaped ? NaN : fastTimestampMillis(buf, start, end);
  if (ms !== ms) ms = timestampMillis(sc.text());
  out[at] = ms;
  return ms === ms;
}

function timestampCellError(sc: FieldScanner, line: number, column: string): DatasetFormatError {
  return new DatasetFormatError(`line ${line}, column "${column}": ${shown(sc.text())} ${NOT_A_TIMESTAMP}`, line, column);
}

/** Where a label cell is parsed before it is checked to be 0 or 1. */
const LABEL_CELL = new Float64Array(1);

/** The column where a row with the wrong number of fields goes wrong: the first missing one, or the first extra one (#n). */
function countErrorColumn(header: string[], found: number): string {
  return found < header.length ? header[found] : `#${header.length + 1}`;
}

function shown(text: string): string {
  const t = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return JSON.stringify(t);
}

/** Why the current field is not a valid feature value. */
function featureCellError(sc: FieldScanner, line: number, column: string): DatasetFormatError {
  const text = sc.text();
  return new DatasetFormatError(`line ${line}, column "${column}": ${shown(text)} ${notANumberReason(text)}`, line, column);
}

function labelCellError(sc: FieldScanner, line: number, column: string): DatasetFormatError {
  const text = sc.text().trim();
  let found: string;
  if (text === '') found = 'an empty cell';
  else if (Number.isFinite(decimalValue(text))) found = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  else found = shown(text);
  return new DatasetFormatError(`line ${line}, column "${column}": label must be 0 or 1, found ${found}`, line, column);
}

function isBlankByte(c: number): boolean {
  return c === SPACE || c === TAB || c === CR || c === LF;
}

/** Is the line starting at `p` blank (only spaces, tabs, CR)? */
function lineIsBlank(buf: Buffer, len: number, p: number): boolean {
  while (p < len) {
    const c = buf[p];
    if (c === LF) return true;
    if (c !== SPACE && c !== TAB && c !== CR) return false;
    p++;
  }
  return true;
}

function restIsBlank(buf: Buffer, len: number, p: number): boolean {
  while (p < len) {
    if (!isBlankByte(buf[p])) return false;
    p++;
  }
  return true;
}

function listColumns(names: string[]): string {
  const max = 20;
  const listed = names.slice(0, max).join(', ');
  return names.length > max ? `${listed}, … (${names.length} columns)` : listed;
}

function checkWindow(rowStart: number, rowEnd: number | undefined): void {
  if (!Number.isInteger(rowStart) || rowStart < 0) {
    throw new RangeError(`rowStart must be an integer ≥ 0, got ${rowStart}`);
  }
  if (rowEnd !== undefined && (!Number.isInteger(rowEnd) || rowEnd < rowStart)) {
    throw new RangeError(`rowEnd must be an integer ≥ rowStart (${rowStart}), got ${rowEnd}`);
  }
}

/** Reads the header line; `sc` is left at the start of the first data line. */
function readHeader(sc: FieldScanner): string[] {
  const { buf, len } = sc;
  if (restIsBlank(buf, len, sc.pos)) {
    throw new DatasetFormatError('empty file: no header line');
  }
  if (lineIsBlank(buf, len, sc.pos)) {
    throw new DatasetFormatError(`line 1: the header line is empty (${HEADER_EXAMPLE})`, 1);
  }
  const header: string[] = [];
  const headerStart = sc.pos;
  do {
    sc.next(() => `#${header.length + 1}`);
    header.push(sc.quoted ? sc.text() : sc.text().trim());
  } while (!sc.recordEnd);
  // Names were decoded with replacement characters: refuse them before anyone sees them.
  assertUtf8(buf, 1, headerStart, sc.pos);

  if (header.every((name) => Number.isFinite(decimalValue(name)))) {
    throw new DatasetFormatError(
      `line 1: missing header (${HEADER_EXAMPLE}); the first line holds only numbers: ${header.slice(0, 5).join(',')}${header.length > 5 ? ',…' : ''}`,
      1,
    );
  }
  const seen = new Map<string, number>();
  header.forEach((name, i) => {
    if (name === '') {
      throw new DatasetFormatError(
        `line 1: column ${i + 1} of the header has an empty name (every column needs a name; ${HEADER_EXAMPLE})`,
        1,
      );
    }
    const first = seen.get(name);
    if (first !== undefined) {
      throw new DatasetFormatError(
        `line 1, column "${name}": duplicate column name "${name}" (columns ${first + 1} and ${i + 1}); column names must be unique`,
        1,
        name,
      );
    }
    seen.set(name, i);
  });
  return header;
}

/** Role of each column: ≥ 0 = position in featureColumns, else ROLE_LABEL / ROLE_ID / ROLE_IGNORED. */
export function resolveColumns(
  header: string[],
  options: CsvReadOptions,
): { roles: Int32Array; featureColumns: string[]; labelIndex: number; idIndex: number; kinds: Uint8Array | undefined } {
  const index = new Map(header.map((name, i) => [name, i] as const));
  const find = (name: string, what: string): number => {
    const i = index.get(name);
    if (i === undefined) {
      throw new DatasetFormatError(
        `${what} column "${name}" is not in the header (columns: ${listColumns(header)})`,
        1,
        name,
      );
    }
    return i;
  };
  const labelIndex =
    options.labelColumn !== undefined ? find(options.labelColumn, 'label') : (index.get(DEFAULT_LABEL_COLUMN) ?? -1);
  const idIndex = options.idColumn !== undefined ? find(options.idColumn, 'id') : (index.get(DEFAULT_ID_COLUMN) ?? -1);
  if (labelIndex >= 0 && labelIndex === idIndex) {
    throw new DatasetFormatError(
      `column "${header[labelIndex]}" cannot be both the label column and the id column`,
      1,
      header[labelIndex],
    );
  }

  const roles = new Int32Array(header.length).fill(ROLE_IGNORED);
  if (labelIndex >= 0) roles[labelIndex] = ROLE_LABEL;
  if (idIndex >= 0) roles[idIndex] = ROLE_ID;

  let featureColumns: string[];
  if (options.featureColumns !== undefined) {
    featureColumns = [...options.featureColumns];
    featureColumns.forEach((name, k) => {
      const i = index.get(name);
      if (i === undefined) {
        throw new DatasetFormatError(
          `feature column "${name}" is not in the header (columns: ${listColumns(header)})`,
          1,
          name,
        );
      }
      if (roles[i] === ROLE_LABEL || roles[i] === ROLE_ID) {
        const role = roles[i] === ROLE_LABEL ? 'label' : 'id';
        throw new DatasetFormatError(
          `column "${name}" is the ${role} column and cannot also be a feature column`,
          1,
          name,
        );
      }
      if (roles[i] >= 0) {
        throw new DatasetFormatError(`feature column "${name}" is listed twice in featureColumns`, 1, name);
      }
      roles[i] = k;
    });
  } else {
    featureColumns = [];
    header.forEach((name, i) => {
      if (roles[i] === ROLE_IGNORED) roles[i] = featureColumns.push(name) - 1;
    });
  }
  if (featureColumns.length === 0) {
    throw new DatasetFormatError(
      `no feature columns: the file needs at least one numeric column besides the label and id columns (columns: ${listColumns(header)})`,
      1,
    );
  }
  return { roles, featureColumns, labelIndex, idIndex, kinds: cellKinds(header, (c) => roles[c] >= 0, options.cellTypes, options.defaultCellType) };
}

/** Upper bound of the data records from `p` on (line feeds, plus an unterminated last line). */
function estimateRows(buf: Buffer, len: number, p: number): number {
  if (p >= len) return 0;
  let n = 0;
  // indexOf is a native byte search: a few times faster than a JS loop over every byte.
  for (let i = buf.indexOf(LF, p); i >= 0 && i < len; i = buf.indexOf(LF, i + 1)) n++;
  return buf[len - 1] === LF ? n : n + 1;
}

export function readCsv(input: Buffer | string, options: CsvReadOptions = {}): DatasetTable {
  let buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  let len = buf.length;
  const rowStart = options.rowStart ?? 0;
  const rowEnd = options.rowEnd ?? Infinity;
  checkWindow(rowStart, options.rowEnd);

  let pos = 0;
  if (len >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) pos = 3; // UTF-8 BOM
  let sc = new FieldScanner(buf, len, pos);

  const header = readHeader(sc);
  if (options.body) {
    buf = options.body;
    len = buf.length;
    sc = new FieldScanner(buf, len, 0);
    sc.line = 2;
  }
  if (options.firstDataLine !== undefined) sc.line = options.firstDataLine;
  assertUtf8(buf, sc.line, sc.pos, len);
  const ncols = header.length;
  const { roles, featureColumns, labelIndex, idIndex, kinds } = resolveColumns(header, options);
  const texts = kinds && options.withCategoryText ? new Map<number, string>() : undefined;
  const nf = featureColumns.length;
  const hasLabels = labelIndex >= 0;
  const hasIds = idIndex >= 0;

  const into = nf > 0 ? options.into : undefined;
  let capacity = into ? Math.floor(into.length / nf) : Math.max(0, Math.min(estimateRows(buf, len, sc.pos), rowEnd) - rowStart);
  let data = into ?? new Float64Array(capacity * nf);
  let labels = hasLabels ? new Uint8Array(capacity) : undefined;
  const ids: string[] | undefined = hasIds ? [] : undefined;

  let field = 0; // index of the field being scanned, for error messages
  const currentColumn = (): string => (field < ncols ? header[field] : `#${field + 1}`);

  let row = 0; // data rows seen
  let kept = 0; // data rows materialised
  while (sc.pos < len) {
    const c0 = buf[sc.pos];
    if (isBlankByte(c0) && lineIsBlank(buf, len, sc.pos)) {
      if (restIsBlank(buf, len, sc.pos)) break; // blank trailing lines
      throw new DatasetFormatError(
        `line ${sc.line}: blank line between data rows (expected ${ncols} columns); remove it`,
        sc.line,
      );
    }
    const recordLine = sc.line;
    field = 0;
    if (row >= rowStart && row < rowEnd) {
      if (kept === capacity) {
        capacity = Math.max(16, capacity * 2);
        const grown = new Float64Array(capacity * nf);
        grown.set(data);
        data = grown;
        if (labels) {
          const grownLabels = new Uint8Array(capacity);
          grownLabels.set(labels);
          labels = grownLabels;
        }
      }
      const offset = kept * nf;
      // A cell error is reported after the column count check: a missing or extra column
      // shifts every later cell and is the error worth reporting.
      let cellError: DatasetFormatError | undefined;
      do {
        const cellLine = sc.line;
        sc.next(currentColumn);
        if (field < ncols) {
          const role = roles[field];
          if (role >= 0) {
            if (kinds !== undefined && kinds[field] !== KIND_NUMBER) {
              if (!readTypedCell(sc, kinds[field], data, offset + role, texts)) cellError ??= timestampCellError(sc, cellLine, header[field]);
            } else if (!readNumberCell(sc, data, offset + role)) {
              if (isMissingCsvCell(buf, sc.start, sc.end)) data[offset + role] = NaN;
              else {
                const truth = csvBooleanCell(buf, sc.start, sc.end);
                if (truth >= 0) data[offset + role] = truth;
                else cellError ??= featureCellError(sc, cellLine, header[field]);
              }
            }
          } else if (role === ROLE_LABEL) {
            const v = readNumberCell(sc, LABEL_CELL, 0) ? LABEL_CELL[0] : NaN;
            if (v === 0 || v === 1) labels![kept] = v;
            else cellError ??= labelCellError(sc, cellLine, header[field]);
          } else if (role === ROLE_ID) {
            ids!.push(sc.text());
          }
        }
        field++;
      } while (!sc.recordEnd);
      if (field !== ncols) {
        throw new DatasetFormatError(`line ${recordLine}: expected ${ncols} columns, found ${field}`, recordLine, countErrorColumn(header, field));
      }
      if (cellError) throw cellError;
      kept++;
    } else {
      do {
        sc.next(currentColumn);
        field++;
      } while (!sc.recordEnd);
      if (field !== ncols) {
        throw new DatasetFormatError(`line ${recordLine}: expected ${ncols} columns, found ${field}`, recordLine, countErrorColumn(header, field));
      }
    }
    row++;
  }

  if (row === 0 && !options.allowNoRows) {
    throw new DatasetFormatError('empty file: header but no data rows');
  }

  if (data === into) data = data.subarray(0, kept * nf);
  else if (kept !== capacity) data = data.slice(0, kept * nf);
  if (labels && kept !== capacity) labels = labels.slice(0, kept);
  const table: DatasetTable = {
    header,
    featureColumns,
    features: new Matrix(kept, nf, data),
    totalRows: row,
    firstRow: rowStart,
  };
  if (labels) table.labels = labels;
  if (ids) table.ids = ids;
  if (texts) table.categoryText = texts;
  if (hasLabels) table.labelColumn = header[labelIndex];
  if (hasIds) table.idColumn = header[idIndex];
  return table;
}
