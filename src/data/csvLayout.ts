/**
 * Finds where a CSV's chunks start, in one streaming pass over its bytes: the byte offset of
 * every `rowsPerChunk`-th data row. A scoring worker then reads just its chunk by byte range
 * (plus the header) instead of downloading and parsing the whole file.
 *
 * Rows are counted as the CSV reader counts them: the first line is the header, blank lines
 * hold no row, and a newline inside a double-quoted field does not end a row (quote state is
 * tracked; RFC 4180's "" escape toggles it twice, so it needs no special case).
 */
export interface CsvLayout {
  /** Bytes of the header line, its newline included (and a BOM, if any). */
  headerEnd: number;
  dataRows: number;
  /** chunkStarts[i] is where chunk i's first row begins; the last entry is where the last row ends. */
  chunkStarts: number[];
  /**
   * The dataset's row index (src/data/csvIndex.ts), when the layout came from one: chunks check
   * the bytes they read against it.
   */
  index?: { key: string; sha256: string };
}

const LF = 10;
const QUOTE = 34;

function isBlank(byte: number): boolean {
  return byte === 32 || byte === 9 || byte === 13;
}

export class CsvLayoutScanner {
  private offset = 0; // absolute position of the next pushed byte
  private inQuotes = false;
  private lineStart = 0;
  private lineHasContent = false;
  private headerEnd = -1;
  private rows = 0;
  private lastRowEnd = 0;
  private readonly starts: number[] = [];

  constructor(private readonly rowsPerChunk: number) {
    if (!Number.isInteger(rowsPerChunk) || rowsPerChunk < 1) throw new RangeError(`rowsPerChunk must be a positive integer, got ${rowsPerChunk}`);
  }

  push(chunk: Uint8Array): void {
    const len = chunk.length;
    let i = 0;
    // The next quote at or after i (len when there is none): searched again only once i passes
    // it, so a chunk without quotes is searched for them once, not once per line.
    let nextQuote = -1;
    while (i < len) {
      if (nextQuote < i) {
        nextQuote = chunk.indexOf(QUOTE, i);
        if (nextQuote < 0) nextQuote = len;
      }
      if (this.inQuotes) {
        if (nextQuote === len) break;
        this.inQuotes = false;
        i = nextQuote + 1;
        continue;
      }
      const newline = chunk.indexOf(LF, i);
      const quote = nextQuote === len ? -1 : nextQuote;
      if (quote >= 0 && (newline < 0 || quote < newline)) {
        this.lineHasContent = true;
        this.inQuotes = true;
        i = quote + 1;
        continue;
      }
      const end = newline < 0 ? len : newline;
      for (let p = i; !this.lineHasContent && p < end; p++) if (!isBlank(chunk[p])) this.lineHasContent = true;
      if (newline < 0) break;
      this.endLine(this.offset + newline + 1);
      i = newline + 1;
    }
    this.offset += len;
  }

  finish(): CsvLayout {
    if (this.lineHasContent || this.inQuotes) this.endLine(this.offset); // a last line without a newline
    const headerEnd = this.headerEnd < 0 ? this.offset : this.headerEnd;
    return { headerEnd, dataRows: this.rows, chunkStarts: [...this.starts, this.rows > 0 ? this.lastRowEnd : headerEnd] };
  }

  private endLine(nextLineStart: number): void {
    if (this.headerEnd < 0) {
      this.headerEnd = nextLineStart;
    } else if (this.lineHasContent) {
      if (this.rows % this.rowsPerChunk === 0) this.starts.push(this.lineStart);
      this.rows++;
      this.lastRowEnd = nextLineStart;
    }
    this.lineStart = nextLineStart;
    this.lineHasContent = false;
  }
}
