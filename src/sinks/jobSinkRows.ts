/**
 * A completed job's rows as its sink writes them, in batches: its stored anomalies (read from the
 * anomaly table by row order, a page at a time) or every row's score (the job's score file
 * streamed, its stored anomalies and its rows' keys: src/results/jobScoresCsv.ts). Memory is a
 * batch, never the job. A
 * row's key is its key in the data (the id column, or `object#row` of a source) and, for an
 * uploaded dataset without an id column, its row number.
 */
import { explanationFromStored } from '../db/anomalies';
import type { Orm } from '../db/orm';
import { idCellsOf, type FlaggedRowsIn, type ScoresCsvSource } from '../results/scoresCsv';
import type { SinkRow } from './postgresSink';

/** Rows per batch: one upsert statement each. */
export const SINK_BATCH_ROWS = 5000;

/** The job's anomalies in row order, `batchRows` at a time. */
export async function* jobAnomalyRows(orm: Orm, jobId: string, batchRows = SINK_BATCH_ROWS): AsyncGenerator<SinkRow[]> {
  const connection = orm.em.fork().getConnection();
  for (let after = -1; ; ) {
    const page = await connection.execute<Array<{ row_index: number; row_id: string | null; score: number; p_value: number | null; explanation: unknown }>>(
      'select row_index, row_id, score, p_value, explanation from anomaly where job_id = ? and row_index > ? order by row_index limit ?',
      [jobId, after, batchRows],
    );
    if (page.length === 0) return;
    yield page.map((r) => ({
      rowKey: r.row_id ?? String(r.row_index),
      score: Number(r.score),
      isAnomaly: true,
      pValue: r.p_value === null ? null : Number(r.p_value),
      explanation: explanationFromStored(r.explanation),
    }));
    after = Number(page[page.length - 1].row_index);
  }
}

/** What every row of a job is made of, each streamed. */
export interface ScoreRowsSource {
  /** The job's scores in row order, in batches (src/results/scoresFile.ts scoresFileBatches). */
  scores: AsyncIterable<Float64Array>;
  rows: number;
  anomalies: FlaggedRowsIn;
  ids?: ScoresCsvSource['ids'];
}

/** Every row of the job, in row order, a batch of scores at a time; the keys must be exactly one per score. */
export async function* jobScoreRows({ scores, rows, anomalies, ids }: ScoreRowsSource): AsyncGenerator<SinkRow[]> {
  const keys = ids && idCellsOf(ids.batches, rows);
  let start = 0;
  for await (const batchScores of scores) {
    const end = start + batchScores.length;
    const flagged = await anomalies(start, end);
    const batch: SinkRow[] = new Array(batchScores.length);
    for (let row = start; row < end; row++) {
      const hit = flagged.get(row);
      const key = keys ? await keys.next(row) : String(row);
      batch[row - start] = { rowKey: key, score: batchScores[row - start], isAnomaly: hit !== undefined, pValue: hit?.pValue ?? null, explanation: hit?.explanation ?? null };
    }
    yield batch;
    start = end;
  }
  if (start !== rows) throw new Error(`the job's score file holds ${start} scores, its record says ${rows} rows`);
  await keys?.end();
}
