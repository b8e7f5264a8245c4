/**
 * The optional CSV export of a detection job's scores: one line per dataset row, in row order,
 *   row,<id column>,score,is_anomaly,p_value,explanation      (the id column only when the dataset has one)
 *   0,a-17,0.4312...,0,,
 *   9,a-26,0.9120...,1,0.00049975...,amount:+0.831;n_items:+0.12
 * `row` is the 0-based data row index (as in the anomaly table), `score` is the exact double
 * (shortest round-trip text), `is_anomaly` is 1 for the rows the job stored as anomalies (its
 * anomaly table: whatever rule flagged them), `p_value` the row's conformal p-value (exact; empty
 * when it has none) and `explanation` its top features in the compact form of
 * src/results/explanationText.ts (empty when it has none). The last two are empty on rows that
 * are not anomalies. Produced piece by piece, so a job of any size is written with bounded memory.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { FeatureContribution } from './flagging';
import { compactExplanation } from './explanationText';

/** RFC 4180: quote a field holding a comma, a quote or a line break, doubling its quotes. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** What the anomaly table keeps for one flagged row, beside its score. */
export interface FlaggedRow {
  pValue: number | null;
  explanation: FeatureContribution[] | null;
}

/**
 * The job's stored anomalies among rows [rowStart, rowEnd), by row index: asked for one piece at
 * a time, so a job with a million explained anomalies is not held in memory at once.
 */
export type FlaggedRowsIn = (rowStart: number, rowEnd: number) => Promise<ReadonlyMap<number, FlaggedRow>>;

/** A lookup over anomalies already in memory (tests, small jobs). */
export function flaggedRowsOf(rows: ReadonlyMap<number, FlaggedRow>): FlaggedRowsIn {
  return async (rowStart, rowEnd) => new Map([...rows].filter(([row]) => row >= rowStart && row < rowEnd));
}

export interface ScoresCsvSource {
  scores: Float64Array;
  /** The rows `is_anomaly` marks, with their p-values and explanations: the job's anomaly table. */
  anomalies: FlaggedRowsIn;
  /** The id column's name and its cells in row order, in batches of any size. */
  ids?: { column: string; batches: AsyncIterable<string[]> };
  /** Rows per yielded piece (default 8192). */
  rowsPerPiece?: number;
}

/** The exact shortest round-trip text of a double; String(-0) would say "0". */
function exactNumber(value: number): string {
  return value === 0 && Object.is(value, -0) ? '-0' : String(value);
}

/** `is_anomaly,p_value,explanation` of one row. */
function flagCells(flagged: FlaggedRow | undefined): string {
  if (!flagged) return '0,,';
  return `1,${flagged.pValue === null ? '' : exactNumber(flagged.pValue)},${csvField(compactExplanation(flagged.explanation))}`;
}

export async function* scoresCsvPieces({ scores, anomalies, ids, rowsPerPiece = 8192 }: ScoresCsvSource): AsyncGenerator<string> {
  yield ids ? `row,${csvField(ids.column)},score,is_anomaly,p_value,explanation\n` : 'row,score,is_anomaly,p_value,explanation\n';
  const idCells = ids && idCellsOf(ids.batches, scores.length);
  for (let start = 0; start < scores.length; start += rowsPerPiece) {
    const end = Math.min(start + rowsPerPiece, scores.length);
    const flaggedHere = await anomalies(start, end);
    let piece = '';
    for (let row = start; row < end; row++) {
      const text = exactNumber(scores[row]);
      const flag = flagCells(flaggedHere.get(row));
      piece += idCells ? `${row},${csvField(await idCells.next(row))},${text},${flag}\n` : `${row},${text},${flag}\n`;
    }
    yield piece;
  }
  await idCells?.end();
}

/**
 * The id cells of batches of any size, one per score in row order: fewer or more cells than the
 * job's `rows` scores means the data is not the data scored, and is an error.
 */
export function idCellsOf(batches: AsyncIterable<string[]>, rows: number): { next(row: number): Promise<string>; end(): Promise<void> } {
  const iterator = batches[Symbol.asyncIterator]();
  let pending: string[] = [];
  let at = 0;
  const fill = async (): Promise<boolean> => {
    while (at >= pending.length) {
      const next = await iterator.next();
      if (next.done) return false;
      pending = next.value;
      at = 0;
    }
    return true;
  };
  return {
    async next(row) {
      if (!(await fill())) throw new Error(`the dataset has fewer id cells (${row}) than the job has scores (${rows})`);
      return pending[at++];
    },
    async end() {
      if (await fill()) throw new Error(`the dataset has more id cells than the job has scores (${rows})`);
    },
  };
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
