import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import { NomalyClient } from '../../src/client/nomalyClient';
import { loadConfig, temporalConnectionOptions } from '../../src/config';
import { createWorker, type WorkerKind } from '../../src/workers/createWorker';
import { createLogger } from '../../src/observability/logging';
import { openPlatform } from '../../src/workers/platform';

export type TestPlatform = Awaited<ReturnType<typeof startTestPlatform>>;

/** Real PostgreSQL, MinIO and Temporal (from globalSetup), with workers running in this process. */
export async function startTestPlatform(kinds: WorkerKind[] = ['control', 'scoring']) {
  quietRuntime();
  const config = loadConfig();
  const platform = await openPlatform(config, createLogger('warn', 'nomaly-test'));
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const client = await NomalyClient.connect(config);
  const workers: Array<{ worker: Worker; done: Promise<void> }> = [];
  for (const kind of kinds) {
    const worker = await createWorker(kind, platform, {
      connection,
      namespace: config.temporal.namespace,
      workflowBundlePath: process.env.NOMALY_WORKFLOW_BUNDLE,
    });
    workers.push({ worker, done: worker.run() });
  }
  return {
    config,
    platform,
    client,
    sql: <T = Record<string, unknown>>(query: string, params: unknown[] = []) =>
      platform.orm.em.fork().getConnection().execute<T[]>(query, params),
    async stop(): Promise<void> {
      for (const { worker } of workers) worker.shutdown();
      await Promise.all(workers.map((w) => w.done));
      await client.close();
      await connection.close();
      await platform.close();
    },
  };
}

/**
 * With RECORD_HISTORIES=1, saves a finished workflow's history for the replay test, so that a
 * later change which breaks determinism fails tests/replay.
 */
export async function maybeRecordHistory(handle: WorkflowHandle, name: string): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  // The temporal CLI's JSON is the format the UI downloads and historyFromJSON reads.
  const root = path.resolve(__dirname, '../..');
  const temporal = execFileSync(path.join(root, 'scripts/ensure-binary.sh'), ['temporal']).toString().trim();
  const json = execFileSync(temporal, ['workflow', 'show', '--workflow-id', handle.workflowId, '--output', 'json', '--address', process.env.TEMPORAL_ADDRESS!]);
  const dir = path.resolve(__dirname, '../replay/histories');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${name}.json`), json);
}

export const EXAMPLE_CSV = path.resolve(__dirname, '../../examples/cardio.csv');

/** The runtime is a process singleton: install a quiet logger once, before the first worker. */
function quietRuntime(): void {
  const state = globalThis as { nomalyRuntimeInstalled?: boolean };
  if (state.nomalyRuntimeInstalled) return;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // already installed by an earlier test file in this process
  }
  state.nomalyRuntimeInstalled = true;
}
