/**
 * Matching a CSV cell against a short list of texts (missing-value tokens, booleans) byte by
 * byte, spaces and tabs around it allowed, without making a string: the readers call it only for
 * cells that are not numbers, but a column of them may be millions of cells.
 */

/** The tokens as bytes, ready for matchCsvToken. */
export function csvTokenBytes(tokens: readonly string[]): readonly Uint8Array[] {
  return tokens.map((t) => Buffer.from(t, 'latin1'));
}

function isSpaceOrTab(byte: number): boolean {
  return byte === 32 || byte === 9;
}

/** The index of the token bytes [start, end) of `buf` hold (trimmed of spaces and tabs), or -1. */
export function matchCsvToken(buf: Uint8Array, start: number, end: number, tokens: readonly Uint8Array[]): number {
  while (start < end && isSpaceOrTab(buf[start])) start++;
  while (end > start && isSpaceOrTab(buf[end - 1])) end--;
  const n = end - start;
  next: for (let k = 0; k < tokens.length; k++) {
    const token = tokens[k];
    if (token.length !== n) continue;
    for (let i = 0; i < n; i++) if (buf[start + i] !== token[i]) continue next;
    return k;
  }
  return -1;
}
