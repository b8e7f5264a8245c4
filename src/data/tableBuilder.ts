/**
 * Builds a DatasetTable from rows of already-parsed values (JSON lines, Parquet), with the same
 * column roles, checks and error wording as the CSV reader, so every format yields one shape.
 */
import { Matrix } from '../scoring/matrix';
import { resolveColumns, ROLE_ID, ROLE_LABEL, type CsvReadOptions } from './csv';
import type { DatasetTable } from './table';
import { DatasetFormatError } from './datasetError';
import { decimalValue, notANumberReason } from './decimalText';
import { isMissingValue } from './missingValues';
import type { FeatureCellType } from './cellValues';
import { categoryValue, KIND_CATEGORY, KIND_NUMBER, NOT_A_TIMESTAMP, timestampValue } from './typedCells';

export type TableReadOptions = Pick<CsvReadOptions, 'labelColumn' | 'idColumn' | 'featureColumns' | 'cellTypes' | 'defaultCellType' | 'withCategoryText'>;

/** Checks a header (names from the file) the way the CSV reader does: non-empty, unique names. */
export function checkHeader(header: string[], where: string): void {
  if (header.length === 0) throw new DatasetFormatError(`${where}: no columns`);
  const seen = new Map<string, number>();
  header.forEach((name, i) => {
    if (name.trim() === '') throw new DatasetFormatError(`${where}: column ${i + 1} has an empty name (every column needs a name)`);
    const first = seen.get(name);
    if (first !== undefined) {
      throw new DatasetFormatError(
        `${where}, column "${name}": duplicate column name "${name}" (columns ${first + 1} and ${i + 1}); column names must be unique`,
        undefined,
        name,
      );
    }
    seen.set(name, i);
  });
}

function shown(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  else if (value instanceof Date) text = `the date ${value.toISOString()}`;
  else if (typeof value === 'object' && value !== null) text = 'a nested value';
  else text = String(value);
  return text;
}

/** A finite number from a cell value, or NaN. Numbers, bigints, booleans (1/0, booleanCells.ts) and decimal strings count. */
function cellNumber(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) ? value : NaN;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string') {
    const v = decimalValue(value);
    return Number.isFinite(v) ? v : NaN;
  }
  return NaN;
}

/** An id cell as text: what is stored with each anomaly. */
function idText(value: unknown): string {
  return value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
}

const NO_COLUMNS: ReadonlySet<string> = new Set();

export class TableBuilder {
  readonly header: string[];
  readonly featureColumns: string[];
  private readonly roles: Int32Array;
  private readonly labelIndex: number;
  private readonly idIndex: number;
  /** Each column's cell kind (typedCells.ts), undefined when every feature is a number. */
  private readonly kinds: Uint8Array | undefined;
  private readonly texts: Map<number, string> | undefined;
  private data: Float64Array;
  private labels?: Uint8Array;
  private ids?: string[];
  private rows = 0;

  constructor(header: string[], options: TableReadOptions, capacity = 1024) {
    this.header = header;
    const resolved = resolveColumns(header, options);
    this.roles = resolved.roles;
    this.featureColumns = resolved.featureColumns;
    this.labelIndex = resolved.labelIndex;
    this.idIndex = resolved.idIndex;
    this.kinds = resolved.kinds;
    if (this.kinds && options.withCategoryText) this.texts = new Map();
    this.data = new Float64Array(Math.max(1, capacity) * this.featureColumns.length);
    if (this.labelIndex >= 0) this.labels = new Uint8Array(Math.max(1, capacity));
    if (this.idIndex >= 0) this.ids = [];
  }

  /**
   * The columns whose cells all become numbers (features and the label) and each one's cell
   * type: a columnar reader may decode them itself into numbers (codes, milliseconds) and hand
   * them to addColumns as `converted`.
   */
  get numericColumns(): ReadonlyMap<string, FeatureCellType> {
    const out = new Map<string, FeatureCellType>();
    this.header.forEach((name, c) => {
      if (this.roles[c] >= 0 || this.roles[c] === ROLE_LABEL) out.set(name, this.kindOf(c) === KIND_CATEGORY ? 'category' : this.kindOf(c) === KIND_NUMBER ? 'number' : 'timestamp');
    });
    return out;
  }

  /** Does the caller want the texts of the category codes (withCategoryText)? */
  get wantsCategoryText(): boolean {
    return this.texts !== undefined;
  }

  /** The code → text of the category values a columnar reader decoded itself. */
  addCategoryText(texts: ReadonlyMap<number, string>): void {
    if (this.texts) for (const [code, text] of texts) if (!this.texts.has(code)) this.texts.set(code, text);
  }

  private kindOf(c: number): number {
    return this.kinds === undefined || this.roles[c] < 0 ? KIND_NUMBER : this.kinds[c];
  }

  /** Is column `name` one of the features (whose values may be missing)? */
  isFeature(name: string): boolean {
    const c = this.header.indexOf(name);
    return c >= 0 && this.roles[c] >= 0;
  }

  get rowCount(): number {
    return this.rows;
  }

  /**
   * Adds one row of values in header order; `where` names the row in errors ("line 7", "row 7").
   * A missing feature value (null or undefined, see missingValues.ts) becomes NaN.
   */
  add(values: ArrayLike<unknown>, where: string): void {
    const nf = this.featureColumns.length;
    this.reserve(this.rows + 1);
    const offset = this.rows * nf;
    for (let c = 0; c < this.header.length; c++) {
      const role = this.roles[c];
      const value = values[c];
      if (role >= 0) {
        this.data[offset + role] = this.kinds !== undefined && this.kinds[c] !== KIND_NUMBER ? this.typedCell(value, where, c) : this.numberCell(value, where, c);
      } else if (role === ROLE_LABEL) {
        this.labels![this.rows] = this.label(value, where, c);
      } else if (role === ROLE_ID) {
        this.ids!.push(idText(value));
      }
    }
    this.rows++;
  }

  private numberCell(value: unknown, where: string, c: number): number {
    const v = cellNumber(value);
    if (v !== v && !isMissingValue(value)) throw this.notANumber(value, where, c);
    return v;
  }

  /** A category or timestamp cell's number (typedCells.ts), or the error naming row and column. */
  private typedCell(value: unknown, where: string, c: number): number {
    const category = this.kinds![c] === KIND_CATEGORY;
    const v = category ? categoryValue(value, this.texts) : timestampValue(value);
    if (v !== undefined) return v;
    const why = category ? 'is not a category (a nested value)' : NOT_A_TIMESTAMP;
    return this.fail(`${where}, column "${this.header[c]}": ${shown(value)} ${why}`, c);
  }

  private fail(message: string, c: number): never {
    throw new DatasetFormatError(message, undefined, this.header[c]);
  }

  /**
   * Adds `count` rows given column by column (what a columnar format decodes), each column's
   * values in header order of the map: the same checks and wording as add(), with no array per row.
   * Columns in `converted` were decoded into their numbers already (category codes, timestamp
   * milliseconds, plain numbers; null where missing).
   */
  addColumns(columns: ReadonlyMap<string, ArrayLike<unknown>>, count: number, where: (row: number) => string, converted: ReadonlySet<string> = NO_COLUMNS): void {
    const nf = this.featureColumns.length;
    this.reserve(this.rows + count);
    for (let c = 0; c < this.header.length; c++) {
      const role = this.roles[c];
      if (role < 0 && role !== ROLE_LABEL && role !== ROLE_ID) continue;
      const values = columns.get(this.header[c]);
      if (!values || values.length < count) throw new DatasetFormatError(`column "${this.header[c]}" has ${values?.length ?? 0} values, expected ${count}`, undefined, this.header[c]);
      const kind = this.kindOf(c);
      if (role >= 0 && kind !== KIND_NUMBER && converted.has(this.header[c])) {
        for (let i = 0, at = this.rows * nf + role; i < count; i++, at += nf) {
          const value = values[i];
          this.data[at] = typeof value === 'number' ? value : NaN;
        }
      } else if (role >= 0 && kind !== KIND_NUMBER) {
        for (let i = 0, at = this.rows * nf + role; i < count; i++, at += nf) this.data[at] = this.typedCell(values[i], where(i), c);
      } else if (role >= 0 && values instanceof Float64Array) {
        // A decoded numeric column: the only check left is finiteness (NaN, ±Infinity are refused as ever).
        for (let i = 0, at = this.rows * nf + role; i < count; i++, at += nf) {
          const v = values[i];
          if (v - v !== 0) throw this.notANumber(v, where(i), c);
          this.data[at] = v;
        }
      } else if (role >= 0) {
        for (let i = 0, at = this.rows * nf + role; i < count; i++, at += nf) {
          const value = values[i];
          const v = typeof value === 'number' && Number.isFinite(value) ? value : cellNumber(value);
          if (v !== v && !isMissingValue(value)) throw this.notANumber(value, where(i), c);
          this.data[at] = v;
        }
      } else if (role === ROLE_LABEL) {
        for (let i = 0; i < count; i++) this.labels![this.rows + i] = this.label(values[i], where(i), c);
      } else {
        for (let i = 0; i < count; i++) this.ids!.push(idText(values[i]));
      }
    }
    this.rows += count;
  }

  /** Room for `rows` rows (features and labels), doubling as add() does. */
  private reserve(rows: number): void {
    const nf = this.featureColumns.length;
    if (rows * nf <= this.data.length && (!this.labels || rows <= this.labels.length)) return;
    let capacity = Math.max(1, this.labels?.length ?? this.data.length / Math.max(nf, 1));
    while (capacity < rows) capacity *= 2;
    const grown = new Float64Array(Math.max(capacity * nf, 1));
    grown.set(this.data);
    this.data = grown;
    if (this.labels) {
      const grownLabels = new Uint8Array(capacity);
      grownLabels.set(this.labels);
      this.labels = grownLabels;
    }
  }

  private notANumber(value: unknown, where: string, c: number): DatasetFormatError {
    const why =
      typeof value === 'string' && value.trim() === ''
        ? 'the cell is an empty text (a missing value is null)'
        : typeof value === 'string'
          ? `${shown(value)} ${notANumberReason(value)}`
          : `${shown(value)} is not a ${typeof value === 'number' ? 'finite ' : ''}number`;
    return new DatasetFormatError(`${where}, column "${this.header[c]}": ${why}`, undefined, this.header[c]);
  }

  private label(value: unknown, where: string, c: number): number {
    const v = typeof value === 'boolean' ? Number(value) : cellNumber(value);
    if (v !== 0 && v !== 1) {
      const found = value === null || value === undefined || value === '' ? 'an empty cell' : shown(value);
      throw new DatasetFormatError(`${where}, column "${this.header[c]}": label must be 0 or 1, found ${found}`, undefined, this.header[c]);
    }
    return v;
  }

  /** The rows added so far as a table; `firstRow` is the index of its first row in the file. */
  build(firstRow = 0, totalRows = firstRow + this.rows): DatasetTable {
    const nf = this.featureColumns.length;
    // Filled to capacity (a columnar reader sizes it to its rows), the matrix is handed over, not
    // copied: a row added later does not fit, so it grows into a new array, never into this one.
    const size = this.rows * nf;
    const data = size === this.data.length ? this.data : this.data.slice(0, size);
    const table: DatasetTable = {
      header: this.header,
      featureColumns: this.featureColumns,
      features: new Matrix(this.rows, nf, data),
      totalRows,
      firstRow,
    };
    if (this.labels) table.labels = this.labels.slice(0, this.rows);
    if (this.ids) table.ids = this.ids;
    if (this.texts) table.categoryText = this.texts;
    if (this.labelIndex >= 0) table.labelColumn = this.header[this.labelIndex];
    if (this.idIndex >= 0) table.idColumn = this.header[this.idIndex];
    return table;
  }
}
