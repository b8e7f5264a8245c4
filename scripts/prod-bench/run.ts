/**
 * Workflow start → first activity start latency on the production topology (issue #7).
 *
 *   npm run bench:prod                         # private production stack (prod-stack-up.sh), 200 starts
 *   BENCH_STARTS=500 npm run bench:prod
 *   TEMPORAL_ADDRESS=… npm run bench:prod      # an existing stack with control workers running
 *   BENCH_TOPOLOGY=dev npm run bench:prod      # the same on the dev server (SQLite), for comparison
 *
 * The workflow is the product's `maintenance` (one JSON input; its first step is the
 * removeExpiredModels activity on the nomaly-control queue, which reads the registry), started
 * through @temporalio/client as the CLI and UI do. Per start, from the workflow's history
 * (server timestamps; ActivityTaskStarted carries the time the worker picked the task up):
 *   start→activity     WorkflowExecutionStarted → first ActivityTaskStarted   (the headline)
 *   client→activity    the client's start() call → first ActivityTaskStarted (adds the start RPC)
 * and its parts: → first WorkflowTaskStarted (matching dispatch to a control worker),
 * → ActivityTaskScheduled (the worker runs workflow code and completes the task),
 * → ActivityTaskStarted (matching dispatch of the activity).
 * Two runs: `sequential` (one workflow at a time, BENCH_STARTS of them, after BENCH_WARMUP) and
 * `burst` (BENCH_STARTS started at once). Writes bench/prod-latency-last-run.md (or
 * bench/dev-latency-last-run.md with BENCH_TOPOLOGY=dev).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { tsToMs } from '@temporalio/common/lib/time';
import { repoRoot as root } from '../repoRoot';
import { startPrivateStack, type PrivateStack } from '../stack/privateStack';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
interface Stats { p50: number; p95: number; p99: number; max: number; mean: number }
interface Sample { startToActivity: number; clientToActivity: number; toWorkflowTask: number; toScheduled: number; toActivityStart: number }
interface RunResult { label: string; count: number; wallSeconds: number; stats: Record<keyof Sample, Stats> }

const starts = Number(process.env.BENCH_STARTS ?? 200);
const warmup = Number(process.env.BENCH_WARMUP ?? 20);
const external = Boolean(process.env.TEMPORAL_ADDRESS);
const topology = process.env.BENCH_TOPOLOGY ?? 'production';
if (!['production', 'dev'].includes(topology)) throw new Error(`BENCH_TOPOLOGY=${topology}: expected production or dev`);
const dataDir = process.env.BENCH_DATA_DIR ?? path.join(os.tmpdir(), `nomaly-prod-bench-${process.pid}`);

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

function stats(values: number[]): Stats {
  const s = [...values].sort((a, b) => a - b);
  return { p50: quantile(s, 0.5), p95: quantile(s, 0.95), p99: quantile(s, 0.99), max: s[s.length - 1], mean: s.reduce((a, b) => a + b, 0) / s.length };
}

async function measure(handle: WorkflowHandle, clientStartMs: number): Promise<Sample> {
  await handle.result();
  const events = (await handle.fetchHistory()).events ?? [];
  const find = (what: string, test: (e: HistoryEvent) => unknown): HistoryEvent => {
    const event = events.find(test);
    if (!event) throw new Error(`${handle.workflowId}: no ${what} in its history`);
    return event;
  };
  const time = (e: HistoryEvent) => tsToMs(e.eventTime);
  const started = find('WorkflowExecutionStarted', (e) => e.workflowExecutionStartedEventAttributes);
  const firstWft = find('WorkflowTaskStarted', (e) => e.workflowTaskStartedEventAttributes);
  const scheduled = find('ActivityTaskScheduled', (e) => e.activityTaskScheduledEventAttributes);
  const activityStarted = find('ActivityTaskStarted', (e) =>
    e.activityTaskStartedEventAttributes && Number(e.activityTaskStartedEventAttributes.scheduledEventId) === Number(scheduled.eventId));
  return {
    startToActivity: time(activityStarted) - time(started),
    clientToActivity: time(activityStarted) - clientStartMs,
    toWorkflowTask: time(firstWft) - time(started),
    toScheduled: time(scheduled) - time(firstWft),
    toActivityStart: time(activityStarted) - time(scheduled),
  };
}

async function run(client: Client, label: string, count: number, concurrent: boolean): Promise<RunResult> {
  const id = `bench-latency-${label}-${Date.now()}`;
  const start = async (i: number) => {
    const t0 = Date.now();
    const handle = await client.workflow.start('maintenance', {
      taskQueue: 'nomaly-control', workflowId: `${id}-${i}`, args: [{ retentionDays: 36500 }],
    });
    return { handle, t0 };
  };
  const results: Sample[] = [];
  const wall = Date.now();
  if (concurrent) {
    const handles = await Promise.all(Array.from({ length: count }, (_, i) => start(i)));
    for (const { handle, t0 } of handles) results.push(await measure(handle, t0));
  } else {
    for (let i = 0; i < count; i++) {
      const { handle, t0 } = await start(i);
      results.push(await measure(handle, t0));
    }
  }
  const wallSeconds = (Date.now() - wall) / 1000;
  const keys = Object.keys(results[0]) as Array<keyof Sample>;
  return { label, count, wallSeconds, stats: Object.fromEntries(keys.map((k) => [k, stats(results.map((r) => r[k]))])) as RunResult['stats'] };
}

async function main(): Promise<void> {
  let env: NodeJS.ProcessEnv = process.env;
  let stack: PrivateStack | undefined;
  if (!external) {
    // With its control and scoring worker processes, one of each.
    stack = await startPrivateStack({
      topology: topology === 'dev' ? 'dev' : 'production',
      dataDir,
      databaseUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/nomaly_prod_bench',
      minioUser: 'nomaly-bench',
      minioPassword: 'nomaly-bench-secret',
      workers: true,
      settings: {
        TEMPORAL_DB: 'nomaly_prod_bench_temporal',
        TEMPORAL_VISIBILITY_DB: 'nomaly_prod_bench_visibility',
        NOMALY_CONTROL_WORKERS: '1',
        NOMALY_SCORING_WORKERS: '1',
      },
      verbose: true,
    });
    env = stack.processEnv;
  }
  const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
  const client = new Client({ connection, namespace: env.TEMPORAL_NAMESPACE ?? 'default' });
  try {
    await run(client, 'warmup', warmup, false);
    const loadBefore = os.loadavg();
    const sequential = await run(client, 'sequential', starts, false);
    const burst = await run(client, 'burst', starts, true);
    const loadAfter = os.loadavg();
    report({ sequential, burst, loadBefore, loadAfter });
  } finally {
    await connection.close();
    if (stack && process.env.BENCH_KEEP_STACK !== '1') stack.stop({ purge: true });
  }
}

function report({ sequential, burst, loadBefore, loadAfter }: { sequential: RunResult; burst: RunResult; loadBefore: number[]; loadAfter: number[] }): void {
  const ms = (v: number) => `${v.toFixed(0)} ms`;
  const rows: Array<[keyof Sample, string]> = [
    ['startToActivity', 'workflow started → first activity started (server clock)'],
    ['clientToActivity', 'client start() call → first activity started'],
    ['toWorkflowTask', '  part: → first workflow task started on a control worker'],
    ['toScheduled', '  part: → activity scheduled (workflow code ran, task completed)'],
    ['toActivityStart', '  part: → activity started on a control worker'],
  ];
  const table = (r: RunResult) => [
    `| ${r.label}: ${r.count} starts in ${r.wallSeconds.toFixed(1)} s | p50 | p95 | p99 | max |`,
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows.map(([k, name]) => {
      const s = r.stats[k];
      return `| ${name} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.p99)} | ${ms(s.max)} |`;
    }),
  ].join('\n');
  const text = [
    `# Workflow start → first activity start, ${topology === 'dev' ? 'dev server' : 'production topology'}`,
    '',
    `Measured ${new Date().toISOString()} with \`npm run bench:prod\` on ${os.cpus().length} cores (${os.cpus()[0].model}), Node ${process.version}.`,
    `Topology: ${external ? `existing stack at ${process.env.TEMPORAL_ADDRESS}` : topology === 'dev'
      ? 'scripts/stack-up.sh: Temporal CLI v1.5.1 dev server (SQLite file), one control and one scoring worker process'
      : 'scripts/prod-stack-up.sh: Temporal server v1.29.1 on PostgreSQL (8 history shards), one control and one scoring worker process'}.`,
    `Workflow: \`maintenance\` (first activity removeExpiredModels on nomaly-control); ${warmup} warm-up starts first.`,
    `Load average before/after: ${loadBefore.map((v) => v.toFixed(2)).join(' ')} / ${loadAfter.map((v) => v.toFixed(2)).join(' ')}.`,
    '',
    table(sequential),
    '',
    table(burst),
    '',
  ].join('\n');
  mkdirSync(path.join(root, 'bench'), { recursive: true });
  writeFileSync(path.join(root, `bench/${topology === 'dev' ? 'dev' : 'prod'}-latency-last-run.md`), text);
  console.log(text);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
