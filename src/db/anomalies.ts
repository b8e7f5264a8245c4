/**
 * The anomaly table of detection jobs: one row per (job, row) over the model's threshold. Chunks
 * upsert their rows; the job's totals are counted from the table itself, so they are right
 * however often a chunk ran.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { FeatureContribution } from '../results/flagging';

export interface AnomalyRow {
  row_index: number;
  score: number;
  row_id: string | null;
  /** The conformal p-value against the model's calibration scores; null when the model has none. */
  p_value: number | null;
  /** The top features, most anomalous first; null when the job explains nothing. */
  explanation: FeatureContribution[] | null;
}

export interface TopAnomaly {
  rowIndex: number;
  rowId: string | null;
  score: number;
  pValue?: number | null;
  explanation?: FeatureContribution[] | null;
}

/**
 * A row's top features as stored: one `[feature, value, contribution, percentile]` array each,
 * not objects — a job stores one per anomaly, and the keys would be most of the bytes. A
 * category or timestamp feature adds its displayed text as a fifth element.
 */
type StoredExplanation = Array<[string, number, number, number | null] | [string, number, number, number | null, string]>;

function toStored(explanation: FeatureContribution[] | null): StoredExplanation | null {
  return explanation && explanation.map((f) => (f.text === undefined ? [f.feature, f.value, f.contribution, f.percentile] : [f.feature, f.value, f.contribution, f.percentile, f.text]));
}

/** The stored top features as FeatureContribution objects (null stays null). */
export function explanationFromStored(stored: unknown): FeatureContribution[] | null {
  if (!Array.isArray(stored)) return null;
  return (stored as StoredExplanation).map(([feature, value, contribution, percentile, text]) => ({ feature, value, contribution, percentile, ...(typeof text === 'string' ? { text } : {}) }));
}

/** Rows per anomaly upsert statement: bounded so one statement stays small whatever the chunk size. */
const UPSERT_BATCH = 5000;

/**
 * Upserts on (job, row): rows stored by an earlier attempt are overwritten with the same values,
 * never doubled. The rows go as one bound JSON parameter: the ORM's execute() would instead
 * inline it into the SQL text, escaping it character by character in JavaScript (measured, about
 * 80 µs of the worker's CPU per explained anomaly, against about 6 bound).
 */
export async function upsertAnomalies(em: EntityManager, jobId: string, rows: AnomalyRow[]): Promise<void> {
  if (rows.length === 0) return;
  const knex = em.getConnection().getKnex();
  for (let start = 0; start < rows.length; start += UPSERT_BATCH) {
    const batch = rows.slice(start, start + UPSERT_BATCH).map((r) => ({ ...r, explanation: toStored(r.explanation) }));
    await knex.raw(
      `insert into anomaly (job_id, row_index, score, row_id, p_value, explanation)
       select ?, r.row_index, r.score, r.row_id, r.p_value, r.explanation
       from json_to_recordset(?::json) as r(row_index integer, score double precision, row_id text, p_value double precision, explanation json)
       on conflict (job_id, row_index) do update set score = excluded.score, row_id = excluded.row_id, p_value = excluded.p_value, explanation = excluded.explanation`,
      [jobId, JSON.stringify(batch)],
    );
  }
}

/**
 * Keeps only the job's stored rows scoring above `cutoff` (a job-wide rule's trim of the chunks'
 * candidates): +Infinity keeps none, -Infinity all. Idempotent.
 */
export async function keepAnomaliesAbove(em: EntityManager, jobId: string, cutoff: number): Promise<void> {
  if (cutoff === -Infinity) return;
  if (cutoff === Infinity) await em.getConnection().execute('delete from anomaly where job_id = ?', [jobId]);
  else await em.getConnection().execute('delete from anomaly where job_id = ? and score <= ?', [jobId, cutoff]);
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

/** The job's `limit` highest scores, ties by row: ten are the ones its summary and report name. */
export async function topJobAnomalies(em: EntityManager, jobId: string, limit = 10): Promise<TopAnomaly[]> {
  const top = await em.getConnection().execute<Array<{ row_index: number; row_id: string | null; score: number; p_value: number | null; explanation: unknown }>>(
    'select row_index, row_id, score, p_value, explanation from anomaly where job_id = ? order by score desc, row_index limit ?',
    [jobId, limit],
  );
  return top.map((r) => ({ rowIndex: Number(r.row_index), rowId: r.row_id, score: Number(r.score), pValue: r.p_value === null ? null : Number(r.p_value), explanation: explanationFromStored(r.explanation) }));
}
