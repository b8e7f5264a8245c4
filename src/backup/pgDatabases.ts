import { Client } from 'pg';
import { redactUrl } from '../config/redaction';

/**
 * PostgreSQL databases as backup and recovery handle them: URLs and names, admin connections,
 * creating, dropping and granting, per-table row counts, the server's version.
 */

export function databaseNameOf(databaseUrl: string): string {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ''));
  if (!name) throw new Error(`DATABASE_URL=${redactUrl(databaseUrl)} names no database`);
  return name;
}

export function urlForDatabase(databaseUrl: string, name: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${encodeURIComponent(name)}`;
  return url.toString();
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Database names we create: 63 bytes at most, lowercase, digits and underscores. */
export function derivedDatabaseName(base: string, suffix: string): string {
  const clean = `_${suffix}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  return `${base.slice(0, 63 - clean.length)}${clean}`;
}

export async function withAdmin<T>(databaseUrl: string, work: (admin: Client) => Promise<T>): Promise<T> {
  const admin = new Client({ connectionString: urlForDatabase(databaseUrl, 'postgres') });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end().catch(() => undefined);
  }
}

export async function withDatabase<T>(databaseUrl: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function dropDatabaseIfExists(databaseUrl: string, name: string): Promise<void> {
  await withAdmin(databaseUrl, (admin) => admin.query(`drop database if exists ${quoteIdent(name)} with (force)`));
}

export async function createEmptyDatabase(databaseUrl: string, name: string, owner?: string): Promise<void> {
  await withAdmin(databaseUrl, async (admin) => {
    await admin.query(`drop database if exists ${quoteIdent(name)} with (force)`);
    await admin.query(`create database ${quoteIdent(name)} template template0${owner ? ` owner ${quoteIdent(owner)}` : ''}`);
  });
}

/**
 * What scripts/provision-roles.sh grants, applied to a database restored by a recovery (pg_restore
 * runs with --no-privileges): only the roles named here may connect, and `reader` (the backup
 * role) may read every table and sequence `owner` (the application role) has or will create.
 */
export async function applyRoleGrants(databaseUrl: string, owner: string, reader: string, connectors: string[]): Promise<void> {
  await withDatabase(databaseUrl, async (client) => {
    const [o, r] = [quoteIdent(owner), quoteIdent(reader)];
    const db = quoteIdent(databaseNameOf(databaseUrl));
    await client.query(`set role ${o}`);
    await client.query(`revoke all on database ${db} from public`);
    await client.query(`grant connect, temporary on database ${db} to ${[...new Set([owner, reader, ...connectors])].map(quoteIdent).join(', ')}`);
    await client.query('revoke create on schema public from public');
    await client.query(`grant usage on schema public to ${r}`);
    await client.query(`grant select on all tables in schema public to ${r}`);
    await client.query(`grant select on all sequences in schema public to ${r}`);
    await client.query(`alter default privileges for role ${o} in schema public grant select on tables to ${r}`);
    await client.query(`alter default privileges for role ${o} in schema public grant select on sequences to ${r}`);
  });
}

/** The role a connection URL logs in as. */
export function userOf(databaseUrl: string): string {
  return decodeURIComponent(new URL(databaseUrl).username) || process.env.PGUSER || process.env.USER || 'postgres';
}

export async function databaseExists(databaseUrl: string, name: string): Promise<boolean> {
  return withAdmin(databaseUrl, async (admin) => (await admin.query('select 1 from pg_database where datname = $1', [name])).rowCount === 1);
}

/** Exact row counts of every user table, on whatever snapshot `client`'s transaction sees. */
export async function tableRowCounts(client: Client): Promise<Record<string, number>> {
  const tables = await client.query<{ schemaname: string; tablename: string }>(
    `select schemaname, tablename from pg_tables
      where schemaname not in ('pg_catalog', 'information_schema') and schemaname not like 'pg_temp%'
      order by schemaname, tablename`,
  );
  const counts: Record<string, number> = {};
  for (const { schemaname, tablename } of tables.rows) {
    const { rows } = await client.query<{ n: string }>(`select count(*) as n from ${quoteIdent(schemaname)}.${quoteIdent(tablename)}`);
    counts[schemaname === 'public' ? tablename : `${schemaname}.${tablename}`] = Number(rows[0].n);
  }
  return counts;
}

export function compareRowCounts(expected: Record<string, number>, actual: Record<string, number>): string[] {
  const problems: string[] = [];
  for (const table of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
    if (expected[table] !== actual[table]) {
      problems.push(`table ${table}: ${actual[table] ?? 'missing'} rows restored, the backup recorded ${expected[table] ?? 'none'}`);
    }
  }
  return problems;
}

export async function serverVersion(client: Client): Promise<{ version: string; major: number }> {
  const { rows } = await client.query<{ server_version: string; num: string }>(
    "select current_setting('server_version') as server_version, current_setting('server_version_num') as num",
  );
  return { version: rows[0].server_version, major: Math.floor(Number(rows[0].num) / 10000) };
}
