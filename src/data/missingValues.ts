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

import { csvTokenBytes, matchCsvToken } from './csvTokens';

/** The CSV cell texts read as a missing value (case as listed: `Null` or `NONE` are errors). */
export const MISSING_CSV_TOKENS: readonly string[] = ['', 'NA', 'N/A', 'null', 'NULL', 'NaN', 'nan'];

const TOKEN_BYTES = csvTokenBytes(MISSING_CSV_TOKENS);

/**
 * Is bytes [start, end) of a CSV buffer a missing-value token (spaces and tabs around it
 * allowed)? Called only for a cell that is not a number, so the parse of numbers pays nothing.
 */
export function isMissingCsvCell(buf: Uint8Array, start: number, end: number): boolean {
  return matchCsvToken(buf, start, end, TOKEN_BYTES) >= 0;
}

/** Is a parsed value (JSON lines, Parquet) a missing feature value: null or absent? */
export function isMissingValue(value: unknown): boolean {
  return value === null || value === undefined;
}
