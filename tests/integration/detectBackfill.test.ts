import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CancelledFailure, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import type { DetectionSummary } from '../../src/api/results';
import type { DetectProgress } from '../../src/workflows/detectBatch';
import type { BackfillReport } from '../../src/workflows/detectBackfill';
import { applySchedulesFile, readSchedulesFile } from '../../src/client/schedules';
import type { Detector } from '../../src/scoring/detector';
import { dayPrefix, dayRows, dropLake, LAKE_COLUMNS, lakeConnectionFile, locallyFlagged, seedLake, trainLakeModel } from '../support/lake';
import { maybeRecordHistory, startTestPlatform, type TestPlatform } from '../support/testPlatform';

const run = promisify(execFile);
const cli = path.resolve(__dirname, '../../dist/client/cli.js');

/**
 * Backfills: a range of days of a lake scored one detectBatch job per day. New data is scored,
 * data already scored by the same model version is skipped, an empty day is no-data, and a
 * rewritten day is scored again. A schedule over a source scores the day before its run, and a
 * schedule can be backfilled with its own model and source.
 */
const DAYS = ['2026-11-01', '2026-11-02', '2026-11-03', '2026-11-04', '2026-11-05', '2026-11-06', '2026-11-07'];
const EMPTY_DAY = '2026-11-04';
const REWRITTEN_DAY = '2026-11-06';
const ROWS = 2000;
const MODEL = 'orders-backfill';
const DAY_MS = 86_400_000;

describe('backfills over a source', () => {
  let p: TestPlatform;
  let dir: string;
  const lake = `nomaly-test-backfill-${process.pid}`;
  const cliLake = `nomaly-test-backfill-cli-${process.pid}`;
  const slowLake = `nomaly-test-backfill-slow-${process.pid}`;
  const savedConnections = process.env.NOMALY_CONNECTIONS_FILE;
  let model: Detector;
  /** The first backfill's report: which job scored each day. */
  let first: BackfillReport;

  const source = { kind: 'objects', connection: 'lake', bucket: lake, prefix: 'events/dt={date}/', format: 'parquet', idColumn: 'id' } as const;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'nomaly-backfill-'));
    const { loadConfig } = await import('../../src/config');
    process.env.NOMALY_CONNECTIONS_FILE = lakeConnectionFile(dir, loadConfig());
    p = await startTestPlatform();
    await seedLake(p.platform.store, lake, DAYS, { rowsPerDay: ROWS, format: 'parquet', rowGroupRows: 450, partsPerDay: 2, skipDays: [EMPTY_DAY] });
    model = await trainLakeModel(p, MODEL);
  });

  afterAll(async () => {
    await p?.stop();
    await dropLake(p.platform.store, lake).catch(() => undefined);
    await dropLake(p.platform.store, cliLake).catch(() => undefined);
    await dropLake(p.platform.store, slowLake).catch(() => undefined);
    if (savedConnections === undefined) delete process.env.NOMALY_CONNECTIONS_FILE;
    else process.env.NOMALY_CONNECTIONS_FILE = savedConnections;
  });

  const expectedAnomalies = (day: string, seed?: number) => locallyFlagged(model, day, ROWS, seed);

  async function storedAnomalies(jobId: string): Promise<string[]> {
    return (await p.sql<{ row_id: string }>('select row_id from anomaly where job_id = ? order by row_id', [jobId])).map((r) => r.row_id);
  }

  const day = (window: { start: string }) => window.start.slice(0, 10);
  const statuses = (report: BackfillReport) => Object.fromEntries(report.windows.map((w) => [day(w.window), w.status]));

  async function backfill(from: string, to: string): Promise<BackfillReport> {
    const handle = await p.client.startBackfill({ model: MODEL, source, from, to, maxConcurrentWindows: 3, chunkRows: 500 });
    return (await handle.result()) as BackfillReport;
  }

  it('scores each day of a week once (one job per day), an empty day as no-data, with the anomalies of a local scoring', async () => {
    const handle = await p.client.startBackfill({ model: MODEL, source, from: DAYS[0], to: '2026-11-08', maxConcurrentWindows: 3, chunkRows: 500 });
    // The progress query answers while it runs: every day, none finished before it started.
    const early = await p.client.progress<BackfillReport>(handle.workflowId);
    expect(early.windows.map((w) => day(w.window))).toEqual(DAYS);
    expect(early.windows.every((w) => ['pending', 'running', 'scored', 'no-data'].includes(w.status))).toBe(true);
    expect(early.windows.filter((w) => w.status === 'running').length).toBeLessThanOrEqual(3);

    first = (await handle.result()) as BackfillReport;
    await maybeRecordHistory(handle, 'detectBackfill');
    expect(await p.client.progress<BackfillReport>(handle.workflowId)).toEqual(first);
    expect(statuses(first)).toEqual(Object.fromEntries(DAYS.map((d) => [d, d === EMPTY_DAY ? 'no-data' : 'scored'])));
    expect(first.totals).toMatchObject({ windows: 7, scored: 6, skipped: 0, noData: 1, failed: 0, rows: 6 * ROWS });
    for (const row of first.windows) {
      expect(row.jobId).toBe(`${handle.workflowId}-${row.window.start.replace(/:/g, '-')}`);
      if (day(row.window) === EMPTY_DAY) {
        expect(row).toMatchObject({ rows: 0, anomalies: 0 });
        continue;
      }
      const expected = expectedAnomalies(day(row.window));
      expect(row.rows).toBe(ROWS);
      expect(row.anomalies).toBe(expected.length);
      expect(await storedAnomalies(row.jobId)).toEqual(expected);
      // Each day's job is a detectBatch over that day's window, recorded as such.
      const summary = (await p.client.temporal.workflow.getHandle(row.jobId).result()) as DetectionSummary;
      expect(summary.source).toMatchObject({ window: row.window, location: `lake:${lake}/${dayPrefix(day(row.window))}`, objects: 2 });
    }
    expect(first.totals.anomalies).toBe(first.windows.reduce((sum, w) => sum + w.anomalies, 0));
    expect(first.totals.anomalies).toBeGreaterThan(0);
  });

  it('a second backfill of the same week skips every scored day, naming the job that scored it', async () => {
    const again = await backfill(DAYS[0], '2026-11-08');
    expect(again.totals).toMatchObject({ windows: 7, scored: 0, skipped: 6, noData: 1, failed: 0 });
    again.windows.forEach((row, i) => {
      const before = first.windows[i];
      if (day(row.window) === EMPTY_DAY) return expect(row.status).toBe('no-data');
      expect(row).toMatchObject({ status: 'skipped', scoredBy: before.jobId, rows: before.rows, anomalies: before.anomalies });
    });
    // Nothing was scored again: no anomaly rows for the skipped jobs.
    expect(await storedAnomalies(again.windows[0].jobId)).toEqual([]);
  });

  it('after one day is rewritten, a backfill scores that day only', async () => {
    await seedLake(p.platform.store, lake, [REWRITTEN_DAY], { rowsPerDay: ROWS, format: 'parquet', rowGroupRows: 450, partsPerDay: 2, seed: 11 });
    const third = await backfill(DAYS[0], '2026-11-08');
    expect(statuses(third)).toEqual(Object.fromEntries(DAYS.map((d) => [d, d === EMPTY_DAY ? 'no-data' : d === REWRITTEN_DAY ? 'scored' : 'skipped'])));
    const rescored = third.windows.find((w) => day(w.window) === REWRITTEN_DAY)!;
    const expected = expectedAnomalies(REWRITTEN_DAY, 11);
    expect(rescored).toMatchObject({ rows: ROWS, anomalies: expected.length });
    expect(await storedAnomalies(rescored.jobId)).toEqual(expected);
  });

  it('a schedule over a source scores the day before its run; backfilling it uses its model and source', async () => {
    // The day before now, in UTC: the window a run triggered now must cover.
    const yesterday = new Date(Date.now() - DAY_MS).toISOString().slice(0, 10);
    await seedLake(p.platform.store, lake, [yesterday], { rowsPerDay: ROWS, format: 'parquet', partsPerDay: 1 });
    const file = path.join(dir, 'schedules.json');
    writeFileSync(
      file,
      JSON.stringify({
        backup: { id: 'test-backup-for-backfills', paused: true, input: { scope: 'database' } },
        detections: [{ id: 'nightly-orders-lake', hour: 3, minute: 15, timezone: 'UTC', input: { model: MODEL, source, chunkRows: 500 } }],
      }),
    );
    const schedules = readSchedulesFile(file);
    // The schedule's zone is the input's: days are counted on the schedule's clock.
    expect(schedules.detections[0].input.timeZone).toBe('UTC');
    await applySchedulesFile(p.client.temporal, schedules);
    const nightly = p.client.temporal.schedule.getHandle('nightly-orders-lake');
    try {
      await nightly.trigger();
      let runs: string[] = [];
      for (let i = 0; i < 120 && runs.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 250));
        runs = (await nightly.describe()).info.recentActions.map((a) => a.action.workflow.workflowId);
      }
      expect(runs).toHaveLength(1);
      const summary = (await p.client.temporal.workflow.getHandle(runs[0]).result()) as DetectionSummary;
      const end = new Date(Date.parse(yesterday) + DAY_MS).toISOString();
      expect(summary).toMatchObject({ status: 'completed', rows: ROWS, source: { window: { start: `${yesterday}T00:00:00.000Z`, end } } });
      expect(await storedAnomalies(summary.jobId)).toEqual(expectedAnomalies(yesterday));

      // Two days of the schedule's past: the rewritten day was scored by the last backfill, the next one is empty.
      const handle = await p.client.startScheduleBackfill('nightly-orders-lake', { from: REWRITTEN_DAY, to: '2026-11-08' });
      const report = (await handle.result()) as BackfillReport;
      expect(report).toMatchObject({ model: MODEL, period: 'day', timeZone: 'UTC' });
      expect(statuses(report)).toEqual({ [REWRITTEN_DAY]: 'skipped', '2026-11-07': 'skipped' });
      expect(report.windows.map((w) => w.rows)).toEqual([ROWS, ROWS]);
    } finally {
      await nightly.delete();
      await p.client.temporal.schedule.getHandle('test-backup-for-backfills').delete();
    }
  });

  it('cancelling a backfill cancels the running window job and starts no other', async () => {
    // Days long enough to cancel in the middle of: 20,000 rows in 40 chunks (a Parquet chunk is at
    // least a row group), one at a time; with 4 chunks a loaded machine finished the day before the cancel landed.
    const days = ['2026-11-01', '2026-11-02', '2026-11-03'];
    await seedLake(p.platform.store, slowLake, days, { rowsPerDay: 20_000, format: 'parquet', rowGroupRows: 500 });
    const handle = await p.client.startBackfill({ model: MODEL, source: { ...source, bucket: slowLake }, from: days[0], to: '2026-11-04', maxConcurrentWindows: 1, chunkRows: 100, maxConcurrentChunks: 1 });
    let running: string | undefined;
    for (let i = 0; i < 1200 && !running; i++) {
      const report = await p.client.progress<BackfillReport>(handle.workflowId);
      const row = report.windows.find((w) => w.status === 'running');
      const chunks = row ? await p.client.progress<DetectProgress>(row.jobId).catch(() => undefined) : undefined;
      if (chunks && chunks.chunksDone >= 2) running = row!.jobId;
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(running).toBeDefined();
    await handle.cancel();

    const error = await handle.result().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    await maybeRecordHistory(handle, 'detectBackfillCancelled');
    expect((await p.client.temporal.workflow.getHandle(running!).describe()).status.name).toBe('CANCELLED');
    const [job] = await p.sql<{ status: string }>('select status from detection_job where id = ?', [running]);
    expect(job.status).toBe('cancelled');
    // The table at the end: the first day cancelled, the others never started.
    const report = await p.client.progress<BackfillReport>(handle.workflowId);
    expect(report.windows.map((w) => [w.status, w.error])).toEqual([['failed', 'cancelled'], ['pending', undefined], ['pending', undefined]]);
    await expect(p.client.temporal.workflow.getHandle(report.windows[1].jobId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it('nomaly detect --source --from --to --wait prints a table of windows: scored, failed with why, no data', async () => {
    // Two days of JSON lines; the second day's file is not JSON lines at all.
    await seedLake(p.platform.store, cliLake, ['2026-11-01'], { rowsPerDay: ROWS, format: 'jsonl', partsPerDay: 2 });
    await p.platform.store.putBytes(cliLake, `${dayPrefix('2026-11-02')}part-00000.jsonl`, Buffer.from('this is not json\n{"id": "x"'));
    const sourceFile = path.join(dir, 'source.json');
    writeFileSync(sourceFile, JSON.stringify({ kind: 'objects', connection: 'lake', bucket: cliLake, prefix: 'events/dt={date}/', format: 'jsonl', idColumn: 'id' }));
    const args = [cli, 'detect', '--model', MODEL, '--source', sourceFile, '--from', '2026-11-01', '--to', '2026-11-04', '--concurrency-windows', '2', '--wait'];
    // A failed window makes the exit status 1; the table is printed all the same.
    const printed = await run(process.execPath, args).then(
      () => {
        throw new Error('expected exit status 1 (a window failed)');
      },
      (err: { code: number; stdout: string }) => err,
    );
    expect(printed.code).toBe(1);
    const lines = printed.stdout.trim().split('\n');
    const expected = expectedAnomalies('2026-11-01');
    expect(lines[0]).toMatch(new RegExp(`^backfill backfill-${MODEL}-\\S+: model ${MODEL}, 3 days \\(UTC\\)$`));
    expect(lines[1]).toMatch(/^window\s+rows\s+anomalies\s+status$/);
    expect(lines[2]).toMatch(new RegExp(`^2026-11-01\\s+${ROWS}\\s+${expected.length}\\s+scored$`));
    expect(lines[3]).toMatch(/^2026-11-02\s+0\s+0\s+failed: \S.*/);
    expect(lines[4]).toMatch(/^2026-11-03\s+0\s+0\s+no data$/);
    expect(lines[5]).toBe(`total: 1 scored, 0 skipped, 1 no data, 1 failed; ${ROWS} rows, ${expected.length} anomalies`);

    // --json: the same table as data; the scored day is now skipped, the broken one still fails.
    const json = await run(process.execPath, [...args, '--json']).then(
      () => {
        throw new Error('expected exit status 1');
      },
      (err: { stdout: string }) => JSON.parse(err.stdout) as BackfillReport,
    );
    expect(json.windows.map((w) => [day(w.window), w.status, w.rows, w.anomalies])).toEqual([
      ['2026-11-01', 'skipped', ROWS, expected.length],
      ['2026-11-02', 'failed', 0, 0],
      ['2026-11-03', 'no-data', 0, 0],
    ]);
    expect(json.windows[1].error).toBe(lines[3].replace(/^.*failed: /, ''));

    // One window: one job, here skipped (scored by the first backfill), said in one line.
    const single = await run(process.execPath, [cli, 'detect', '--model', MODEL, '--source', sourceFile, '--window-start', '2026-11-01', '--window-end', '2026-11-02', '--wait']);
    expect(single.stdout.trim()).toMatch(
      new RegExp(`^detection job \\S+ skipped: lake:${cliLake}/events/dt=2026-11-01/ for 2026-11-01T00:00:00.000Z – 2026-11-02T00:00:00.000Z was already scored by backfill-\\S+ \\(${ROWS} rows, ${expected.length} anomalies\\)$`),
    );
  });
});
