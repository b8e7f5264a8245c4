import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * pg_dump and pg_restore: the binaries of the server's major version, and running them as child
 * processes that get the password in their environment and never outlive this process.
 */

const execFileAsync = promisify(execFile);

/** A connection string without the password (which goes to the child in PGPASSWORD, not its argv). */
export function childConnection(databaseUrl: string): { dbname: string; env: NodeJS.ProcessEnv } {
  const url = new URL(databaseUrl);
  const password = decodeURIComponent(url.password);
  url.password = '';
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (password) env.PGPASSWORD = password;
  return { dbname: url.toString(), env };
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
  return { child, done: exitOf(child, bin) };
}

/** Resolves when the tool exits 0; rejects with the end of its stderr otherwise. `onClose` runs first either way. */
function exitOf(child: ChildProcess, bin: string, onClose: () => void = () => undefined): Promise<void> {
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    if (stderr.length < 8000) stderr += chunk.toString();
  });
  return new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      onClose();
      if (code === 0) resolve();
      else reject(new Error(`${path.basename(bin)} exited with ${code ?? signal}: ${stderr.trim().slice(-2000) || '(no output)'}`));
    });
  });
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
  const done = exitOf(child, bin, () => child.stdin!.destroy());
  return { child, done, stop: () => child.stdin!.destroy() };
}
