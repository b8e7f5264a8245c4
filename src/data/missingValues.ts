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

const TOKEN_BYTES: readonly Uint8Array[] = MISSING_CSV_TOKENS.map((t) => Buffer.from(t, 'latin1'));
/** Longest token: a longer cell is never compared. */
const LONGEST_TOKEN = Math.max(...MISSING_CSV_TOKENS.map((t) => t.length));

function isSpaceOrTab(byte: number): boolean {
  return byte === 32 || byte === 9;
}

/** Does bytes [start, end) equal `token`? */
function bytesEqual(buf: Uint8Array, start: number, end: number, token: Uint8Array): boolean {
  if (end - start !== token.length) return false;
  for (let i = 0; i < token.length; i++) if (buf[start + i] !== token[i]) return false;
  return true;
}

/**
 * Is bytes [start, end) of a CSV buffer a missing-value token (spaces and tabs around it
 * allowed)? Called only for a cell that is not a number, so the parse of numbers pays nothing;
 * compared byte by byte, so a missing cell makes no string.
 */
export function isMissingCsvCell(buf: Uint8Array, start: number, end: number): boolean {
  while (start < end && isSpaceOrTab(buf[start])) start++;
  while (end > start && isSpaceOrTab(buf[end - 1])) end--;
  if (end - start > LONGEST_TOKEN) return false;
  for (const token of TOKEN_BYTES) if (bytesEqual(buf, start, end, token)) return true;
  return false;
}

/** Is a parsed value (JSON lines, Parquet) a missing feature value: null or absent? */
export function isMissingValue(value: unknown): boolean {
  return value === null || value === undefined;
}
