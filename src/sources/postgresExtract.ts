/**
 * A PostgreSQL query's result as a Parquet file, for a job that reads its data where it lives.
 * The query runs read-only (BEGIN TRANSACTION READ ONLY, a statement timeout) with its values
 * bound as parameters, never spliced into the text, and is read through a server-side cursor
 * (DECLARE ... NO SCROLL CURSOR, FETCH n): only one row group's columns are ever in memory,
 * written to a temp file as each fills. Numeric columns become DOUBLE, booleans BOOLEAN, timestamps
 * (with or without a zone) and dates TIMESTAMP (epoch milliseconds, UTC; a date at its midnight;
 * `infinity` as a null), everything else (and the id column) STRING, all nullable: the extract
 * keeps what a column is, and the source's inferred types (snapshotSchema.ts) follow from it.
 * The cursor selects from the query as a subquery so that its
 * integer and float8 columns come packed as bytes rather than one text per cell (FetchLayout),
 * and the next FETCH is always queued while a batch is encoded.
 *
 * Errors: SourceAuthError (credentials refused) and SourceQueryError (the SQL itself: syntax, an
 * unknown column, a permission, a write in the read-only transaction) are permanent; a server
 * that cannot be reached, a timeout or a dropped connection is a plain Error a retry may fix.
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, type FieldDef, type QueryArrayConfig, type QueryConfig } from 'pg';
import { ByteWriter, ParquetWriter, schemaFromColumnData } from 'hyparquet-writer';
import type { ColumnSource } from 'hyparquet-writer';
import type { DecodedArray } from 'hyparquet';
import { redactSecrets } from '../config/redaction';
import type { PostgresConnection } from './connections';

export interface ExtractOptions {
  /** A column to keep as text whatever its type (row ids); it must be one of the query's columns. */
  idColumn?: string;
  /** Rows per Parquet row group, and so the most rows held in memory (default 131072). */
  rowGroupRows?: number;
  /** Called after each fetched batch with the rows extracted so far (for heartbeats). */
  onProgress?: (rows: number) => void;
  /** Where the Parquet file is written (default the OS temp directory). */
  tmpDir?: string;
}

export interface ExtractColumn {
  name: string;
  type: 'DOUBLE' | 'BOOLEAN' | 'TIMESTAMP' | 'STRING';
}

export interface ExtractResult {
  /** The temp file holding the rows; the caller uploads it and removes it. */
  file: string;
  rows: number;
  columns: ExtractColumn[];
  sha256: string;
  size: number;
}

/** The query cannot run as written (syntax, unknown column or table, permission, a write): no retry fixes it. */
export class SourceQueryError extends Error {
  readonly permanent = true;
  constructor(
    message: string,
    /** PostgreSQL's SQLSTATE, when the server refused the query. */
    readonly sqlstate?: string,
  ) {
    super(message);
    this.name = 'SourceQueryError';
  }
}

/** The server refused the connection's credentials (SQLSTATE class 28): fix the connection, not the job. */
export class SourceAuthError extends Error {
  readonly permanent = true;
  constructor(
    message: string,
    readonly sqlstate?: string,
  ) {
    super(message);
    this.name = 'SourceAuthError';
  }
}

const DEFAULT_ROW_GROUP_ROWS = 131_072;
/**
 * Rows per FETCH: a round trip per this many rows, few enough that a batch is small next to a row
 * group. With numbers packed a row is a few strings, so 1,000 to 40,000 measured the same.
 */
const FETCH_ROWS = 10_000;
const CURSOR = 'nomaly_extract';
const CONNECT_TIMEOUT_MS = 30_000;
/** int2, int4, int8, float4, float8, numeric: the type OIDs that become DOUBLE. */
const NUMERIC_TYPE_OIDS = new Set([21, 23, 20, 700, 701, 1700]);
const BOOLEAN_TYPE_OID = 16;
/** timestamp, timestamptz, date: the type OIDs that become TIMESTAMP (milliseconds). */
const TIME_TYPE_OIDS = new Set([1114, 1184, 1082]);
/**
 * SQLSTATE classes a retry may fix: a lost connection (08), a rolled-back transaction such as a
 * deadlock (40), resources (53), a lock not available (55), a cancelled statement, timeouts
 * included, or a shutting-down server (57), system errors (58, XX). Every other class is the
 * query's own fault.
 */
const RETRYABLE_SQLSTATE_CLASSES = ['08', '40', '53', '55', '57', '58', 'XX'];
/** Every value as PostgreSQL's text: numbers are converted here, everything else is kept as written. */
const RAW_TEXT = { getTypeParser: () => (value: string) => value } as unknown as QueryArrayConfig['types'];

/** A client for the connection (not yet connected); a connection lost between statements surfaces on the next query. */
export function postgresClient(conn: PostgresConnection, applicationName: string): Client {
  const client = new Client({
    host: conn.host,
    port: conn.port,
    database: conn.database,
    user: conn.user,
    password: conn.password,
    ssl: conn.ssl,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    application_name: applicationName,
  });
  // Without a listener a dropped connection's error event would crash the worker.
  client.on('error', () => undefined);
  return client;
}

/** Runs `sql` on the connection and writes its rows to a Parquet temp file (see the module comment). */
export async function extractQuery(conn: PostgresConnection, sql: { text: string; values: string[] }, options: ExtractOptions = {}): Promise<ExtractResult> {
  const rowGroupRows = options.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS;
  if (!Number.isInteger(rowGroupRows) || rowGroupRows < 1) throw new RangeError(`rowGroupRows must be a positive integer, not ${rowGroupRows}`);
  const fetchRows = Math.min(FETCH_ROWS, rowGroupRows);
  const file = path.join(options.tmpDir ?? os.tmpdir(), `nomaly-extract-${randomUUID()}.parquet`);
  const client = postgresClient(conn, 'nomaly-extract');
  let sink: RowGroupSink | undefined;
  try {
    // Only the database's errors are translated: one thrown by onProgress (a cancelled activity's heartbeat) passes as it is.
    const database = <T>(work: Promise<T>): Promise<T> => work.catch((err: unknown) => Promise.reject(postgresError(conn, err)));
    await database(client.connect());
    await database(client.query('BEGIN TRANSACTION READ ONLY'));
    await database(client.query(`SET LOCAL statement_timeout = ${Math.trunc(conn.statementTimeoutMs)}`));
    // The extended protocol binds the values and refuses a second statement in the text. The
    // query is wrapped as a subquery (on lines of its own: a trailing comment stays harmless),
    // first with LIMIT 0 to learn its columns, then for the cursor with the numbers packed.
    const query = `(\n${sql.text.replace(/[\s;]+$/, '')}\n) AS ${QUERY_ALIAS}`;
    const describe: QueryArrayConfig & { queryMode: 'extended' } = { text: `SELECT * FROM ${query} LIMIT 0`, values: sql.values, rowMode: 'array', types: RAW_TEXT, queryMode: 'extended' };
    const described = await database(client.query(describe));
    const layout = fetchLayout(extractColumns(conn, described.fields, options.idColumn), described.fields);
    const declare: QueryConfig & { queryMode: 'extended' } = {
      text: `DECLARE ${CURSOR} NO SCROLL CURSOR FOR SELECT ${layout.select.join(', ')} FROM ${query}`,
      values: sql.values,
      queryMode: 'extended',
    };
    await database(client.query(declare));
    sink = new RowGroupSink(file, layout, rowGroupRows);
    const fetchBatch = () => database(client.query<string[]>({ text: `FETCH FORWARD ${fetchRows} FROM ${CURSOR}`, rowMode: 'array', types: RAW_TEXT }));
    let rows = 0;
    let next = fetchBatch();
    for (;;) {
      const batch = await next;
      // The next FETCH is queued before this batch is converted, so the server reads and sends
      // rows while this process encodes them (the two work on different cores).
      const more = batch.rows.length === fetchRows;
      if (more) {
        next = fetchBatch();
        // Left unawaited when a later step throws (onProgress): its failure must not go unhandled.
        next.catch(() => undefined);
      }
      sink.append(batch.rows);
      rows += batch.rows.length;
      options.onProgress?.(rows);
      if (!more) break;
    }
    await database(client.query('COMMIT'));
    const { sha256, size } = sink.close();
    return { file, rows, columns: layout.columns, sha256, size };
  } catch (err) {
    sink?.abandon();
    rmSync(file, { force: true });
    throw err;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The Parquet columns of the query's fields: refused when two share a name or the id column is missing. */
function extractColumns(conn: PostgresConnection, fields: FieldDef[], idColumn: string | undefined): ExtractColumn[] {
  const names = fields.map((f) => f.name);
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated !== undefined) throw new SourceQueryError(`connection "${conn.name}": the query returns more than one column named "${repeated}"; give each a name of its own (AS ...)`);
  if (idColumn !== undefined && !names.includes(idColumn)) {
    throw new SourceQueryError(`connection "${conn.name}": the query has no column "${idColumn}" (the id column); its columns: ${names.join(', ') || 'none'}`);
  }
  return fields.map((f) => ({ name: f.name, type: f.name === idColumn ? 'STRING' : parquetTypeOf(f.dataTypeID) }));
}

/** The Parquet column a PostgreSQL type becomes (see the module comment). */
function parquetTypeOf(oid: number): ExtractColumn['type'] {
  if (NUMERIC_TYPE_OIDS.has(oid)) return 'DOUBLE';
  if (oid === BOOLEAN_TYPE_OID) return 'BOOLEAN';
  return TIME_TYPE_OIDS.has(oid) ? 'TIMESTAMP' : 'STRING';
}

/**
 * How the cursor's rows map onto the Parquet columns. PostgreSQL's text for a float8 costs a JS
 * string and a parse per cell (most of the extract's time, and its garbage), so the columns whose
 * cast to float8 is exact-equivalent to parsing their text (int2/4/8, float8) are sent packed:
 * up to PACK_COLUMNS of them per row as one bytea of big-endian float8s (float8send, NULL as 0)
 * and, only on a row with a NULL among them, a text of '0'/'1' flags. numeric and float4 (whose
 * float8 cast differs from their text: overflow, widening) and every STRING column stay text.
 */
interface FetchLayout {
  columns: ExtractColumn[];
  /** The cursor's select list, over the wrapped query. */
  select: string[];
  /** Cursor field i feeds Parquet column textColumns[i] (a plain text value), for i < textColumns.length. */
  textColumns: number[];
  /** Then two cursor fields per pack (bytes, null flags), feeding these Parquet columns in order. */
  packs: number[][];
}

const QUERY_ALIAS = 'nomaly_query';
/** int2, int4, int8, float8: their float8 cast equals Number() of their text. */
const PACKABLE_TYPE_OIDS = new Set([21, 23, 20, 701]);
/** Columns per packed bytea: concatenation copies, so a long chain would cost the server O(n²). */
const PACK_COLUMNS = 32;

function fetchLayout(columns: ExtractColumn[], fields: FieldDef[]): FetchLayout {
  const ref = (i: number) => `${QUERY_ALIAS}."${fields[i].name.replace(/"/g, '""')}"`;
  const textColumns: number[] = [];
  const packable: number[] = [];
  columns.forEach((c, i) => (c.type === 'DOUBLE' && PACKABLE_TYPE_OIDS.has(fields[i].dataTypeID) ? packable : textColumns).push(i));
  // A time is sent as its epoch milliseconds (a timestamp without zone read as UTC, a date at its midnight).
  const select = textColumns.map((i) => (columns[i].type === 'TIMESTAMP' ? `floor(extract(epoch from ${ref(i)}) * 1000)` : ref(i)));
  const packs: number[][] = [];
  for (let p = 0; p < packable.length; p += PACK_COLUMNS) {
    const pack = packable.slice(p, p + PACK_COLUMNS);
    packs.push(pack);
    select.push(pack.map((i) => `float8send(coalesce(${ref(i)}::float8, 0))`).join(' || '));
    const anyNull = pack.map((i) => `${ref(i)} IS NULL`).join(' OR ');
    select.push(`CASE WHEN ${anyNull} THEN concat(${pack.map((i) => `CASE WHEN ${ref(i)} IS NULL THEN '1' ELSE '0' END`).join(', ')}) END`);
  }
  return { columns, select, textColumns, packs };
}

/**
 * A pg or network error as the error the caller acts on (permanent or not), naming the
 * connection and never its password; `what` failed (the query, the sink's upsert).
 */
export function postgresError(conn: PostgresConnection, err: unknown, what = 'the query'): Error {
  const message = redactSecrets(err instanceof Error ? err.message : String(err));
  const code = (err as { code?: unknown }).code;
  const sqlstate = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  if (sqlstate?.startsWith('28')) {
    return new SourceAuthError(`connection "${conn.name}": authentication failed for user "${conn.user}": ${message} (SQLSTATE ${sqlstate})`, sqlstate);
  }
  if (sqlstate && !RETRYABLE_SQLSTATE_CLASSES.includes(sqlstate.slice(0, 2))) {
    return new SourceQueryError(`connection "${conn.name}": ${what} failed: ${message} (SQLSTATE ${sqlstate})`, sqlstate);
  }
  // pg's own words when the server asks for a password the connection has none of.
  if (!sqlstate && /password must be a string|no password was provided/i.test(message)) {
    return new SourceAuthError(`connection "${conn.name}": authentication failed for user "${conn.user}": the server wants a password and the connection has no passwordFile`);
  }
  const where = sqlstate ? `SQLSTATE ${sqlstate}` : `${conn.host}:${conn.port}${typeof code === 'string' ? `, ${code}` : ''}`;
  return new Error(`connection "${conn.name}": ${message} (${where})`, { cause: err });
}

/**
 * The rows of one row group as typed columns, written to the file as a Parquet row group each
 * time `rowGroupRows` rows have arrived; the file's bytes are hashed as they are written.
 * A DOUBLE column fills a Float64Array with a null mask beside it: no boxed number per cell, and
 * the buffers are reused from one row group to the next (the writer is synchronous).
 */
class RowGroupSink {
  private readonly writer: HashingFileWriter;
  private readonly parquet: ParquetWriter;
  private readonly columnsOut: ColumnBuffer[];
  private pending = 0;

  private readonly columns: ExtractColumn[];
  private readonly packs: PackedDoubles[];

  constructor(
    file: string,
    private readonly layout: FetchLayout,
    private readonly rowGroupRows: number,
  ) {
    const columns = layout.columns;
    this.columns = columns;
    this.columnsOut = columns.map((c) => columnBuffer(c.type, rowGroupRows));
    this.packs = layout.packs.map((pack) => new PackedDoubles(pack.map((i) => this.columnsOut[i] as DoubleColumn)));
    const schema = schemaFromColumnData({ columnData: columns.map((c) => ({ name: c.name, data: [], type: c.type, nullable: true })) });
    this.writer = new HashingFileWriter(file);
    // No column statistics: the file is a job's temporary copy, read whole, never pruned by them
    // (they cost ~8% of the extract's CPU). Snappy is kept: ~3% of it, for a smaller upload.
    this.parquet = new ParquetWriter({ writer: this.writer, schema, codec: 'SNAPPY', statistics: false });
  }

  append(rows: Array<Array<string | null>>): void {
    let from = 0;
    while (from < rows.length) {
      // Column by column over the rows that fit in the current row group: one type per loop.
      const to = Math.min(rows.length, from + this.rowGroupRows - this.pending);
      const { textColumns } = this.layout;
      for (let f = 0; f < textColumns.length; f++) this.columnsOut[textColumns[f]].append(rows, f, from, to, this.pending);
      for (let p = 0; p < this.packs.length; p++) this.packs[p].append(rows, textColumns.length + 2 * p, from, to, this.pending);
      this.pending += to - from;
      from = to;
      if (this.pending === this.rowGroupRows) this.writeRowGroup();
    }
  }

  /** Writes the last, partial row group and the footer; a query with no rows still gets its columns. */
  close(): { sha256: string; size: number } {
    if (this.pending > 0) this.writeRowGroup();
    this.parquet.finish();
    return this.writer.close();
  }

  abandon(): void {
    this.writer.abandon();
  }

  private writeRowGroup(): void {
    const columnData: ColumnSource[] = this.columns.map((c, i) => ({ name: c.name, data: this.columnsOut[i].take(this.pending) }));
    // The writer flushes synchronously (HashingFileWriter), so write() returns no promise.
    void this.parquet.write({ columnData, rowGroupSize: this.pending });
    this.pending = 0;
  }
}

/** One column of the row group being filled. */
interface ColumnBuffer {
  /** Copies column `c` of rows[from, to) in at row `at` of the group. */
  append(rows: Array<Array<string | null>>, c: number, from: number, to: number, at: number): void;
  /** The group's first `count` values for the writer; the buffer is free again once write() returns. */
  take(count: number): DecodedArray;
}

class DoubleColumn implements ColumnBuffer {
  readonly values: Float64Array;
  readonly nulls: Uint8Array;
  hasNull = false;

  constructor(rows: number) {
    this.values = new Float64Array(rows);
    this.nulls = new Uint8Array(rows);
  }

  append(rows: Array<Array<string | null>>, c: number, from: number, to: number, at: number): void {
    const { values, nulls } = this;
    for (let r = from, i = at; r < to; r++, i++) {
      const cell = rows[r][c];
      if (cell === null) {
        nulls[i] = 1;
        this.hasNull = true;
      } else {
        values[i] = +cell;
        nulls[i] = 0;
      }
    }
  }

  take(count: number): DecodedArray {
    // A typed array cannot hold null (and NaN is a value, not a null): a group with nulls in this
    // column goes to the writer as a plain array, one without as the typed array itself.
    if (!this.hasNull) return this.values.subarray(0, count);
    this.hasNull = false;
    const out = new Array<number | null>(count);
    for (let i = 0; i < count; i++) out[i] = this.nulls[i] ? null : this.values[i];
    return out;
  }
}

/** A pack's cursor fields (see FetchLayout) decoded into its DoubleColumns. */
class PackedDoubles {
  private readonly bytes: Buffer;

  constructor(private readonly targets: DoubleColumn[]) {
    this.bytes = Buffer.alloc(8 * targets.length);
  }

  /** Decodes fields `f` (bytes as \\x hex) and `f + 1` (null flags) of rows[from, to) in at row `at`. */
  append(rows: Array<Array<string | null>>, f: number, from: number, to: number, at: number): void {
    const { bytes, targets } = this;
    for (let r = from, i = at; r < to; r++, i++) {
      const row = rows[r];
      bytes.write((row[f] as string).substring(2), 0, 'hex');
      const flags = row[f + 1];
      for (let k = 0; k < targets.length; k++) {
        const target = targets[k];
        if (flags !== null && flags.charCodeAt(k) === 49 /* '1' */) {
          target.nulls[i] = 1;
          target.hasNull = true;
        } else {
          target.values[i] = bytes.readDoubleBE(8 * k);
          target.nulls[i] = 0;
        }
      }
    }
  }
}

function columnBuffer(type: ExtractColumn['type'], rows: number): ColumnBuffer {
  if (type === 'DOUBLE') return new DoubleColumn(rows);
  if (type === 'BOOLEAN') return new BooleanColumn();
  return type === 'TIMESTAMP' ? new TimestampColumn() : new StringColumn();
}

/** PostgreSQL's text of a boolean: `t` or `f`. */
class BooleanColumn implements ColumnBuffer {
  private values: Array<boolean | null> = [];

  append(rows: Array<Array<string | null>>, c: number, from: number, to: number): void {
    for (let r = from; r < to; r++) {
      const cell = rows[r][c];
      this.values.push(cell === null ? null : cell === 't');
    }
  }

  take(): DecodedArray {
    const out = this.values;
    this.values = [];
    return out;
  }
}

/** Epoch milliseconds as the cursor sends them; `infinity` (no instant a reader could use) is a null. */
class TimestampColumn implements ColumnBuffer {
  private values: Array<number | null> = [];

  append(rows: Array<Array<string | null>>, c: number, from: number, to: number): void {
    for (let r = from; r < to; r++) {
      const cell = rows[r][c];
      const ms = cell === null ? NaN : Number(cell);
      this.values.push(Number.isFinite(ms) ? ms : null);
    }
  }

  take(): DecodedArray {
    const out = this.values;
    this.values = [];
    return out;
  }
}

class StringColumn implements ColumnBuffer {
  private values: Array<string | null> = [];

  append(rows: Array<Array<string | null>>, c: number, from: number, to: number): void {
    const { values } = this;
    for (let r = from; r < to; r++) values.push(rows[r][c]);
  }

  take(): DecodedArray {
    // UTF-8 bytes made here with Buffer (small ones sliced from a shared pool) cost less than the
    // writer's TextEncoder, which allocates a buffer per string.
    const out = this.values.map((v) => (v === null ? null : Buffer.from(v)));
    this.values = [];
    return out;
  }
}

/** Bytes written through this many at a time: the file is never whole in memory. */
const FLUSH_BYTES = 1 << 20;

/** hyparquet-writer's ByteWriter writing through to a file descriptor, hashing what it writes. */
class HashingFileWriter extends ByteWriter {
  private readonly fd: number;
  private readonly hash: Hash = createHash('sha256');
  private closed = false;

  constructor(file: string) {
    super(FLUSH_BYTES);
    this.fd = openSync(file, 'wx', 0o600);
  }

  override ensure(size: number): void {
    if (this.index > FLUSH_BYTES) this.flush();
    super.ensure(size);
  }

  /** Called by ParquetWriter after each row group, and here when the buffer passes FLUSH_BYTES. */
  flush(): void {
    if (this.index === 0) return;
    const chunk = new Uint8Array(this.buffer, 0, this.index);
    for (let written = 0; written < chunk.length; ) written += writeSync(this.fd, chunk, written);
    this.hash.update(chunk);
    this.index = 0;
  }

  override finish(): void {
    this.flush();
  }

  close(): { sha256: string; size: number } {
    this.flush();
    this.closeFd();
    return { sha256: this.hash.digest('hex'), size: this.offset };
  }

  abandon(): void {
    this.closeFd();
  }

  private closeFd(): void {
    if (!this.closed) closeSync(this.fd);
    this.closed = true;
  }
}
