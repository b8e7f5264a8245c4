/**
 * The anomaly table of detection jobs: one row per (job, row) over the model's threshold. Chunks
 * upsert their rows; the job's totals are counted from the table itself, so they are right
 * however often a chunk ran.
 */
import type { EntityManager } from '@mikro-orm/postgresql';

export interface AnomalyRow {
  row_index: number;
  score: number;
  row_id: string | null;
}

export interface TopAnomaly {
  rowIndex: number;
  rowId: string | null;
  score: number;
}

/** Rows per anomaly upsert statement: bounded so one statement stays small whatever the chunk size. */
const UPSERT_BATCH = 5000;

/** Upserts on (job, row): rows stored by an earlier attempt are overwritten with the same values, never doubled. */
export async function upsertAnomalies(em: EntityManager, jobId: string, rows: AnomalyRow[]): Promise<void> {
  if (rows.length === 0) return;
  const connection = em.getConnection();
  for (let start = 0; start < rows.length; start += UPSERT_BATCH) {
    const batch = rows.slice(start, start + UPSERT_BATCH);
    await connection.execute(
      `insert into anomaly (job_id, row_index, score, row_id)
       select ?, r.row_index, r.score, r.row_id
       from json_to_recordset(?::json) as r(row_index integer, score double precision, row_id text)
       on conflict (job_id, row_index) do update set score = excluded.score, row_id = excluded.row_id`,
      [jobId, JSON.stringify(batch)],
    );
  }
}

/** The job's anomalies so far. */
export async function countJobAnomalies(em: EntityManager, jobId: string): Promise<number> {
  const [{ count }] = await em.getConnection().execute<Array<{ count: string }>>('select count(*) as count from anomaly where job_id = ?', [jobId]);
  return Number(count);
}

/** The job's anomalies among rows [rowStart, rowEnd): one chunk's. */
export async function countRangeAnomalies(em: EntityManager, jobId: string, rowStart: number, rowEnd: number): Promise<number> {
  const [{ count }] = await em
    .getConnection()
    .execute<Array<{ count: string }>>('select count(*) as count from anomaly where job_id = ? and row_index >= ? and row_index < ?', [jobId, rowStart, rowEnd]);
  return Number(count);
}

/** The job's ten highest scores, ties by row: the ones its summary and report name. */
export async function topJobAnomalies(em: EntityManager, jobId: string): Promise<TopAnomaly[]> {
  const top = await em.getConnection().execute<Array<{ row_index: number; row_id: string | null; score: number }>>(
    'select row_index, row_id, score from anomaly where job_id = ? order by score desc, row_index limit 10',
    [jobId],
  );
  return top.map((r) => ({ rowIndex: Number(r.row_index), rowId: r.row_id, score: Number(r.score) }));
}
