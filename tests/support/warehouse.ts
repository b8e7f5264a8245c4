/**
 * Test fixture for the "warehouse" source: a fresh PostgreSQL database on the local server with
 * an `orders` table filled from dayRows(), a login role that may only read it, as a detection
 * job's source connection would be in production, and a writer role that may create and write
 * tables in its public schema, as a sink's connection would be.
 */
import { Client } from 'pg';
import { dayRows, dayStartMs } from './lake';

/** The server's superuser connection; the local server trusts it (TEST_DATABASE_URL overrides). */
const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const INSERT_BATCH_ROWS = 5_000;

export interface Warehouse {
  /** The owner's (superuser's) URL of the new database: for setup and checks, not for the job. */
  url: string;
  /** The reader role's URL of the new database: what a detection job connects with. */
  readerUrl: string;
  database: string;
  readerRole: string;
  /** The writer role's URL: a sink's connection (CREATE and USAGE on the public schema, nothing on orders). */
  writerUrl: string;
  /** Inserts dayRows(day, rowsPerDay, { seed }) for each day and returns each day's anomalous order ids. */
  insertDays(days: string[], rowsPerDay: number, seed?: number): Promise<Record<string, string[]>>;
  /** Orders inserted for a day by this fixture (0 for a day never inserted). */
  orders(day: string): number;
  /** Ends every session on the database and drops it; drops the reader role too once no database of this process uses it. */
  drop(): Promise<void>;
}

let created = 0;
const liveWarehouses = new Set<string>();

function urlFor(user: string, database: string): string {
  const url = new URL(ADMIN_URL);
  url.username = user;
  url.password = '';
  url.pathname = `/${database}`;
  return url.toString();
}

function quoted(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * The order id of row `row` of a day: YYYYMMDD × 1,000,000 + row, so ids are unique across days,
 * sort by time and say which dayRows() row they came from (e.g. 20261201000042).
 */
export function orderId(day: string, row: number): string {
  return `${day.replace(/-/g, '')}${String(row).padStart(6, '0')}`;
}

/** Creates nomaly_wh_<name>_<pid>_<n> (name default "test") with its orders table and reader role. */
export async function createWarehouse(name = 'test'): Promise<Warehouse> {
  if (!/^[a-z0-9_]{1,20}$/.test(name)) throw new RangeError(`warehouse name must be 1-20 lowercase letters, digits or underscores, got "${name}"`);
  const database = `nomaly_wh_${name}_${process.pid}_${++created}`;
  const readerRole = `nomaly_wh_reader_${process.pid}`;
  const writerRole = `nomaly_wh_writer_${process.pid}`;
  const url = urlFor(new URL(ADMIN_URL).username, database);
  const inserted = new Map<string, number>();

  await withClient(ADMIN_URL, async (admin) => {
    await admin.query(`CREATE DATABASE ${quoted(database)}`);
    // Trust authentication on the local server: the role logs in without a password, so the
    // connection entry needs no password file. CREATE ROLE has no IF NOT EXISTS: check first.
    for (const name of [readerRole, writerRole]) {
      const role = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
      if (role.rowCount === 0) {
        try {
          await admin.query(`CREATE ROLE ${quoted(name)} LOGIN`);
        } catch (err) {
          if ((err as { code?: string }).code !== '42710') throw err; // created meanwhile by a sibling call
        }
      }
      await admin.query(`GRANT CONNECT ON DATABASE ${quoted(database)} TO ${quoted(name)}`);
    }
  });
  liveWarehouses.add(database);
  await withClient(url, async (owner) => {
    await owner.query(
      `CREATE TABLE orders (id bigint PRIMARY KEY, created_at timestamptz NOT NULL, amount float8, n_items int, latency_ms float8, discount float8)`,
    );
    await owner.query(`GRANT USAGE ON SCHEMA public TO ${quoted(readerRole)}`);
    await owner.query(`GRANT SELECT ON orders TO ${quoted(readerRole)}`);
    await owner.query(`GRANT USAGE, CREATE ON SCHEMA public TO ${quoted(writerRole)}`);
  });

  return {
    url,
    readerUrl: urlFor(readerRole, database),
    database,
    readerRole,
    writerUrl: urlFor(writerRole, database),
    async insertDays(days, rowsPerDay, seed = 0) {
      const anomalies: Record<string, string[]> = {};
      await withClient(url, async (owner) => {
        for (const day of days) {
          const rows = dayRows(day, rowsPerDay, { seed });
          const rowOf = new Map(rows.ids.map((id, r) => [id, r]));
          for (let start = 0; start < rowsPerDay; start += INSERT_BATCH_ROWS) {
            await insertBatch(owner, day, rows, start, Math.min(rowsPerDay, start + INSERT_BATCH_ROWS));
          }
          anomalies[day] = rows.anomalyIds.map((id) => orderId(day, rowOf.get(id)!));
          inserted.set(day, (inserted.get(day) ?? 0) + rowsPerDay);
        }
      });
      return anomalies;
    },
    orders: (day) => inserted.get(day) ?? 0,
    async drop() {
      await withClient(ADMIN_URL, async (admin) => {
        // WITH (FORCE) terminates the database's sessions first (a reader a test left open).
        await admin.query(`DROP DATABASE IF EXISTS ${quoted(database)} WITH (FORCE)`);
        liveWarehouses.delete(database);
        if (liveWarehouses.size > 0) return;
        for (const name of [readerRole, writerRole]) {
          try {
            await admin.query(`DROP ROLE IF EXISTS ${quoted(name)}`);
          } catch (err) {
            // 2BP01: another database still grants it something; leave it for reuse.
            if ((err as { code?: string }).code !== '2BP01') throw err;
          }
        }
      });
    },
  };
}

/** One multi-row INSERT: each column goes up as one array parameter, so the statement stays small. */
async function insertBatch(client: Client, day: string, rows: ReturnType<typeof dayRows>, start: number, end: number): Promise<void> {
  const ids: string[] = [];
  const createdAt: string[] = [];
  const columns: number[][] = [[], [], [], []];
  for (let r = start; r < end; r++) {
    ids.push(orderId(day, r));
    createdAt.push(rows.createdAt[r]);
    for (let c = 0; c < 4; c++) columns[c].push(rows.features[r * 4 + c]);
  }
  await client.query(
    `INSERT INTO orders (id, created_at, amount, n_items, latency_ms, discount)
     SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::float8[], $4::int[], $5::float8[], $6::float8[])`,
    [ids, createdAt, ...columns],
  );
}

/** The [start, end) of a day in UTC, as parameters for `created_at >= $1 AND created_at < $2`. */
export function dayRange(day: string): [Date, Date] {
  const start = dayStartMs(day);
  return [new Date(start), new Date(start + 86_400_000)];
}

/**
 * The warehouse's entry for lakeConnectionFile's extras: the reader role's URL. The local server
 * trusts connections from 127.0.0.1, so there is no password and no password file.
 */
export function warehouseConnectionEntry(w: Pick<Warehouse, 'readerUrl'>): { kind: 'postgres'; url: string } {
  return { kind: 'postgres', url: w.readerUrl };
}
