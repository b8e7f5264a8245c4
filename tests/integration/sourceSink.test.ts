import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import type { SourceRunOutcome } from '../../src/api/results';
import type { DetectionSummary } from '../../src/client/nomalyClient';
import type { BackfillReport } from '../../src/workflows/detectBackfill';
import { dropLake, lakeConnectionFile, seedLake, trainLakeModel } from '../support/lake';
import { maybeRecordHistory, startTestPlatform, type TestPlatform } from '../support/testPlatform';
import { createWarehouse, warehouseConnectionEntry, type Warehouse } from '../support/warehouse';

/**
 * A job's sink: its anomalies (or every score) upserted into a "warehouse" table on (run_key,
 * row_key) over a writer's connection. The table holds exactly the job's stored anomalies, the
 * same window again never doubles a row, a window scored again replaces its rows, and hostile or
 * unusable sinks fail before anything is scored.
 */
const DAYS = ['2026-11-01', '2026-11-02', '2026-11-03'];
const ROWS = 3000;

describe('a job writes its results to a PostgreSQL sink', () => {
  let p: TestPlatform;
  let warehouse: Warehouse;
  const lake = `nomaly-test-sink-${process.pid}`;
  const savedConnections = process.env.NOMALY_CONNECTIONS_FILE;

  beforeAll(async () => {
    warehouse = await createWarehouse('sink');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nomaly-sink-connections-'));
    const { loadConfig } = await import('../../src/config');
    const secret = path.join(dir, 'nobody-password');
    writeFileSync(secret, 'not-the-password-4711', { mode: 0o600 });
    const nobodyUrl = new URL(warehouse.writerUrl);
    nobodyUrl.username = 'nomaly_no_such_role';
    process.env.NOMALY_CONNECTIONS_FILE = lakeConnectionFile(dir, loadConfig(), {
      warehouse: warehouseConnectionEntry(warehouse),
      'warehouse-writer': { kind: 'postgres', url: warehouse.writerUrl },
      nobody: { kind: 'postgres', url: nobodyUrl.toString(), passwordFile: secret },
    });
    p = await startTestPlatform();
    await seedLake(p.platform.store, lake, DAYS, { rowsPerDay: ROWS, format: 'parquet', rowGroupRows: 700, partsPerDay: 2 });
    await trainLakeModel(p, 'orders-sink');
  });

  afterAll(async () => {
    await p?.stop();
    await dropLake(p.platform.store, lake).catch(() => undefined);
    await warehouse?.drop();
    if (savedConnections === undefined) delete process.env.NOMALY_CONNECTIONS_FILE;
    else process.env.NOMALY_CONNECTIONS_FILE = savedConnections;
  });

  /** Rows of the warehouse as its owner sees them. */
  async function warehouseRows<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new Client({ connectionString: warehouse.url });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  const source = { kind: 'objects', connection: 'lake', bucket: lake, prefix: 'events/dt={date}/', format: 'parquet', idColumn: 'id' } as const;
  const window = (day: string) => ({ start: day, end: new Date(Date.parse(day) + 86_400_000).toISOString().slice(0, 10) });
  async function detect(input: Record<string, unknown>, record?: string): Promise<DetectionSummary | SourceRunOutcome> {
    const handle = await p.client.startDetection({ model: 'orders-sink', source, ...input } as never);
    const result = (await handle.result()) as DetectionSummary | SourceRunOutcome;
    if (record) await maybeRecordHistory(handle, record);
    return result;
  }
  const storedAnomalies = async (jobId: string) =>
    (await p.sql<{ row_id: string; score: number }>('select row_id, score from anomaly where job_id = ? order by row_id', [jobId])).map((r) => [r.row_id, Number(r.score)]);
  const sinkAnomalies = async (table: string, runKey: string) =>
    (await warehouseRows<{ row_key: string; score: number }>(`select row_key, score from ${table} where run_key = $1 order by row_key`, [runKey])).map((r) => [r.row_key, Number(r.score)]);

  it('upserts the job anomalies on (run_key, row_key): the same window again skips and doubles nothing, new data replaces them', async () => {
    const sink = { kind: 'postgres', connection: 'warehouse-writer', table: 'nomaly_anomalies' };
    const first = (await detect({ window: window(DAYS[0]), chunkRows: 1000, sink }, 'detectBatchSink')) as DetectionSummary;
    expect(first.status).toBe('completed');
    expect(first.anomalies).toBeGreaterThan(0);
    const runKey = first.source!.runKey;
    expect(first.sink).toMatchObject({ connection: 'warehouse-writer', table: 'nomaly_anomalies', rows: 'anomalies', written: first.anomalies, removed: 0, runKey });
    // Exactly the job's stored anomalies, keyed by the source's id column, with the same scores.
    expect(await sinkAnomalies('nomaly_anomalies', runKey)).toEqual(await storedAnomalies(first.jobId));
    const [row] = await warehouseRows<Record<string, unknown>>('select * from nomaly_anomalies limit 1');
    expect(row).toMatchObject({ run_key: runKey, job_id: first.jobId, model: 'orders-sink', model_version: 1, is_anomaly: true });
    expect(Array.isArray(row.explanation) && (row.explanation as Array<{ feature: string }>)[0].feature).toBeTruthy();
    expect((row.window_start as Date).toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect((row.window_end as Date).toISOString()).toBe('2026-11-02T00:00:00.000Z');
    const [jobRow] = await p.sql<{ summary: { sink: { written: number; table: string } } }>('select summary from detection_job where id = ?', [first.jobId]);
    expect(jobRow.summary.sink).toMatchObject({ table: 'nomaly_anomalies', written: first.anomalies });

    // The same window again: skipped, its scoring job's rows upserted over themselves.
    const again = (await detect({ window: window(DAYS[0]), sink }, 'detectBatchSinkSkipped')) as SourceRunOutcome;
    expect(again).toMatchObject({ status: 'skipped', scoredBy: first.jobId, sink: { written: first.anomalies, removed: 0 } });
    const [{ count }] = await warehouseRows<{ count: string }>('select count(*) from nomaly_anomalies');
    expect(Number(count)).toBe(first.anomalies);

    // The day's data rewritten: scored again under the same run key, its rows replace the old ones.
    await seedLake(p.platform.store, lake, [DAYS[0]], { rowsPerDay: ROWS, format: 'parquet', rowGroupRows: 700, partsPerDay: 2, seed: 7 });
    const rescored = (await detect({ window: window(DAYS[0]), chunkRows: 1000, sink })) as DetectionSummary;
    expect(rescored.status).toBe('completed');
    expect(rescored.source!.runKey).toBe(runKey);
    expect(await sinkAnomalies('nomaly_anomalies', runKey)).toEqual(await storedAnomalies(rescored.jobId));
    const jobs = await warehouseRows<{ job_id: string }>('select distinct job_id from nomaly_anomalies');
    expect(jobs).toEqual([{ job_id: rescored.jobId }]);
  });

  it('rows "scores": one row per scored row, created with the table, flagged exactly where the job stored anomalies', async () => {
    const sink = { kind: 'postgres', connection: 'warehouse-writer', table: 'nomaly_scores', rows: 'scores' };
    const summary = (await detect({ window: window(DAYS[1]), chunkRows: 1000, sink })) as DetectionSummary;
    expect(summary.status).toBe('completed');
    expect(summary.sink).toMatchObject({ rows: 'scores', written: ROWS });
    // Created by the sink, owned by its connection's role.
    expect(await warehouseRows("select tableowner from pg_tables where tablename = 'nomaly_scores'")).toEqual([{ tableowner: new URL(warehouse.writerUrl).username }]);
    const runKey = summary.source!.runKey;
    const [counts] = await warehouseRows<{ rows: string; keys: string; flagged: string }>(
      'select count(*) as rows, count(distinct row_key) as keys, count(*) filter (where is_anomaly) as flagged from nomaly_scores where run_key = $1',
      [runKey],
    );
    expect(counts).toEqual({ rows: String(ROWS), keys: String(ROWS), flagged: String(summary.anomalies) });
    const flagged = (await warehouseRows<{ row_key: string; score: number }>('select row_key, score from nomaly_scores where is_anomaly order by row_key')).map((r) => [r.row_key, Number(r.score)]);
    expect(flagged).toEqual(await storedAnomalies(summary.jobId));
    // Written again (a skipped run re-upserts): still one row per scored row.
    const again = (await detect({ window: window(DAYS[1]), sink })) as SourceRunOutcome;
    expect(again).toMatchObject({ status: 'skipped', sink: { written: ROWS } });
    const [{ count }] = await warehouseRows<{ count: string }>('select count(*) from nomaly_scores');
    expect(Number(count)).toBe(ROWS);
  });

  it('a backfill passes its sink to every window: skipped windows fill it from the jobs that scored them, a second backfill doubles nothing', async () => {
    const sink = { kind: 'postgres', connection: 'warehouse-writer', table: 'nomaly_backfill' };
    const backfill = async () =>
      (await (await p.client.startBackfill({ model: 'orders-sink', source, from: DAYS[0], to: '2026-11-04', chunkRows: 1000, sink } as never)).result()) as BackfillReport;
    const first = await backfill();
    // The first two days were scored by the tests above; the third is new.
    expect(first.windows.map((w) => w.status)).toEqual(['skipped', 'skipped', 'scored']);
    const count = async () => Number((await warehouseRows<{ count: string }>('select count(*) from nomaly_backfill'))[0].count);
    expect(await count()).toBe(first.totals.anomalies);
    for (const row of first.windows) {
      const jobId = row.scoredBy ?? row.jobId;
      const [job] = await p.sql<{ run_key: string }>('select run_key from detection_job where id = ?', [jobId]);
      expect(await sinkAnomalies('nomaly_backfill', job.run_key)).toEqual(await storedAnomalies(jobId));
    }
    const second = await backfill();
    expect(second.totals).toMatchObject({ skipped: 3, anomalies: first.totals.anomalies });
    expect(await count()).toBe(first.totals.anomalies);
  });

  it('nomaly detect --sink-connection --sink-table --sink-rows: the CLI starts a job with that sink, and refuses a hostile table before starting', async () => {
    const run = promisify(execFile);
    const cli = path.resolve(__dirname, '../../dist/client/cli.js');
    const sourceFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'nomaly-sink-cli-')), 'source.json');
    writeFileSync(sourceFile, JSON.stringify(source));
    const args = ['detect', '--model', 'orders-sink', '--source', sourceFile, '--window-start', DAYS[2], '--window-end', '2026-11-04', '--sink-connection', 'warehouse-writer'];
    const printed = JSON.parse((await run(process.execPath, [cli, ...args, '--sink-table', 'nomaly_cli', '--sink-rows', 'scores', '--wait', '--json'])).stdout);
    // Scored by the backfill above: skipped, and that job's every row upserted into the new table.
    expect(printed).toMatchObject({ status: 'skipped', sink: { connection: 'warehouse-writer', table: 'nomaly_cli', rows: 'scores', written: ROWS } });
    expect(Number((await warehouseRows<{ count: string }>('select count(*) from nomaly_cli'))[0].count)).toBe(ROWS);
    const hostile = await run(process.execPath, [cli, ...args, '--sink-table', 'x; drop table orders']).then(
      () => '',
      (err: { stderr: string }) => err.stderr,
    );
    expect(hostile).toContain('"sink.table" "x; drop table orders" is not a table name');
  });

  it('refuses hostile or unusable sinks before scoring anything', async () => {
    const refused = async (sink: unknown): Promise<{ message: string; type?: string; ms: number }> => {
      const started = Date.now();
      try {
        await detect({ window: window(DAYS[1]), sink });
      } catch (err) {
        let cause = err as Error & { cause?: Error; type?: string };
        while (cause.cause) cause = cause.cause as typeof cause;
        return { message: cause.message, type: cause.type, ms: Date.now() - started };
      }
      throw new Error('expected the job to fail');
    };
    const base = { kind: 'postgres', connection: 'warehouse-writer', table: 'nomaly_refused' };
    const injection = await refused({ ...base, table: 'orders"; drop table orders; --' });
    expect(injection).toMatchObject({ type: 'InvalidInput' });
    expect(injection.message).toContain('"sink.table"');
    const credentials = await refused({ ...base, password: 'hunter2-secret' });
    expect(credentials.message).toContain('"sink.password" is refused');
    expect(credentials.message).not.toContain('hunter2');
    expect((await refused({ ...base, rows: 'everything' })).message).toContain('"sink.rows" "everything" is not one of anomalies, scores');
    expect((await refused({ ...base, connection: 'nowhere' })).message).toContain('connection "nowhere" is not configured');
    expect((await refused({ ...base, connection: 'lake' })).message).toContain('connection "lake" is an s3 connection, not postgres');

    // Wrong credentials: fast, naming the connection, never the secret.
    const wrong = await refused({ ...base, connection: 'nobody' });
    expect(wrong.message).toMatch(/connection "nobody": authentication failed for user "nomaly_no_such_role"/);
    expect(wrong.message).not.toContain('not-the-password-4711');
    expect(wrong.ms).toBeLessThan(15_000);
    // The source's read-only role cannot create (nor write) the table.
    const readOnly = await refused({ ...base, connection: 'warehouse' });
    expect(readOnly.message).toContain('connection "warehouse"');
    expect(readOnly.message).toContain('needs a role with SELECT, INSERT, UPDATE and DELETE');
    // A table of another shape is named with what it lacks.
    await warehouseRows('create table wrong_shape (run_key text, row_key text, score text)');
    const shape = await refused({ ...base, table: 'wrong_shape' });
    expect(shape.message).toContain('table wrong_shape cannot take a job\'s rows');
    expect(shape.message).toContain('score (is text; needs double precision)');
    expect(shape.message).toContain('job_id (missing');
    // Nothing was scored by any of them, and orders is still there.
    const [{ count }] = await warehouseRows<{ count: string }>("select count(*) from pg_tables where tablename in ('orders', 'nomaly_refused')");
    expect(Number(count)).toBe(1);
  });
});
