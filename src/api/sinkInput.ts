import { invalidInput } from './inputs';
import { connectionName, refuseCredentials, shown } from './sourceInput';

/**
 * Where a job also writes its results for people to read them where they work: a PostgreSQL
 * table over a connection configured on the workers, upserted on (run_key, row_key). Like a
 * source, a sink names its connection and never carries credentials. Pure, so workflow code may
 * import it.
 */
export interface PostgresSink {
  kind: 'postgres';
  connection: string;
  /** `name` or `schema.name`: lower-case identifiers, always double-quoted in SQL. */
  table: string;
  /** `anomalies` (the job's stored anomalies, default) or `scores` (every row). */
  rows: SinkRows;
}

export type SinkSpec = PostgresSink;

export const SINK_KINDS = ['postgres'] as const;
export const SINK_ROWS = ['anomalies', 'scores'] as const;
export type SinkRows = (typeof SINK_ROWS)[number];

const FIELDS = ['kind', 'connection', 'table', 'rows'];
/** One identifier, or schema.identifier: lower case so that the quoted name is the one a person types unquoted. */
const TABLE = /^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$/;
const EXAMPLE = '{"kind": "postgres", "connection": "warehouse-writer", "table": "nomaly_anomalies", "rows": "anomalies"}';

export function validateSink(workflow: string, raw: unknown): SinkSpec {
  const w = workflow;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) invalidInput(w, 'sink', `must be an object, e.g. ${EXAMPLE}`);
  const input = raw as Record<string, unknown>;
  refuseCredentials(w, 'sink', input);
  if (input.kind === undefined) invalidInput(w, 'sink.kind', `is required (${SINK_KINDS.join(' or ')})`);
  if (!SINK_KINDS.includes(input.kind as never)) invalidInput(w, 'sink.kind', `${shown(input.kind)} is not one of ${SINK_KINDS.join(', ')}`);
  for (const key of Object.keys(input)) {
    if (!FIELDS.includes(key)) invalidInput(w, `sink.${shown(key).slice(1, -1)}`, `is not a known field of a postgres sink (known: ${FIELDS.join(', ')})`);
  }
  const connection = connectionName(w, input, true, 'sink');
  const table = input.table;
  if (typeof table !== 'string' || !TABLE.test(table)) {
    invalidInput(
      w,
      'sink.table',
      `${table === undefined ? 'is required' : `${shown(table)} is not a table name`}: a lower-case identifier or schema.identifier (a letter or _, then up to 62 letters, digits or _), e.g. "nomaly_anomalies" or "analytics.nomaly_scores"`,
    );
  }
  const rows = input.rows ?? 'anomalies';
  if (!SINK_ROWS.includes(rows as never)) invalidInput(w, 'sink.rows', `${shown(rows)} is not one of ${SINK_ROWS.join(', ')}`);
  return { kind: 'postgres', connection, table, rows: rows as SinkRows };
}

/** The table name as SQL: each part double-quoted (a validated name holds no quote; one would be doubled). */
export function quotedTable(table: string): string {
  return table
    .split('.')
    .map((part) => `"${part.replace(/"/g, '""')}"`)
    .join('.');
}
