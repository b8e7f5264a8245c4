/**
 * Dataset text must be UTF-8. Decoding invalid bytes with replacement characters would store a
 * Latin-1 "température" as "temp�rature" without a word, so invalid bytes are an error that
 * names their line.
 */
import { isUtf8 } from 'node:buffer';
import { DatasetFormatError } from './datasetError';

const LF = 10;

/** Throws a DatasetFormatError naming the line unless bytes [start, end) are valid UTF-8; `firstLine` is the line at `start`. */
export function assertUtf8(buf: Buffer, firstLine: number, start = 0, end = buf.length): void {
  if (start >= end || isUtf8(buf.subarray(start, end))) return;
  const bad = firstInvalidUtf8(buf, start, end);
  let line = firstLine;
  let lineStart = start;
  for (let i = buf.indexOf(LF, start); i !== -1 && i < bad; i = buf.indexOf(LF, i + 1)) {
    line++;
    lineStart = i + 1;
  }
  const byte = buf[bad].toString(16).toUpperCase().padStart(2, '0');
  throw new DatasetFormatError(
    `line ${line}: not valid UTF-8 text (byte 0x${byte} at byte ${bad - lineStart + 1} of the line): save the file as UTF-8`,
    line,
  );
}

/** Offset of the first byte that starts an ill-formed UTF-8 sequence (Unicode table 3-7), or `end`. */
function firstInvalidUtf8(b: Buffer, i: number, end: number): number {
  while (i < end) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let continuation: number;
    let low = 0x80;
    let high = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) continuation = 1;
    else if (c === 0xe0) [continuation, low] = [2, 0xa0];
    else if (c === 0xed) [continuation, high] = [2, 0x9f];
    else if (c >= 0xe1 && c <= 0xef) continuation = 2;
    else if (c === 0xf0) [continuation, low] = [3, 0x90];
    else if (c === 0xf4) [continuation, high] = [3, 0x8f];
    else if (c >= 0xf1 && c <= 0xf3) continuation = 3;
    else return i;
    if (i + 1 >= end || b[i + 1] < low || b[i + 1] > high) return i;
    for (let k = 2; k <= continuation; k++) if (i + k >= end || (b[i + k] & 0xc0) !== 0x80) return i;
    i += continuation + 1;
  }
  return end;
}
