/**
 * What a missing feature value is, in every format; the readers put NaN in the Matrix for it.
 *
 * - CSV: a cell that is, after trimming spaces and tabs, one of MISSING_CSV_TOKENS (quoted or
 *   not). Any other text that is not a decimal stays an error naming line and column.
 * - JSON lines: `null`, or a feature key absent from an object (the first object names the
 *   columns, so it must have every key: write `null` there). A string is never missing.
 * - Parquet: a null.
 *
 * Only feature cells may be missing: the label and id columns keep their own rules.
 */

/** The CSV cell texts read as a missing value (case as listed: `Null` or `NONE` are errors). */
export const MISSING_CSV_TOKENS: readonly string[] = ['', 'NA', 'N/A', 'null', 'NULL', 'NaN', 'nan'];

const TOKENS = new Set(MISSING_CSV_TOKENS);
/** Longest token: a longer cell is never looked up (no string is made for a long bad cell). */
const LONGEST_TOKEN = Math.max(...MISSING_CSV_TOKENS.map((t) => t.length));

function isSpaceOrTab(byte: number): boolean {
  return byte === 32 || byte === 9;
}

/**
 * Is bytes [start, end) of a CSV buffer a missing-value token (spaces and tabs around it
 * allowed)? Called only for a cell that is not a number, so the parse of numbers pays nothing.
 */
export function isMissingCsvCell(buf: Uint8Array, start: number, end: number): boolean {
  while (start < end && isSpaceOrTab(buf[start])) start++;
  while (end > start && isSpaceOrTab(buf[end - 1])) end--;
  if (end - start > LONGEST_TOKEN) return false;
  let text = '';
  for (let i = start; i < end; i++) text += String.fromCharCode(buf[i]);
  return TOKENS.has(text);
}

/** Is a parsed value (JSON lines, Parquet) a missing feature value: null or absent? */
export function isMissingValue(value: unknown): boolean {
  return value === null || value === undefined;
}
