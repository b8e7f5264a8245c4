/**
 * extractQuery against a real PostgreSQL (127.0.0.1:5432, trust authentication as postgres, or
 * TEST_DATABASE_URL): a database and a reader role of its own, dropped afterwards. It needs no
 * Temporal or MinIO, so it runs with the unit tests. Trust authentication checks no password, so
 * the authentication failure is shown with a role that does not exist (SQLSTATE 28000).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Client } from 'pg';
import { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet';
import type { PostgresConnection } from '../../../src/sources/connections';
import { extractQuery, SourceAuthError, SourceQueryError } from '../../../src/sources/postgresExtract';

const admin = new URL(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
const database = `nomaly_wh_${process.pid}`;
const reader = `nomaly_wh_reader_${process.pid}`;
const ORDERS = 10_000;
const BIG_ROWS = 500_000;

const warehouse: PostgresConnection = {
  name: 'warehouse',
  kind: 'postgres',
  host: admin.hostname,
  port: Number(admin.port || 5432),
  database,
  user: reader,
  password: 'reader-pw-unused-by-trust',
  ssl: false,
  statementTimeoutMs: 60_000,
};

function adminClient(db: string): Client {
  const url = new URL(admin.toString());
  url.pathname = `/${db}`;
  return new Client({ connectionString: url.toString() });
}

async function sql(db: string, ...statements: string[]): Promise<void> {
  const client = adminClient(db);
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

async function count(table: string): Promise<number> {
  const client = adminClient(database);
  await client.connect();
  try {
    return Number((await client.query(`select count(*) from ${table}`)).rows[0].count);
  } finally {
    await client.end();
  }
}

const tmpDirs: string[] = [];
function tmpDir(): string {
  tmpDirs.push(mkdtempSync(path.join(os.tmpdir(), 'nomaly-extract-test-')));
  return tmpDirs[tmpDirs.length - 1];
}

function readBack(file: string) {
  const bytes = readFileSync(file);
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const metadata = parquetMetadata(ab);
  return { bytes, metadata, rows: () => parquetReadObjects({ file: ab, metadata }) };
}

async function thrown(work: Promise<unknown>): Promise<Error> {
  try {
    await work;
  } catch (err) {
    return err as Error;
  }
  throw new Error('the extract succeeded');
}

beforeAll(async () => {
  await sql(
    'postgres',
    `drop database if exists ${database} with (force)`,
    `drop role if exists ${reader}`,
    `create database ${database}`,
    `create role ${reader} login password '${warehouse.password}'`,
  );
  await sql(
    database,
    // One order a minute from 2024-01-01; some amounts and countries missing (NULL).
    `create table orders(id bigint primary key, created_at timestamptz not null, amount float8, n_items int, country text)`,
    `insert into orders
       select g, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute',
              case when g % 97 = 0 then null else round((g * 7.31 % 1000)::numeric, 2)::float8 / 3 end,
              g % 13, case when g % 89 = 0 then null else (array['FR','DE','US','JP','BR'])[g % 5 + 1] end
       from generate_series(1, ${ORDERS}) g`,
    `create sequence order_numbers`,
    // Whatever the reader may write outside the extract, the read-only transaction must stop it.
    `create function add_order() returns bigint language sql as 'insert into orders values (-1, now(), 1, 1, ''XX'') returning id'`,
    `grant select, insert, update, delete on orders to ${reader}`,
    `grant usage on sequence order_numbers to ${reader}`,
  );
});

afterAll(async () => {
  for (const dir of tmpDirs) rmSync(dir, { recursive: true, force: true });
  await sql('postgres', `drop database if exists ${database} with (force)`, `drop role if exists ${reader}`);
});

describe('extractQuery', () => {
  const windowQuery = {
    text: 'select id, created_at, amount, n_items, country from orders where created_at >= $1 and created_at < $2 order by id',
    values: ['2024-01-02T00:00:00Z', '2024-01-05T00:00:00Z'],
  };

  it('writes the rows of a time window as typed Parquet row groups equal to a direct SELECT', async () => {
    const progress: number[] = [];
    const result = await extractQuery(warehouse, windowQuery, { idColumn: 'id', rowGroupRows: 1000, tmpDir: tmpDir(), onProgress: (rows) => progress.push(rows) });

    const client = adminClient(database);
    await client.connect();
    const expected = await client
      .query({ text: windowQuery.text.replace('select id, created_at', 'select id::text, extract(epoch from created_at)::float8 * 1000 as created_at'), values: windowQuery.values })
      .finally(() => client.end());
    expect(expected.rows.length).toBe(3 * 24 * 60);

    expect(result.rows).toBe(expected.rows.length);
    expect(result.columns).toEqual([
      { name: 'id', type: 'STRING' },
      { name: 'created_at', type: 'TIMESTAMP' },
      { name: 'amount', type: 'DOUBLE' },
      { name: 'n_items', type: 'DOUBLE' },
      { name: 'country', type: 'STRING' },
    ]);
    expect(progress.at(-1)).toBe(result.rows);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));

    const { bytes, metadata, rows } = readBack(result.file);
    expect(result.size).toBe(bytes.length);
    expect(result.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(metadata.row_groups.map((g) => Number(g.num_rows))).toEqual([1000, 1000, 1000, 1000, 320]);
    const schema = parquetSchema(metadata).children.map((c) => [c.element.name, c.element.type, c.element.repetition_type]);
    expect(schema).toEqual([
      ['id', 'BYTE_ARRAY', 'OPTIONAL'],
      ['created_at', 'INT64', 'OPTIONAL'],
      ['amount', 'DOUBLE', 'OPTIONAL'],
      ['n_items', 'DOUBLE', 'OPTIONAL'],
      ['country', 'BYTE_ARRAY', 'OPTIONAL'],
    ]);
    const written = await rows();
    // A timestamptz is its instant, in milliseconds (read back as a Date).
    expect(written).toEqual(expected.rows.map((r) => ({ ...r, created_at: new Date(r.created_at) })));
    expect(written.some((r) => r.amount === null) && written.some((r) => r.country === null)).toBe(true);
  });

  it('gives every numeric type the double of its text, NULLs exact, over many columns and odd names', async () => {
    // More integer/float8 columns than one packed value holds, NULLs in some, values a double
    // cannot hold exactly, and numeric/float4 (kept as text) beside them.
    const many = Array.from({ length: 40 }, (_, k) => `case when (g + ${k}) % 11 = 0 then null else g * ${k + 1} end as c${k}`).join(', ');
    const text = `select g::text as label,
        case when g % 3 = 0 then null else g::int2 end as "we""ird",
        case when g % 5 = 0 then null else 9007199254740993 + g end as big,
        (array['NaN', 'Infinity', '-Infinity', '-0', '1e-310', '0.1'])[g % 6 + 1]::float8 as special,
        (g / 7.0)::float4 as f4, (g / 3.0)::numeric(40, 30) as num, ${many}
      from generate_series(1, 2500) g -- a trailing comment`;
    const result = await extractQuery(warehouse, { text, values: [] }, { idColumn: 'label', rowGroupRows: 1000, tmpDir: tmpDir() });

    const client = adminClient(database);
    await client.connect();
    const asText = { getTypeParser: () => (value: string) => value } as never;
    const direct = await client.query<string[]>({ text, rowMode: 'array', types: asText }).finally(() => client.end());
    expect(result.columns.map((c) => c.type)).toEqual(direct.fields.map((f) => (f.name === 'label' ? 'STRING' : 'DOUBLE')));
    const expected = direct.rows.map((row) =>
      Object.fromEntries(row.map((cell, i) => [direct.fields[i].name, cell === null || i === 0 ? cell : Number(cell)])),
    );
    expect(await readBack(result.file).rows()).toEqual(expected);
    expect(expected.some((r) => r.c39 === null) && expected.some((r) => Object.is(r.special, -0))).toBe(true);
  });

  it('keeps booleans, timestamps with and without a zone, and dates typed; text stays text', async () => {
    const text = `select g as n, (g % 3 = 0) as flag, case when g % 4 = 0 then null else g % 2 = 0 end as maybe,
        timestamp '2026-03-01 12:30:00' + g * interval '1 hour' as local_time,
        case when g = 5 then timestamptz 'infinity' when g % 7 = 0 then null else timestamptz '2026-03-01 12:30:00.250+02' + g * interval '1 minute' end as zoned,
        date '2026-03-01' + g as day, (array['NZ', 'DE', null])[g % 3 + 1] as country
      from generate_series(1, 30) g order by g`;
    const result = await extractQuery(warehouse, { text, values: [] }, { tmpDir: tmpDir() });
    expect(result.columns).toEqual([
      { name: 'n', type: 'DOUBLE' },
      { name: 'flag', type: 'BOOLEAN' },
      { name: 'maybe', type: 'BOOLEAN' },
      { name: 'local_time', type: 'TIMESTAMP' },
      { name: 'zoned', type: 'TIMESTAMP' },
      { name: 'day', type: 'TIMESTAMP' },
      { name: 'country', type: 'STRING' },
    ]);
    const { metadata, rows } = readBack(result.file);
    expect(parquetSchema(metadata).children.map((c) => [c.element.name, c.element.type, c.element.converted_type])).toEqual([
      ['n', 'DOUBLE', undefined],
      ['flag', 'BOOLEAN', undefined],
      ['maybe', 'BOOLEAN', undefined],
      ['local_time', 'INT64', 'TIMESTAMP_MILLIS'],
      ['zoned', 'INT64', 'TIMESTAMP_MILLIS'],
      ['day', 'INT64', 'TIMESTAMP_MILLIS'],
      ['country', 'BYTE_ARRAY', 'UTF8'],
    ]);
    const expected = Array.from({ length: 30 }, (_, i) => {
      const g = i + 1;
      return {
        n: g,
        flag: g % 3 === 0,
        maybe: g % 4 === 0 ? null : g % 2 === 0,
        // Without a zone: the wall time as UTC.
        local_time: new Date(Date.UTC(2026, 2, 1, 12 + g, 30)),
        // infinity has no instant: a null, as a missing value.
        zoned: g === 5 || g % 7 === 0 ? null : new Date(Date.UTC(2026, 2, 1, 10, 30 + g, 0, 250)),
        day: new Date(Date.UTC(2026, 2, 1 + g)),
        country: ['NZ', 'DE', null][(g % 3)],
      };
    });
    expect(await rows()).toEqual(expected);
  });

  it('binds values as parameters: SQL in a value matches nothing and runs nothing; no rows still gives the columns', async () => {
    const result = await extractQuery(warehouse, { text: 'select id, amount from orders where country = $1', values: ["'; drop table orders; --"] }, { tmpDir: tmpDir() });
    expect(result.rows).toBe(0);
    const { metadata, rows } = readBack(result.file);
    expect(Number(metadata.num_rows)).toBe(0);
    expect(parquetSchema(metadata).children.map((c) => [c.element.name, c.element.type])).toEqual([['id', 'DOUBLE'], ['amount', 'DOUBLE']]);
    expect(await rows()).toEqual([]);
    expect(await count('orders')).toBe(ORDERS);
  });

  it('refuses writes: the transaction is read-only and the text is one query', async () => {
    const dir = tmpDir();
    const refusal = async (text: string) => {
      const err = await thrown(extractQuery(warehouse, { text, values: [] }, { tmpDir: dir }));
      expect(err).toBeInstanceOf(SourceQueryError);
      return err as SourceQueryError;
    };
    // A write reaching the executor: the read-only transaction refuses it (SQLSTATE 25006).
    const viaFunction = await refusal('select add_order()');
    expect(viaFunction.sqlstate).toBe('25006');
    expect(viaFunction.message).toBe('connection "warehouse": the query failed: cannot execute INSERT in a read-only transaction (SQLSTATE 25006)');
    expect((await refusal("select nextval('order_numbers')")).sqlstate).toBe('25006');
    // An INSERT in a CTE never gets that far: PostgreSQL refuses a cursor over a data-modifying WITH (0A000).
    expect((await refusal('with added as (insert into orders values (-2, now(), 1, 1, $$XX$$) returning id) select * from added')).sqlstate).toBe('0A000');
    expect((await refusal('insert into orders values (-3, now(), 1, 1, $$XX$$)')).sqlstate).toBe('42601');
    expect((await refusal('select 1; delete from orders')).sqlstate).toBe('42601');
    // Signalling the admin's backend is beyond the reader role.
    const victim = adminClient(database);
    await victim.connect();
    try {
      const pid = String((await victim.query('select pg_backend_pid() as pid')).rows[0].pid);
      const err = await thrown(extractQuery(warehouse, { text: 'select pg_terminate_backend($1::int)', values: [pid] }, { tmpDir: dir }));
      expect(err).toMatchObject({ name: 'SourceQueryError', sqlstate: '42501' });
      expect((await victim.query('select 1 as alive')).rows).toEqual([{ alive: 1 }]);
    } finally {
      await victim.end();
    }
    expect(await count('orders')).toBe(ORDERS);
    expect(readdirSync(dir)).toEqual([]); // no half-written file is left behind
  });

  it('tells the query\'s own errors (permanent, with SQLSTATE) from an unreachable server (retryable)', async () => {
    const unknownColumn = await thrown(extractQuery(warehouse, { text: 'select nope from orders', values: [] }));
    expect(unknownColumn).toBeInstanceOf(SourceQueryError);
    expect(unknownColumn.message).toBe('connection "warehouse": the query failed: column "nope" does not exist (SQLSTATE 42703)');
    expect(unknownColumn).toMatchObject({ permanent: true, sqlstate: '42703' });
    const syntax = await thrown(extractQuery(warehouse, { text: 'selec id from orders', values: [] }));
    expect(syntax).toMatchObject({ name: 'SourceQueryError', sqlstate: '42601' });
    const noId = await thrown(extractQuery(warehouse, { text: 'select id, amount from orders', values: [] }, { idColumn: 'order_id' }));
    expect(noId).toBeInstanceOf(SourceQueryError);
    expect(noId.message).toBe('connection "warehouse": the query has no column "order_id" (the id column); its columns: id, amount');
    const twice = await thrown(extractQuery(warehouse, { text: 'select id, amount as id from orders', values: [] }));
    expect(twice.message).toMatch(/more than one column named "id"/);

    const refused = await thrown(extractQuery({ ...warehouse, port: 1 }, { text: 'select 1', values: [] }));
    expect(refused).not.toBeInstanceOf(SourceQueryError);
    expect(refused).not.toBeInstanceOf(SourceAuthError);
    expect(refused.message).toMatch(/^connection "warehouse": .*ECONNREFUSED/);
    const slow = await thrown(extractQuery({ ...warehouse, statementTimeoutMs: 100 }, { text: 'select pg_sleep(5)', values: [] }));
    expect(slow).not.toBeInstanceOf(SourceQueryError);
    expect(slow.message).toBe('connection "warehouse": canceling statement due to statement timeout (SQLSTATE 57014)');
    for (const err of [unknownColumn, syntax, noId, refused, slow]) expect(err.message).not.toContain(warehouse.password);
  });

  it('lets an error of onProgress (a cancelled heartbeat) through as it is, leaving no file', async () => {
    class Cancelled extends Error {}
    const dir = tmpDir();
    const err = await thrown(extractQuery(warehouse, windowQuery, { rowGroupRows: 1000, tmpDir: dir, onProgress: () => { throw new Cancelled('cancelled'); } }));
    expect(err).toBeInstanceOf(Cancelled);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('reports an unknown role as an authentication failure naming the connection, not the password', async () => {
    const nobody = `nomaly_wh_nobody_${process.pid}`;
    const err = await thrown(extractQuery({ ...warehouse, user: nobody }, { text: 'select 1', values: [] }));
    expect(err).toBeInstanceOf(SourceAuthError);
    expect(err).toMatchObject({ permanent: true, sqlstate: '28000' });
    expect(err.message).toMatch(new RegExp(`^connection "warehouse": authentication failed for user "${nobody}"`));
    expect(err.message).not.toContain(warehouse.password);
  });

  it('holds about one row group in memory, not the whole result', async () => {
    await sql(
      database,
      `create table big as select g::bigint as id, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second' as created_at,
         (g % 1000) / 7.0::float8 as amount, g % 13 as n_items, (array['FR','DE','US','JP','BR'])[g % 5 + 1] as country
       from generate_series(1, ${BIG_ROWS}) g`,
      `grant select on big to ${reader}`,
    );
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const live = () => {
      gc();
      return process.memoryUsage().heapUsed;
    };
    const query = { text: 'select id, created_at, amount, n_items, country from big', values: [] };

    const before = live();
    let peak = 0;
    const result = await extractQuery(warehouse, query, { idColumn: 'id', rowGroupRows: 50_000, tmpDir: tmpDir(), onProgress: () => (peak = Math.max(peak, live() - before)) });
    expect(result.rows).toBe(BIG_ROWS);

    // What holding every row costs: the same rows read whole with pg.
    const client = adminClient(database);
    await client.connect();
    const base = live();
    const all = await client.query(query.text).finally(() => client.end());
    const whole = live() - base;
    expect(all.rows.length).toBe(BIG_ROWS);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(whole / 4);
    expect(readBack(result.file).metadata.row_groups).toHaveLength(BIG_ROWS / 50_000);
  });
});
