import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../repoRoot';
import { freePorts } from '../../src/workers/freePorts';

/**
 * A private Temporal + MinIO + PostgreSQL stack for tests and benchmarks, brought up by the same
 * scripts a user runs, in a data folder of its own, so it never meets anybody's stack:
 *   - `dev`: scripts/stack-up.sh (Temporal dev server on SQLite), every port chosen free here;
 *   - `production`: scripts/prod-stack-up.sh (Temporal server on PostgreSQL), which picks its
 *     own free ports.
 * PostgreSQL is the server at DATABASE_URL, or a private cluster when none answers there;
 * either way the stack's `env` carries the DATABASE_URL the stack really uses.
 */
export type Topology = 'dev' | 'production';

export interface PrivateStackOptions {
  topology?: Topology;
  /** Where the stack keeps its state, pids and logs (NOMALY_DATA_DIR). */
  dataDir: string;
  /** The platform database; on the dev topology a private cluster replaces it when no server answers. */
  databaseUrl: string;
  minioUser: string;
  minioPassword: string;
  /** Also start the control and scoring workers (from dist/), as a user's stack does. */
  workers?: boolean;
  /** More settings for the stack scripts (TEMPORAL_DB, NOMALY_CONTROL_WORKERS, ...). */
  settings?: Record<string, string>;
  /** The environment the stack scripts inherit, before the settings above (default process.env). */
  inherit?: NodeJS.ProcessEnv;
  /** The stack scripts' stdout goes to ours (their stderr always does). */
  verbose?: boolean;
  /** First stop whatever an earlier run left in dataDir (its ports are not ours any more). */
  stopLeftovers?: boolean;
}

export interface PrivateStack {
  topology: Topology;
  /** Everything a client or worker of this stack needs: ports, addresses, credentials, DATABASE_URL. */
  env: Record<string, string>;
  /** The inherited environment without any other stack's addresses, plus `env`: for this stack's worker processes. */
  processEnv: NodeJS.ProcessEnv;
  /** Stops the services; with purge, also drops the platform database and deletes dataDir. */
  stop(options?: { purge?: boolean }): void;
}

/** Environment settings that point at some other stack and must not leak into a private one. */
const OTHER_STACK = ['TEMPORAL_ADDRESS', 'TEMPORAL_PORT', 'TEMPORAL_UI_PORT', 'TEMPORAL_UI_URL', 'MINIO_PORT', 'MINIO_CONSOLE_PORT', 'MINIO_ENDPOINT', 'NOMALY_WORKFLOW_BUNDLE'];

export async function startPrivateStack(options: PrivateStackOptions): Promise<PrivateStack> {
  const topology = options.topology ?? 'dev';
  const inherited = { ...(options.inherit ?? process.env) };
  for (const key of OTHER_STACK) delete inherited[key];
  const settings: Record<string, string> = {
    NOMALY_DATA_DIR: options.dataDir,
    DATABASE_URL: options.databaseUrl,
    MINIO_ROOT_USER: options.minioUser,
    MINIO_ROOT_PASSWORD: options.minioPassword,
    LOG_LEVEL: 'warn',
    ...(topology === 'dev' ? await devPorts(Boolean(options.workers)) : {}),
    ...options.settings,
  };
  const scriptEnv = { ...inherited, ...settings };
  if (options.stopLeftovers) stopStack(topology, scriptEnv, false);
  const up = topology === 'dev' ? 'stack-up.sh' : 'prod-stack-up.sh';
  execFileSync(path.join(repoRoot, 'scripts', up), options.workers ? [] : ['--services-only'], {
    env: scriptEnv,
    stdio: ['ignore', options.verbose ? 'inherit' : 'ignore', 'inherit'],
  });
  const env = { ...settings, ...readStackEnv(path.join(options.dataDir, 'stack.env')) };
  const processEnv = { ...inherited, ...env };
  return {
    topology,
    env,
    processEnv,
    stop: ({ purge = false } = {}) => stopStack(topology, processEnv, purge),
  };
}

/**
 * Stops the stack whose settings are in `env` (its NOMALY_DATA_DIR above all), e.g. from a
 * process other than the one that started it. Never throws: a stop is a best effort.
 */
export function stopStack(topology: Topology, env: NodeJS.ProcessEnv, purge: boolean): void {
  const down = topology === 'dev' ? 'stack-down.sh' : 'prod-stack-down.sh';
  try {
    execFileSync(path.join(repoRoot, 'scripts', down), purge ? ['--purge'] : [], { env, stdio: 'ignore' });
  } catch (err) {
    console.error(`${down}: ${(err as Error).message}`);
  }
}

/** The variables a stack script wrote to stack.env (`export NAME='value'` lines). */
export function readStackEnv(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^export (\w+)='(.*)'$/.exec(line);
    if (m) env[m[1]] = m[2];
  }
  return env;
}

/** Free ports for every service of the dev stack, instead of its defaults that another stack may hold. */
async function devPorts(workers: boolean): Promise<Record<string, string>> {
  const [temporal, ui, minio, minioConsole, pg, control, scoring] = await freePorts(7);
  return {
    TEMPORAL_PORT: String(temporal),
    TEMPORAL_UI_PORT: String(ui),
    TEMPORAL_ADDRESS: `127.0.0.1:${temporal}`,
    TEMPORAL_UI_URL: `http://127.0.0.1:${ui}`,
    MINIO_PORT: String(minio),
    MINIO_CONSOLE_PORT: String(minioConsole),
    MINIO_ENDPOINT: `http://127.0.0.1:${minio}`,
    NOMALY_PRIVATE_PG_PORT: String(pg),
    ...(workers ? { CONTROL_HTTP_PORT: String(control), SCORING_HTTP_PORT: String(scoring) } : {}),
  };
}
