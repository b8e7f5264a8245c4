/**
 * What counts as a number in a dataset's text: a plain decimal, `[+-]digits[.digits][(e|E)[+-]digits]`
 * with spaces or tabs around it. JavaScript's Number() also reads `0x10`, `0b101`, `0o17`,
 * `Infinity` and blank text; no data file means those as numbers, so they are refused.
 */
const DECIMAL_TEXT = /^[ \t]*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[ \t]*$/;
const NON_DECIMAL_NUMERAL = /^[ \t]*[+-]?0[xXbBoO]/;

/** The value of a decimal text (±Infinity when it overflows), or NaN when the text is not a decimal. */
export function decimalValue(text: string): number {
  return DECIMAL_TEXT.test(text) ? Number(text) : NaN;
}

/** Why a non-blank text is not a finite decimal, as the end of a sentence about it: "is not a number", … */
export function notANumberReason(text: string): string {
  if (DECIMAL_TEXT.test(text) || /^[ \t]*[+-]?Infinity[ \t]*$/.test(text)) return 'is not a finite number';
  if (NON_DECIMAL_NUMERAL.test(text)) return 'is not a decimal number (hexadecimal, binary and octal numerals are not read as numbers)';
  return 'is not a number';
}

const NUMERAL_LIKE = /^[ \t]*[+-]?(?:Infinity|inf|NaN|0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+)[ \t]*$/i;

/** A text other readers take for a number but Nomaly refuses (Infinity, NaN, 0x1F, 0b101, 0o17): a bad number, never a category. */
export function isRefusedNumeral(text: string): boolean {
  return NUMERAL_LIKE.test(text);
}
