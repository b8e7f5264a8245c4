/**
 * What a reader does with a feature column whose cell type (cellValues.ts) is not `number`:
 * which columns those are, as small integers the parse loops test cheaply, and how a parsed
 * value (a JSON value, a Parquet value) becomes its one float64. The CSV reader has its own
 * byte-level version of the same rules (csv.ts).
 *
 * - category: any non-missing value; a number or boolean counts by its text (JSON 2139 is the
 *   category "2139"), a Parquet date by its ISO text. Nested values are refused.
 * - timestamp: an ISO 8601 text (timestampMillis) or a Parquet DATE/TIMESTAMP; anything else is
 *   refused naming row and column.
 * - missing (missingValues.ts): NaN, whatever the type.
 */
import { categoryCode, FEATURE_CELL_TYPES, timestampMillis, type FeatureCellType } from './cellValues';
import { DatasetFormatError } from './datasetError';

export const KIND_NUMBER = 0;
export const KIND_CATEGORY = 1;
export const KIND_TIMESTAMP = 2;

const KINDS: Record<FeatureCellType, number> = { number: KIND_NUMBER, category: KIND_CATEGORY, timestamp: KIND_TIMESTAMP };

/** The cell types the caller asked for, checked: every value one of FEATURE_CELL_TYPES. */
export function checkCellTypes(cellTypes: Readonly<Record<string, unknown>> | undefined): void {
  if (cellTypes === undefined) return;
  if (typeof cellTypes !== 'object' || cellTypes === null || Array.isArray(cellTypes)) throw new DatasetFormatError('cellTypes must be an object of column name → cell type');
  for (const [name, type] of Object.entries(cellTypes)) {
    if (!(FEATURE_CELL_TYPES as readonly unknown[]).includes(type)) {
      throw new DatasetFormatError(`cellTypes, column "${name}": ${JSON.stringify(type)} is not a cell type (${FEATURE_CELL_TYPES.join(', ')})`, undefined, name);
    }
  }
}

/**
 * Each header column's kind (KIND_*), or undefined when every feature is a number: the readers
 * then run exactly today's numeric path. Names in `cellTypes` that are not feature columns are
 * ignored (a chunk reads only some of a dataset's features).
 */
export function cellKinds(
  header: readonly string[],
  isFeature: (column: number) => boolean,
  cellTypes: Readonly<Record<string, FeatureCellType>> = {},
  defaultType: FeatureCellType = 'number',
): Uint8Array | undefined {
  checkCellTypes(cellTypes);
  checkCellTypes({ defaultCellType: defaultType });
  let kinds: Uint8Array | undefined;
  header.forEach((name, c) => {
    const type = Object.hasOwn(cellTypes, name) ? cellTypes[name] : defaultType;
    if (type !== 'number' && isFeature(c)) (kinds ??= new Uint8Array(header.length))[c] = KINDS[type];
  });
  return kinds;
}

/** A category's text as its code sees it: spaces and tabs around it removed (cellValues.ts). */
export function categoryTextOf(text: string): string {
  return text.replace(/^[ \t]+|[ \t]+$/g, '');
}

/** The text a parsed non-missing scalar stands for as a category, or undefined for a nested value. */
function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  return undefined;
}

/**
 * The code of a parsed value in a category column, NaN for a missing one, or undefined when it
 * cannot be a category (a nested value). `texts` collects code → text once per distinct value.
 */
export function categoryValue(value: unknown, texts?: Map<number, string>): number | undefined {
  if (value === null || value === undefined) return NaN;
  const text = scalarText(value);
  if (text === undefined) return undefined;
  const code = categoryCode(text);
  if (texts && !texts.has(code)) texts.set(code, categoryTextOf(text));
  return code;
}

/** Milliseconds of a parsed value in a timestamp column, NaN for a missing one, or undefined when it is not a timestamp. */
export function timestampValue(value: unknown): number | undefined {
  if (value === null || value === undefined) return NaN;
  if (value instanceof Date) {
    const ms = value.getTime();
    return Number.isFinite(ms) ? ms : undefined;
  }
  if (typeof value !== 'string') return undefined;
  const ms = timestampMillis(value);
  return ms === ms ? ms : undefined;
}

/** Why a cell is not a timestamp, after its shown text. */
export const NOT_A_TIMESTAMP = 'is not a timestamp (an ISO 8601 date or date-time, e.g. 2026-03-01 or 2026-03-01T12:30:00Z)';
