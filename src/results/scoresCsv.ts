/**
 * The optional CSV export of a detection job's scores: one line per dataset row, in row order,
 *   row,<id column>,score,is_anomaly      (the id column only when the dataset has one)
 *   0,a-17,0.4312...,0
 * `row` is the 0-based data row index (as in the anomaly table), `score` is the exact double
 * (shortest round-trip text), `is_anomaly` is 1 when the score is above the model's threshold.
 * Produced piece by piece, so a job of any size is written with bounded memory.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

/** RFC 4180: quote a field holding a comma, a quote or a line break, doubling its quotes. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export interface ScoresCsvSource {
  scores: Float64Array;
  isAnomaly: (row: number, score: number) => boolean;
  /** The id column's name and its cells in row order, in batches of any size. */
  ids?: { column: string; batches: AsyncIterable<string[]> };
  /** Rows per yielded piece (default 8192). */
  rowsPerPiece?: number;
}

export async function* scoresCsvPieces({ scores, isAnomaly, ids, rowsPerPiece = 8192 }: ScoresCsvSource): AsyncGenerator<string> {
  yield ids ? `row,${csvField(ids.column)},score,is_anomaly\n` : 'row,score,is_anomaly\n';
  const idIterator = ids?.batches[Symbol.asyncIterator]();
  let pending: string[] = [];
  let pendingAt = 0;
  const nextId = async (row: number): Promise<string> => {
    while (pendingAt >= pending.length) {
      const next = await idIterator!.next();
      if (next.done) throw new Error(`the dataset has fewer id cells (${row}) than the job has scores (${scores.length})`);
      pending = next.value;
      pendingAt = 0;
    }
    return pending[pendingAt++];
  };
  for (let start = 0; start < scores.length; start += rowsPerPiece) {
    const end = Math.min(start + rowsPerPiece, scores.length);
    let piece = '';
    for (let row = start; row < end; row++) {
      const score = scores[row];
      const flag = isAnomaly(row, score) ? '1' : '0';
      const text = score === 0 && Object.is(score, -0) ? '-0' : String(score); // String(-0) is "0"
      piece += idIterator ? `${row},${csvField(await nextId(row))},${text},${flag}\n` : `${row},${text},${flag}\n`;
    }
    yield piece;
  }
  if (idIterator) {
    // Every id must have been used: more ids than scores means the dataset is not the one scored.
    while (pendingAt >= pending.length) {
      const next = await idIterator.next();
      if (next.done) return;
      pending = next.value;
      pendingAt = 0;
    }
    throw new Error(`the dataset has more id cells than the job has scores (${scores.length})`);
  }
}

/** Writes text pieces to a file, waiting for the disk when its buffer is full; returns its size and sha256. */
export async function writePiecesToFile(file: string, pieces: AsyncIterable<string>): Promise<{ size: number; sha256: string }> {
  const out = createWriteStream(file);
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const piece of pieces) {
      const bytes = Buffer.from(piece, 'utf8');
      hash.update(bytes);
      size += bytes.length;
      if (!out.write(bytes)) await once(out, 'drain');
    }
  } finally {
    out.end();
    await once(out, 'close');
  }
  return { size, sha256: hash.digest('hex') };
}
