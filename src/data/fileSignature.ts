/**
 * Files that are something else under a dataset's extension, told by their first and last bytes:
 * a gzip or ZIP archive (an Excel workbook is one) renamed .csv, a Parquet file named .csv, or a
 * Parquet file cut short. The client refuses them before uploading; the readers refuse them
 * with this word rather than a confusing one about the bytes ("not UTF-8").
 */
import type { DatasetFormatName } from './formats/names';

const PARQUET_MAGIC = [0x50, 0x41, 0x52, 0x31]; // "PAR1"
const GZIP_MAGIC = [0x1f, 0x8b];

function startsWith(bytes: Uint8Array, signature: number[], at = 0): boolean {
  return at >= 0 && bytes.length >= at + signature.length && signature.every((b, i) => bytes[at + i] === b);
}

/** Do these first bytes start a gzip stream? */
export function isGzip(head: Uint8Array): boolean {
  return startsWith(head, GZIP_MAGIC);
}

/**
 * Why a file of `format` whose first bytes are `head` and last bytes are `tail` cannot be one,
 * or undefined when its signature is fine (the reader still checks everything else).
 */
export function wrongFileSignature(format: DatasetFormatName, head: Uint8Array, tail: Uint8Array, compressed = false): string | undefined {
  if (compressed) return startsWith(head, GZIP_MAGIC) ? undefined : 'named .gz, but not gzip-compressed (a gzip file starts with the bytes 1f 8b): upload it without the .gz';
  if (format === 'parquet') {
    return startsWith(head, PARQUET_MAGIC) && startsWith(tail, PARQUET_MAGIC, tail.length - 4)
      ? undefined
      : 'not a Parquet file: it must start and end with the bytes "PAR1" (a file cut short does not end with them)';
  }
  const text = format === 'csv' ? 'CSV' : 'JSON lines';
  if (startsWith(head, GZIP_MAGIC)) return `gzip-compressed, not ${text} text: decompress it (gunzip), or name it .${format}.gz to upload it compressed`;
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) return `a ZIP archive (an Excel workbook is one), not ${text} text: export or extract the ${text} and upload that`;
  if (startsWith(head, PARQUET_MAGIC)) return `a Parquet file, not ${text} text: name it .parquet`;
  return undefined;
}
