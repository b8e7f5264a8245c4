/**
 * JSON lines datasets: one JSON object per line, every object with the same keys (the first
 * object's keys, in its order, are the header), except that a later object may leave out a
 * feature key: that value is missing, like `null` (missingValues.ts). Feature values are JSON
 * numbers (decimal strings are accepted) or booleans (1/0); the label is 0/1 (or true/false); the id may be any scalar.
 * Blank lines are skipped; a UTF-8 byte order mark is allowed; the text must be UTF-8.
 */
import type { DatasetTable } from './table';
import { DatasetFormatError } from './datasetError';
import { checkHeader, TableBuilder, type TableReadOptions } from './tableBuilder';
import { assertUtf8 } from './utf8';

const LF = 10;

/** The top-level keys of a JSON object text, in order and with repeats (JSON.parse keeps only the last). */
export function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1) {
        let k = j + 1;
        while (k < n && /\s/.test(text[k])) k++;
        if (text[k] === ':') keys.push(JSON.parse(text.slice(i, j + 1)) as string);
      }
      i = j + 1;
      continue;
    }
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    i++;
  }
  return keys;
}

/** Parses JSON lines one line at a time into batches of rows. */
export class JsonLinesParser {
  private builder?: TableBuilder;
  private header?: string[];
  private headerSet?: Set<string>;
  private line = 0;
  private rows = 0;
  private batchStart = 0;

  constructor(private readonly options: TableReadOptions = {}) {}

  get totalRows(): number {
    return this.rows;
  }

  /** Lines fed so far (blank ones included): the next line is line linesRead + 1. */
  get linesRead(): number {
    return this.line;
  }

  /** Feeds one line (without its line feed). */
  pushLine(raw: string): void {
    this.line++;
    let text = raw;
    if (this.line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new DatasetFormatError(`line ${this.line}: not valid JSON (${(err as Error).message}); every line must be one JSON object`, this.line);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new DatasetFormatError(`line ${this.line}: expected a JSON object like {"f0": 1.5, "f1": 2}, found ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`, this.line);
    }
    const row = value as Record<string, unknown>;
    if (!this.header) {
      const keys = topLevelKeys(text);
      checkHeader(keys, `line ${this.line}`);
      // A chunk read from mid-file starts at any row: a feature it is asked for and its first object lacks is missing there.
      const absent = (this.options.featureColumns ?? []).filter((name) => !keys.includes(name));
      this.header = [...keys, ...absent];
      this.headerSet = new Set(this.header);
      this.builder = new TableBuilder(this.header, this.options);
    }
    const keys = Object.keys(row);
    const complete = keys.length === this.header.length && keys.every((k) => this.headerSet!.has(k));
    if (!complete && !this.onlyFeaturesAbsent(row, keys)) {
      const all = topLevelKeys(text);
      const dup = all.find((k, i) => all.indexOf(k) !== i);
      if (dup !== undefined) {
        throw new DatasetFormatError(`line ${this.line}, column "${dup}": duplicate column name "${dup}"; column names must be unique`, this.line, dup);
      }
      const missing = this.header.filter((k) => !(k in row) && !this.builder!.isFeature(k));
      const extra = keys.filter((k) => !this.headerSet!.has(k));
      const parts = [];
      if (missing.length) parts.push(`missing ${missing.map((k) => `"${k}"`).join(', ')}`);
      if (extra.length) parts.push(`unexpected ${extra.map((k) => `"${k}"`).join(', ')}`);
      throw new DatasetFormatError(
        `line ${this.line}: expected ${this.header.length} columns (the keys of the first object), found ${keys.length}: ${parts.join('; ')}`,
        this.line,
      );
    }
    this.builder!.add(this.header.map((k) => row[k]), `line ${this.line}`);
    this.rows++;
  }

  /** Are the keys of `row` all columns, and those it lacks feature columns (missing values)? */
  private onlyFeaturesAbsent(row: Record<string, unknown>, keys: string[]): boolean {
    return keys.every((k) => this.headerSet!.has(k)) && this.header!.every((k) => k in row || this.builder!.isFeature(k));
  }

  /** The rows since the last take, as a table (undefined when there are none). */
  take(): DatasetTable | undefined {
    if (!this.builder || this.builder.rowCount === 0) return undefined;
    const table = this.builder.build(this.batchStart, this.rows);
    this.batchStart = this.rows;
    this.builder = new TableBuilder(this.header!, this.options);
    return table;
  }

  finish(): void {
    if (this.line === 0 || !this.header) {
      throw new DatasetFormatError(this.line === 0 ? 'empty file: no lines' : 'empty file: no JSON objects, only blank lines');
    }
  }
}

export function readJsonLines(input: Buffer | string, options: TableReadOptions = {}): DatasetTable {
  if (typeof input !== 'string') assertUtf8(input, 1);
  const text = typeof input === 'string' ? input : input.toString('utf8');
  const parser = new JsonLinesParser(options);
  if (text.length > 0) {
    let start = 0;
    for (;;) {
      const end = text.indexOf('\n', start);
      parser.pushLine(text.slice(start, end === -1 ? text.length : end).replace(/\r$/, ''));
      if (end === -1) break;
      start = end + 1;
    }
  }
  parser.finish();
  return parser.take()!;
}

/** Streams JSON lines in batches of about `batchRows` rows. */
export async function* jsonLinesBatches(
  source: AsyncIterable<Buffer | Uint8Array | string>,
  options: TableReadOptions & { batchRows?: number } = {},
): AsyncGenerator<DatasetTable> {
  const batchRows = options.batchRows ?? 50_000;
  const parser = new JsonLinesParser(options);
  let rest: Buffer = Buffer.alloc(0);
  for await (const raw of source) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    let buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    for (let i = buf.indexOf(LF); i !== -1; i = buf.indexOf(LF, start)) {
      assertUtf8(buf, parser.linesRead + 1, start, i);
      parser.pushLine(buf.toString('utf8', start, i).replace(/\r$/, ''));
      start = i + 1;
      if (parser.totalRows % batchRows === 0 && parser.totalRows > 0) {
        const table = parser.take();
        if (table) yield table;
      }
    }
    rest = Buffer.from(buf.subarray(start));
    buf = rest;
  }
  if (rest.length) {
    assertUtf8(rest, parser.linesRead + 1);
    parser.pushLine(rest.toString('utf8').replace(/\r$/, ''));
  }
  parser.finish();
  const table = parser.take();
  if (table) yield table;
}
