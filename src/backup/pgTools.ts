import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { redactUrl } from '../config/redaction';

/**
 * PostgreSQL plumbing for backup and recovery: database URLs, the pg_dump/pg_restore binaries
 * of the server's major version, and per-table row counts.
 */

const execFileAsync = promisify(execFile);

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

/** A connection string without the password (which goes to the child in PGPASSWORD, not its argv). */
export function childConnection(databaseUrl: string): { dbname: string; env: NodeJS.ProcessEnv } {
  const url = new URL(databaseUrl);
  const password = decodeURIComponent(url.password);
  url.password = '';
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (password) env.PGPASSWORD = password;
  return { dbname: url.toString(), env };
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

const resolved = new Map<string, string>();

/**
 * pg_dump and pg_restore must be at least the server's major version: PG_DUMP_BIN /
 * PG_RESTORE_BIN if set, else the one on PATH when new enough, else Debian's
 * /usr/lib/postgresql/<major>/bin (scripts/ensure-pg-client.sh installs it).
 */
export async function resolvePgBinary(tool: 'pg_dump' | 'pg_restore', serverMajor: number): Promise<string> {
  const cacheKey = `${tool}:${serverMajor}`;
  const cached = resolved.get(cacheKey);
  if (cached) return cached;
  const override = process.env[tool === 'pg_dump' ? 'PG_DUMP_BIN' : 'PG_RESTORE_BIN'];
  const candidates = override ? [override] : [tool, path.join(`/usr/lib/postgresql/${serverMajor}/bin`, tool)];
  const tried: string[] = [];
  for (const candidate of candidates) {
    if (candidate.includes('/') && !existsSync(candidate)) {
      tried.push(`${candidate} (missing)`);
      continue;
    }
    const major = await toolMajor(candidate);
    if (major === undefined) tried.push(`${candidate} (not runnable)`);
    else if (major < serverMajor) tried.push(`${candidate} (version ${major})`);
    else {
      resolved.set(cacheKey, candidate);
      return candidate;
    }
  }
  throw new PgToolMissingError(
    `no ${tool} of PostgreSQL ${serverMajor} or newer found (tried ${tried.join(', ')}); run scripts/ensure-pg-client.sh ` +
      `(apt-get install postgresql-client-${serverMajor}) or set ${tool === 'pg_dump' ? 'PG_DUMP_BIN' : 'PG_RESTORE_BIN'}`,
  );
}

export class PgToolMissingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PgToolMissingError';
  }
}

async function toolMajor(bin: string): Promise<number | undefined> {
  try {
    const { stdout } = await execFileAsync(bin, ['--version']);
    const match = /(\d+)(?:\.\d+)?/.exec(stdout.replace(/^[^)]*\)/, ''));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

export interface ChildRun {
  child: ChildProcess;
  /** Resolves when the process exits 0; rejects with its stderr otherwise. */
  done: Promise<void>;
}

export function runTool(bin: string, args: string[], env: NodeJS.ProcessEnv, stdio: 'read' | 'write'): ChildRun {
  const child = spawn(bin, args, { env, stdio: stdio === 'read' ? ['ignore', 'pipe', 'pipe'] : ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    if (stderr.length < 8000) stderr += chunk.toString();
  });
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${path.basename(bin)} exited with ${code ?? signal}: ${stderr.trim().slice(-2000) || '(no output)'}`));
    });
  });
  return { child, done };
}

/**
 * The sh wrapper behind `runToolTiedToUs`: the tool runs in the background with its stdin
 * closed, while a watcher reads the wrapper's stdin (a pipe from this process) and sends the
 * tool SIGTERM when it closes — when we close it, or when this process dies, SIGKILL included.
 */
const TIED_WRAPPER = [
  'exec 3<&0',
  '"$0" "$@" </dev/null 3<&- &',
  'pid=$!',
  '{ cat <&3 >/dev/null 2>&1; kill -TERM "$pid" 2>/dev/null; } </dev/null >/dev/null 2>&1 &',
  'watcher=$!',
  'exec 3<&-',
  'wait "$pid"',
  'code=$?',
  'kill "$watcher" 2>/dev/null',
  'exit "$code"',
].join('\n');

export interface TiedRun extends ChildRun {
  /** Stops the tool (SIGTERM: pg_restore --jobs then stops its workers and cancels their queries). */
  stop(): void;
}

/**
 * Runs a tool that reads its input from a file (pg_restore --jobs), so that it never outlives
 * this process: a tool reading our stdin pipe notices our death by itself, a tool reading a file
 * would go on writing into a database a retry has already recreated.
 */
export function runToolTiedToUs(bin: string, args: string[], env: NodeJS.ProcessEnv): TiedRun {
  const child = spawn('sh', ['-c', TIED_WRAPPER, bin, ...args], { env, stdio: ['pipe', 'ignore', 'pipe'] });
  child.stdin!.on('error', () => undefined); // the wrapper may be gone already
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    if (stderr.length < 8000) stderr += chunk.toString();
  });
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      child.stdin!.destroy();
      if (code === 0) resolve();
      else reject(new Error(`${path.basename(bin)} exited with ${code ?? signal}: ${stderr.trim().slice(-2000) || '(no output)'}`));
    });
  });
  return { child, done, stop: () => child.stdin!.destroy() };
}
