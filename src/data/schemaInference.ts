/**
 * A dataset's column types, inferred from its first rows when it is registered.
 *
 * The sample is read by the format's own reader with every feature column as `category` and
 * the texts of the codes (so every format is sniffed the same way, as texts: a JSON number by
 * its text, a Parquet date by its ISO text); missing cells are missing whatever the type. Each
 * feature column's type, from its distinct non-missing sampled texts:
 *
 * - no value at all: `number` (an all-null column; a later text is an error naming its row);
 * - every text `true`/`false` (booleanCells.ts): `boolean`;
 * - every text a decimal or a boolean: `integer` when every number is whole, else `number`;
 * - mostly decimals with a few other texts — at most max(1, STRAY_SHARE of the sampled values) —
 *   a number column with stray text (a typo, "n/a", "0x10"), not a category: `number`, so the
 *   reader refuses the first stray cell naming its row and column, as it always has; so is a
 *   text other tools read as a number and Nomaly refuses (Infinity, NaN, 0x1F, 0b101:
 *   decimalText.ts). More non-decimal texts than that make a column of codes mixing digits and
 *   letters (postcodes, sizes like 8, 10, XL): judged as strings below;
 * - every text an ISO 8601 date or date-time (cellValues.ts): `timestamp`;
 * - otherwise a string column: `category` when its distinct texts are few — at most
 *   MAX_CATEGORIES and at most max(SMALL_CATEGORIES, CATEGORY_SHARE of its sampled values) —
 *   else `text`, which is excluded from the features (free text, ids, notes).
 *
 * The whole file is then read with those types in one pass: a later cell that contradicts a
 * number or timestamp type is refused by the reader, naming its row and column.
 */
import { BOOLEAN_CSV_TOKENS } from './booleanCells';
import { timestampMillis, type FeatureCellType } from './cellValues';
import { decimalValue, isRefusedNumeral } from './decimalText';
import type { DatasetTable } from './table';
import type { TableReadOptions } from './tableBuilder';

export type ColumnType = 'number' | 'integer' | 'boolean' | 'category' | 'timestamp' | 'text';

/** Rows the types are inferred from (the first batch may hold more; only these count). */
export const SAMPLE_ROWS = 10_000;
/** A string column with more distinct values than this in the sample is text. */
export const MAX_CATEGORIES = 1_000;
/** … and one with more than max(SMALL_CATEGORIES, CATEGORY_SHARE × its sampled values). */
export const SMALL_CATEGORIES = 20;
export const CATEGORY_SHARE = 0.05;
/** A column of decimals with at most max(1, this share of its sampled values) other texts is a number column with stray cells. */
export const STRAY_SHARE = 0.01;

/** Text read to infer the types from: about SAMPLE_ROWS rows of a typical CSV, for the formats read as a stream. */
export const SNIFF_BATCH_BYTES = 1024 * 1024;

/** How the sample is read: every feature as a category, with the texts of the codes. */
export const SNIFF_OPTIONS: TableReadOptions = { defaultCellType: 'category', withCategoryText: true };

const BOOLEAN_TEXTS = new Set(BOOLEAN_CSV_TOKENS);

/** The type of a column whose sampled non-missing values are `texts` (distinct text → count). */
export function inferColumnType(texts: ReadonlyMap<string, number>): ColumnType {
  if (texts.size === 0) return 'number';
  let booleans = 0;
  let numbers = 0;
  let fractions = false;
  let timestamps = 0;
  let refusedNumerals = 0;
  let nonDecimalValues = 0;
  let values = 0;
  for (const [text, count] of texts) {
    values += count;
    if (BOOLEAN_TEXTS.has(text)) booleans++;
    const v = decimalValue(text);
    if (Number.isFinite(v)) {
      numbers++;
      if (!Number.isInteger(v)) fractions = true;
    } else if (isRefusedNumeral(text)) refusedNumerals++;
    else {
      if (!BOOLEAN_TEXTS.has(text)) nonDecimalValues += count;
      if (timestampMillis(text) === timestampMillis(text)) timestamps++;
    }
  }
  if (booleans === texts.size) return 'boolean';
  if (booleans + numbers === texts.size) return fractions ? 'number' : 'integer';
  if ((numbers > 0 || refusedNumerals > 0) && nonDecimalValues <= Math.max(1, STRAY_SHARE * values)) return 'number';
  if (timestamps === texts.size) return 'timestamp';
  return texts.size <= MAX_CATEGORIES && texts.size <= Math.max(SMALL_CATEGORIES, CATEGORY_SHARE * values) ? 'category' : 'text';
}

/** The cell type a column of `type` is read with: text columns are read as categories too (for their profile), then excluded. */
export function readCellType(type: ColumnType): FeatureCellType {
  return type === 'category' || type === 'text' ? 'category' : type === 'timestamp' ? 'timestamp' : 'number';
}

/** Collects the sample's distinct texts per feature column, batch by batch, up to SAMPLE_ROWS rows. */
export class SchemaSniffer {
  private featureColumns: string[] = [];
  private texts: Array<Map<string, number>> = [];
  private rows = 0;

  /** Adds a batch read with SNIFF_OPTIONS; true once the sample is complete. */
  add(table: DatasetTable): boolean {
    if (this.rows === 0) {
      this.featureColumns = table.featureColumns;
      this.texts = table.featureColumns.map(() => new Map());
    }
    const { cols, data } = table.features;
    const rows = Math.min(table.features.rows, SAMPLE_ROWS - this.rows);
    const names = table.categoryText ?? new Map<number, string>();
    for (let c = 0; c < cols; c++) {
      const counts = new Map<number, number>();
      for (let r = 0, o = c; r < rows; r++, o += cols) {
        const code = data[o];
        if (code === code) counts.set(code, (counts.get(code) ?? 0) + 1);
      }
      const texts = this.texts[c];
      for (const [code, count] of counts) {
        const text = names.get(code) ?? String(code);
        texts.set(text, (texts.get(text) ?? 0) + count);
      }
    }
    this.rows += rows;
    return this.rows >= SAMPLE_ROWS;
  }

  /** Each feature column's inferred type. */
  result(): Record<string, ColumnType> {
    return Object.fromEntries(this.featureColumns.map((name, c) => [name, inferColumnType(this.texts[c])]));
  }
}

/** The inferred types of a dataset's feature columns, from the first batches of `batches` (read with SNIFF_OPTIONS); stops reading once the sample is complete. */
export async function sniffSchema(batches: AsyncIterable<DatasetTable>): Promise<Record<string, ColumnType>> {
  const sniffer = new SchemaSniffer();
  for await (const table of batches) if (sniffer.add(table)) break;
  return sniffer.result();
}

/** The read options of the one pass over the whole file with these types. */
export function schemaReadOptions(types: Readonly<Record<string, ColumnType>>): TableReadOptions {
  // fromEntries defines own properties: a column named __proto__ is a key like any other.
  const cellTypes: Record<string, FeatureCellType> = Object.fromEntries(
    Object.entries(types)
      .filter(([, type]) => readCellType(type) !== 'number')
      .map(([name, type]) => [name, readCellType(type)]),
  );
  return { cellTypes, withCategoryText: true };
}
