/**
 * A job's rows upserted into a PostgreSQL table over a named connection, where people read them:
 *
 *   run_key, row_key            the key: the window's run key (src/sources/runKey.ts; a job over
 *                               an uploaded dataset uses its job id) and the row's key in its data
 *   job_id, model, model_version
 *   score, is_anomaly, p_value, explanation (jsonb)
 *   window_start, window_end    null for an uploaded dataset
 *   scored_at                   when the job finished
 *
 * Idempotent: rows go in by `INSERT … ON CONFLICT (run_key, row_key) DO UPDATE`, a batch at a
 * time, so a retried activity or the same window scored again never doubles a row. When a job
 * scores a window again (its data changed), the rows of that run key an earlier job wrote and this
 * one did not are removed at the end, so the table holds the window's latest result.
 *
 * The table is created when it is missing (CREATE on its schema needed then); an existing table
 * must have these columns with compatible types and a key on (run_key, row_key). The connection's
 * role needs SELECT, INSERT, UPDATE and DELETE on the table: a source's read-only role will not do.
 * Values are always bound parameters, the table name always double-quoted.
 */
import type { Client } from 'pg';
import { quotedTable, type SinkSpec } from '../api/sinkInput';
import type { SinkResult } from '../api/results';
import type { FeatureContribution } from '../results/flagging';
import type { PostgresConnection } from '../sources/connections';
import { postgresClient, postgresError, SourceQueryError } from '../sources/postgresExtract';

/** One row as the sink writes it. */
export interface SinkRow {
  rowKey: string;
  score: number;
  isAnomaly: boolean;
  pValue: number | null;
  explanation: FeatureContribution[] | null;
}

/** What every row of a job shares. */
export interface SinkJob {
  runKey: string;
  jobId: string;
  model: string;
  modelVersion: number;
  window: { start: string; end: string } | null;
  scoredAt: Date;
}

/** The table cannot take the rows as it is (missing columns, wrong types, no key): no retry fixes it. */
export class SinkTableError extends Error {
  readonly permanent = true;
  constructor(message: string) {
    super(message);
    this.name = 'SinkTableError';
  }
}

/** Each column and the types (format_type's names) an existing table may give it. */
const COLUMNS: Array<[string, string, string[]]> = [
  ['run_key', 'text not null', ['text', 'character varying']],
  ['row_key', 'text not null', ['text', 'character varying']],
  ['job_id', 'text not null', ['text', 'character varying']],
  ['model', 'text not null', ['text', 'character varying']],
  ['model_version', 'integer not null', ['integer', 'bigint']],
  ['score', 'double precision not null', ['double precision']],
  ['is_anomaly', 'boolean not null', ['boolean']],
  ['p_value', 'double precision', ['double precision']],
  ['explanation', 'jsonb', ['jsonb', 'json']],
  ['window_start', 'timestamptz', ['timestamp with time zone']],
  ['window_end', 'timestamptz', ['timestamp with time zone']],
  ['scored_at', 'timestamptz not null', ['timestamp with time zone']],
];

/** What the role needs, said where a permission is missing. */
const ROLE_NEEDS = "the sink's connection needs a role with SELECT, INSERT, UPDATE and DELETE on the table (and CREATE on its schema to create it); a source's read-only role cannot write";

/**
 * Checks the sink before a job scores anything, so that a wrong connection, refused credentials,
 * a role that cannot write or a table of the wrong shape fail the job in seconds: connects,
 * creates the table when missing (true) or checks its columns, and checks the role's rights on it.
 */
export async function prepareSink(conn: PostgresConnection, sink: SinkSpec): Promise<{ created: boolean }> {
  const client = postgresClient(conn, 'nomaly-sink');
  const database = <T>(what: string, work: Promise<T>): Promise<T> => work.catch((err: unknown) => Promise.reject(sinkError(conn, sink, what, err)));
  try {
    await database('connecting', client.connect());
    const created = await database(`preparing table ${sink.table}`, ensureTable(client, sink.table, quotedTable(sink.table)));
    const { rows } = await database(
      `checking the rights on ${sink.table}`,
      client.query<{ right: string; granted: boolean }>(
        `SELECT r AS right, has_table_privilege(to_regclass($1), r) AS granted FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) AS r`,
        [quotedTable(sink.table)],
      ),
    );
    const missing = rows.filter((r) => !r.granted).map((r) => r.right);
    if (missing.length) throw new SinkTableError(`connection "${conn.name}": role "${conn.user}" lacks ${missing.join(', ')} on table ${sink.table}: ${ROLE_NEEDS}`);
    return { created };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Upserts `batches` into the sink's table and removes the run key's rows of earlier jobs that
 * this job's rows replaced. `onProgress` gets the rows written so far after each batch.
 */
export async function writeSink(
  conn: PostgresConnection,
  sink: SinkSpec,
  job: SinkJob,
  batches: AsyncIterable<SinkRow[]>,
  onProgress: (written: number) => void,
): Promise<SinkResult> {
  const table = quotedTable(sink.table);
  const client = postgresClient(conn, 'nomaly-sink');
  // Only the database's errors are translated: one thrown while reading the job's rows passes as it is.
  const database = <T>(what: string, work: Promise<T>): Promise<T> => work.catch((err: unknown) => Promise.reject(sinkError(conn, sink, what, err)));
  try {
    await database('connecting', client.connect());
    await database(`setting a statement timeout`, client.query(`SET statement_timeout = ${Math.trunc(conn.statementTimeoutMs)}`));
    await database(`preparing table ${sink.table}`, ensureTable(client, sink.table, table));
    const fixed = [job.runKey, job.jobId, job.model, job.modelVersion, job.window?.start ?? null, job.window?.end ?? null, job.scoredAt];
    const upsert = `INSERT INTO ${table} (${COLUMNS.map(([name]) => name).join(', ')})
      SELECT $1, r.row_key, $2, $3, $4, r.score, r.is_anomaly, r.p_value, r.explanation, $5::timestamptz, $6::timestamptz, $7::timestamptz
      FROM unnest($8::text[], $9::float8[], $10::boolean[], $11::float8[], $12::jsonb[]) AS r(row_key, score, is_anomaly, p_value, explanation)
      ON CONFLICT (run_key, row_key) DO UPDATE SET ${COLUMNS.slice(2).map(([name]) => `${name} = excluded.${name}`).join(', ')}`;
    let written = 0;
    for await (const batch of batches) {
      if (batch.length === 0) continue;
      const values = [
        batch.map((r) => r.rowKey),
        batch.map((r) => r.score),
        batch.map((r) => r.isAnomaly),
        batch.map((r) => r.pValue),
        batch.map((r) => (r.explanation ? JSON.stringify(r.explanation) : null)),
      ];
      await database(`the upsert into ${sink.table}`, client.query(upsert, [...fixed, ...values]));
      written += batch.length;
      onProgress(written);
    }
    const removed = await database(
      `removing rows of earlier jobs from ${sink.table}`,
      client.query(`DELETE FROM ${table} WHERE run_key = $1 AND job_id <> $2`, [job.runKey, job.jobId]),
    );
    return { connection: conn.name, table: sink.table, rows: sink.rows, written, removed: removed.rowCount ?? 0, runKey: job.runKey };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates the table when it is missing (true), else checks its columns. */
async function ensureTable(client: Client, name: string, table: string): Promise<boolean> {
  const exists = async () => (await client.query<{ oid: string | null }>('SELECT to_regclass($1)::oid::text AS oid', [table])).rows[0].oid;
  let oid = await exists();
  if (oid === null) {
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS ${table} (${COLUMNS.map(([column, type]) => `${column} ${type}`).join(', ')}, PRIMARY KEY (run_key, row_key))`);
      return true;
    } catch (err) {
      // Another job of the same backfill created it at the same moment.
      const code = (err as { code?: string }).code;
      if (code !== '42P07' && code !== '23505') throw err;
      oid = await exists();
      if (oid === null) throw err;
    }
  }
  const { rows } = await client.query<{ name: string; type: string }>(
    'SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped',
    [oid],
  );
  const types = new Map(rows.map((r) => [r.name, r.type]));
  const wrong = COLUMNS.filter(([column, , accepted]) => !accepted.includes(types.get(column) ?? '')).map(
    ([column, , accepted]) => `${column} (${types.has(column) ? `is ${types.get(column)}` : 'missing'}; needs ${accepted.join(' or ')})`,
  );
  if (wrong.length) throw new SinkTableError(`table ${name} cannot take a job's rows: ${wrong.join(', ')}; drop it to let the sink create it, or alter it`);
  return false;
}

/** A database error of the sink, naming the connection and table (never the secret), with what to fix when it is the role or the table. */
function sinkError(conn: PostgresConnection, sink: SinkSpec, what: string, err: unknown): Error {
  if (err instanceof SinkTableError) return err;
  const translated = postgresError(conn, err, what);
  if (!(translated instanceof SourceQueryError)) return translated;
  if (translated.sqlstate === '42501') return new SinkTableError(`${translated.message}: ${ROLE_NEEDS}`);
  if (translated.sqlstate === '42P10') return new SinkTableError(`${translated.message}: table ${sink.table} needs a primary key or unique index on (run_key, row_key)`);
  return translated;
}
