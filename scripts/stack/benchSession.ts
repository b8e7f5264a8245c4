/**
 * What an end-to-end benchmark of jobs needs: a private stack of its own (purged at the end), a
 * client, and one control and one scoring worker process whose CPU time it can read.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { NomalyClient } from '../../src/client/nomalyClient';
import type { loadConfig } from '../../src/config';
import { writeBenchConnections } from './benchConnections';
import { startPrivateStack } from './privateStack';
import { startWorker, stopWorker, type WorkerProcess } from './workerProcesses';

export interface BenchSession {
  client: NomalyClient;
  config: ReturnType<typeof loadConfig>;
  control: WorkerProcess;
  /** The first scoring worker. */
  scoring: WorkerProcess;
  scoringWorkers: WorkerProcess[];
}

/** Runs `body` on a fresh private stack in `dataDir` with the platform database `databaseUrl`, then stops and purges the stack. */
export async function withBenchSession<T>(
  options: {
    dataDir: string;
    databaseUrl: string;
    maxDatasetBytes: number;
    log: (message: string) => void;
    /** Scoring worker processes (default 1). */
    scoringWorkers?: number;
    /** Give the workers the stack's MinIO as the "lake" connection (benchConnections.ts). */
    lake?: boolean;
    /** Each scoring worker writes a V8 CPU profile (.cpuprofile) into this folder when it stops. */
    profileDir?: string;
  },
  body: (session: BenchSession) => Promise<T>,
): Promise<T> {
  mkdirSync(options.dataDir, { recursive: true });
  const stack = await startPrivateStack({
    dataDir: options.dataDir,
    databaseUrl: options.databaseUrl,
    minioUser: 'nomaly-bench',
    minioPassword: 'nomaly-bench-secret',
    settings: { LOG_LEVEL: 'warn', NOMALY_MAX_DATASET_BYTES: String(Math.max(options.maxDatasetBytes, 100 * 2 ** 20)) },
    stopLeftovers: true,
  });
  Object.assign(process.env, stack.env);
  // Imported after the environment is set: the config is read from it.
  const { loadConfig } = await import('../../src/config');
  const { NomalyClient } = await import('../../src/client/nomalyClient');
  const config = loadConfig();
  const client = await NomalyClient.connect(config);
  const logDir = path.join(options.dataDir, 'logs', `bench-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const workers: WorkerProcess[] = [];
  try {
    const workerEnv: NodeJS.ProcessEnv = { ...stack.processEnv, LOG_LEVEL: 'warn' };
    if (options.lake) workerEnv.NOMALY_CONNECTIONS_FILE = writeBenchConnections(path.join(options.dataDir, 'connections'), config);
    workers.push(await startWorker('control', 'control', workerEnv, logDir));
    const profile = options.profileDir ? ['--cpu-prof', '--cpu-prof-dir', options.profileDir] : [];
    for (let i = 0; i < (options.scoringWorkers ?? 1); i++) workers.push(await startWorker('scoring', `scoring-${i + 1}`, workerEnv, logDir, profile));
    return await body({ client, config, control: workers[0], scoring: workers[1], scoringWorkers: workers.slice(1) });
  } finally {
    for (const w of workers.splice(0)) await stopWorker(w).catch(() => undefined);
    await client.close().catch(() => undefined);
    options.log('stopping and purging the private stack');
    stack.stop({ purge: true });
  }
}
