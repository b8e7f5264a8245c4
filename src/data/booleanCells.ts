/**
 * Booleans in a feature column read as numbers: true → 1, false → 0.
 *
 * - CSV: a cell that is, after trimming spaces and tabs, quoted or not, one of BOOLEAN_CSV_TOKENS.
 * - JSON lines and Parquet: a JSON boolean, a BOOLEAN column's values.
 *
 * The label column already took booleans (tableBuilder.ts); the id column is text.
 */

import { csvTokenBytes, matchCsvToken } from './csvTokens';

/** The CSV boolean texts: the first three are true (1), the others false (0). */
export const BOOLEAN_CSV_TOKENS: readonly string[] = ['true', 'True', 'TRUE', 'false', 'False', 'FALSE'];
const TOKEN_BYTES = csvTokenBytes(BOOLEAN_CSV_TOKENS);

/**
 * 1 or 0 when bytes [start, end) of a CSV buffer are a boolean token (spaces and tabs around it
 * allowed), else -1. Called only for a cell that is not a number, so numbers pay nothing.
 */
export function csvBooleanCell(buf: Uint8Array, start: number, end: number): number {
  const k = matchCsvToken(buf, start, end, TOKEN_BYTES);
  return k < 0 ? -1 : k < 3 ? 1 : 0;
}
