/**
 * How a feature cell that is not a number becomes one number in the Matrix, the same in every
 * format, so the readers stay typed-array only and stateless (no dictionary shared between
 * chunks or workers):
 *
 * - category: `categoryCode(text)`, a 52-bit FNV-1a hash of the cell's UTF-8 bytes with spaces
 *   and tabs around it removed, as an exact integer in a float64 (0 ≤ code < 2^52, never NaN).
 *   The same text gives the same code in CSV, JSON lines and Parquet, in training and scoring.
 *   Two texts sharing a code is possible but rare (about 1 in 10^4 among a million distinct
 *   texts); the model's encoder then treats them as one category.
 * - timestamp: `timestampMillis(text)`, milliseconds since 1970-01-01T00:00:00Z (UTC instant).
 *   Parquet DATE and TIMESTAMP values convert to the same instant.
 * - boolean: 1 or 0 (booleanCells.ts); missing: NaN (missingValues.ts).
 */

export type FeatureCellType = 'number' | 'category' | 'timestamp';
export const FEATURE_CELL_TYPES: readonly FeatureCellType[] = ['number', 'category', 'timestamp'];

const TWO_32 = 4294967296;
const HIGH_MASK = 0xfffff; // 20 high bits + 32 low bits = 52 bits, exact in a float64

function isSpaceOrTab(byte: number): boolean {
  return byte === 32 || byte === 9;
}

/** The category code of bytes [start, end) of a buffer (trimmed of spaces and tabs), without making a string. */
export function categoryCodeOfBytes(buf: Uint8Array, start: number, end: number): number {
  while (start < end && isSpaceOrTab(buf[start])) start++;
  while (end > start && isSpaceOrTab(buf[end - 1])) end--;
  // FNV-1a, 64 bits as two 32-bit halves; prime 2^40 + 0x1b3.
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (let i = start; i < end; i++) {
    lo = (lo ^ buf[i]) >>> 0;
    const product = lo * 0x1b3; // < 2^41: exact
    const carry = Math.floor(product / TWO_32);
    const newLo = product >>> 0;
    hi = (Math.imul(hi, 0x1b3) + carry + (lo << 8)) >>> 0;
    lo = newLo;
  }
  return (hi & HIGH_MASK) * TWO_32 + lo;
}

const encoder = new TextEncoder();

/** The category code of a text (a JSON string, a Parquet string, a schema's top value). */
export function categoryCode(text: string): number {
  const bytes = encoder.encode(text);
  return categoryCodeOfBytes(bytes, 0, bytes.length);
}

// YYYY-MM-DD, optionally followed by T or one space, HH:MM, optional :SS and fraction, optional zone.
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Milliseconds since the epoch of an ISO 8601 date or date-time, or NaN when the text is not
 * one. A text without a zone is read as UTC (documented in operations.md: give the offset when
 * the data's clock is local). Fractions below a millisecond are truncated. Spaces and tabs
 * around the text are allowed. Strict: 2026-02-30, 24:00 or a month 13 are not timestamps.
 */
export function timestampMillis(text: string): number {
  const m = TIMESTAMP.exec(text.replace(/^[ \t]+|[ \t]+$/g, ''));
  if (!m) return NaN;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const millis = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0').slice(0, 3));
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return NaN;
  if (m[4] === undefined && m[8] !== undefined) return NaN; // a zone needs a time
  const offset = zoneOffsetMinutes(m[8]);
  if (offset !== offset) return NaN;
  // setUTCFullYear, not Date.UTC alone: Date.UTC reads years 0–99 as 1900–1999.
  const date = new Date(Date.UTC(2000, 0, 1));
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCDate() !== day) return NaN; // 2026-02-30
  date.setUTCHours(hour, minute, second, millis);
  return date.getTime() - offset * 60_000;
}

/** Minutes east of UTC, or NaN for an offset no clock has (real ones are within ±14:00). */
function zoneOffsetMinutes(zone: string | undefined): number {
  if (zone === undefined || zone === 'Z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
  if (hours > 23 || minutes > 59) return NaN;
  const sign = zone[0] === '-' ? -1 : 1;
  return sign * (hours * 60 + minutes);
}
