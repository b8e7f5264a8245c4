/**
 * Booleans in a feature column read as numbers: true → 1, false → 0.
 *
 * - CSV: a cell that is, after trimming spaces and tabs, quoted or not, one of BOOLEAN_CSV_TOKENS.
 * - JSON lines and Parquet: a JSON boolean, a BOOLEAN column's values.
 *
 * The label column already took booleans (tableBuilder.ts); the id column is text.
 */

/** Each CSV boolean text and its value. */
export const BOOLEAN_CSV_TOKENS: Readonly<Record<string, 0 | 1>> = { true: 1, TRUE: 1, True: 1, false: 0, FALSE: 0, False: 0 };

const LONGEST_TOKEN = Math.max(...Object.keys(BOOLEAN_CSV_TOKENS).map((t) => t.length));

/**
 * 1 or 0 when bytes [start, end) of a CSV buffer are a boolean token (spaces and tabs around it
 * allowed), else -1. Called only for a cell that is not a number, so numbers pay nothing.
 */
export function csvBooleanCell(buf: Uint8Array, start: number, end: number): number {
  while (start < end && (buf[start] === 32 || buf[start] === 9)) start++;
  while (end > start && (buf[end - 1] === 32 || buf[end - 1] === 9)) end--;
  if (end - start > LONGEST_TOKEN || end === start) return -1;
  let text = '';
  for (let i = start; i < end; i++) text += String.fromCharCode(buf[i]);
  return Object.prototype.hasOwnProperty.call(BOOLEAN_CSV_TOKENS, text) ? BOOLEAN_CSV_TOKENS[text] : -1;
}
