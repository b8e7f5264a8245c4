import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SourceRunOutcome } from '../../src/api/results';
import type { DetectionSummary } from '../../src/client/nomalyClient';
import type { Detector } from '../../src/scoring/detector';
import { dayPrefix, dayRows, dropLake, LAKE_COLUMNS, lakeConnectionFile, locallyFlagged, pinnedChunks, seedLake, trainLakeModel } from '../support/lake';
import { maybeRecordHistory, startTestPlatform, type TestPlatform } from '../support/testPlatform';
import { createWarehouse, warehouseConnectionEntry, type Warehouse } from '../support/warehouse';

/**
 * Jobs over data where it lives: a "lake" bucket reached through a named connection, and a
 * "warehouse" database read through a read-only role. Each window is scored once; the same
 * snapshot again is skipped, a changed one is scored again, an empty window is `no-data`.
 */
const DAYS = ['2026-11-01', '2026-11-02', '2026-11-03'];
const EMPTY_DAY = '2026-11-04';
const ROWS = 3000;

describe('detection over sources', () => {
  let p: TestPlatform;
  let warehouse: Warehouse;
  const lake = `nomaly-test-lake-${process.pid}`;
  const csvLake = `nomaly-test-lake-csv-${process.pid}`;
  const jsonLake = `nomaly-test-lake-json-${process.pid}`;
  const savedConnections = process.env.NOMALY_CONNECTIONS_FILE;
  let model: Detector;

  beforeAll(async () => {
    warehouse = await createWarehouse('detect');
    await warehouse.insertDays(DAYS, ROWS);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nomaly-connections-'));
    const { loadConfig } = await import('../../src/config');
    // "badlake": the same endpoint with a wrong secret.
    const wrongSecret = path.join(dir, 'bad-secret');
    writeFileSync(wrongSecret, 'not-the-secret-4711');
    const config = loadConfig();
    const badlake = { kind: 's3', endpoint: `http://${config.minio.endPoint}:${config.minio.port}`, accessKeyFile: path.join(dir, 'lake-access-key'), secretKeyFile: wrongSecret };
    process.env.NOMALY_CONNECTIONS_FILE = lakeConnectionFile(dir, config, { warehouse: warehouseConnectionEntry(warehouse), badlake });
    p = await startTestPlatform();
    await seedLake(p.platform.store, lake, [...DAYS, EMPTY_DAY], { rowsPerDay: ROWS, format: 'parquet', rowGroupRows: 700, partsPerDay: 2, skipDays: [EMPTY_DAY] });
    await seedLake(p.platform.store, jsonLake, DAYS.slice(0, 1), { rowsPerDay: ROWS, format: 'jsonl', partsPerDay: 3 });
    // CSV partitions with no id column at all: two halves of the day.
    await p.platform.store.ensureBuckets([csvLake]);
    const day = dayRows(DAYS[0], ROWS);
    for (const part of [0, 1]) {
      const lines = [];
      for (let r = part * (ROWS / 2); r < (part + 1) * (ROWS / 2); r++) lines.push(LAKE_COLUMNS.map((_, c) => day.features[r * LAKE_COLUMNS.length + c]).join(','));
      await p.platform.store.putBytes(csvLake, `${dayPrefix(DAYS[0])}part-${part}.csv`, Buffer.from(`${LAKE_COLUMNS.join(',')}\n${lines.join('\n')}\n`));
    }
    await p.platform.store.putBytes(csvLake, `${dayPrefix(DAYS[0])}_SUCCESS`, Buffer.alloc(0));
    // Trained on an uploaded day of the same shape.
    model = await trainLakeModel(p, 'orders');
  });

  afterAll(async () => {
    await p?.stop();
    await dropLake(p.platform.store, lake).catch(() => undefined);
    await dropLake(p.platform.store, csvLake).catch(() => undefined);
    await dropLake(p.platform.store, jsonLake).catch(() => undefined);
    await warehouse?.drop();
    if (savedConnections === undefined) delete process.env.NOMALY_CONNECTIONS_FILE;
    else process.env.NOMALY_CONNECTIONS_FILE = savedConnections;
  });

  const expectedAnomalies = (day: string, seed?: number) => locallyFlagged(model, day, ROWS, seed);

  async function storedAnomalies(jobId: string): Promise<string[]> {
    return (await p.sql<{ row_id: string }>('select row_id from anomaly where job_id = ? order by row_id', [jobId])).map((r) => r.row_id);
  }

  const parquetSource = { kind: 'objects', connection: 'lake', bucket: lake, prefix: 'events/dt={date}/', format: 'parquet', idColumn: 'id' } as const;
  const window = (day: string) => ({ start: day, end: new Date(Date.parse(day) + 86_400_000).toISOString().slice(0, 10) });

  async function detect(input: Record<string, unknown>, record?: string): Promise<DetectionSummary | SourceRunOutcome> {
    const handle = await p.client.startDetection({ model: 'orders', ...input } as never);
    const result = (await handle.result()) as DetectionSummary | SourceRunOutcome;
    if (record) await maybeRecordHistory(handle, record);
    return result;
  }

  it('scores a day of Parquet partitions once: every row, the same anomalies as a local scoring, the snapshot as lineage', async () => {
    const first = (await detect({ source: parquetSource, window: window(DAYS[0]), chunkRows: 1000 }, 'detectBatchSource')) as DetectionSummary;
    expect(first).toMatchObject({ status: 'completed', rows: ROWS });
    expect(first.source).toMatchObject({ window: { start: '2026-11-01T00:00:00.000Z', end: '2026-11-02T00:00:00.000Z' }, location: `lake:${lake}/${dayPrefix(DAYS[0])}`, objects: 2 });
    expect(await storedAnomalies(first.jobId)).toEqual(expectedAnomalies(DAYS[0]));
    expect(first.anomalies).toBeGreaterThan(0);
    const [job] = await p.sql<{ run_key: string; snapshot_sha256: string; source: { snapshot: { objects: number; rows: number } } }>(
      'select run_key, snapshot_sha256, source from detection_job where id = ?',
      [first.jobId],
    );
    expect(job.source.snapshot).toMatchObject({ objects: 2, rows: ROWS });
    expect(job.run_key).toMatch(/^[0-9a-f]{64}$/);

    // The same model version, source, window and data: skipped, pointing at the job that scored it.
    const again = (await detect({ source: parquetSource, window: window(DAYS[0]) }, 'detectBatchSourceSkipped')) as SourceRunOutcome;
    expect(again).toMatchObject({ status: 'skipped', scoredBy: first.jobId, rows: ROWS, anomalies: first.anomalies, snapshotSha256: job.snapshot_sha256 });
    const [skippedRow] = await p.sql<{ status: string }>('select status from detection_job where id = ?', [again.jobId]);
    expect(skippedRow.status).toBe('skipped');

    // The day's data is rewritten: a new snapshot, scored again.
    await seedLake(p.platform.store, lake, [DAYS[0]], { rowsPerDay: ROWS, format: 'parquet', rowGroupRows: 700, partsPerDay: 2, seed: 7 });
    const rescored = (await detect({ source: parquetSource, window: window(DAYS[0]) })) as DetectionSummary;
    expect(rescored.status).toBe('completed');
    expect(rescored.source!.snapshotSha256).not.toBe(job.snapshot_sha256);
    expect(await storedAnomalies(rescored.jobId)).toEqual(expectedAnomalies(DAYS[0], 7));
  });

  it('an empty window is no-data, not a failure', async () => {
    const outcome = (await detect({ source: parquetSource, window: window(EMPTY_DAY) })) as SourceRunOutcome;
    expect(outcome).toMatchObject({ status: 'no-data', rows: 0, anomalies: 0, location: `lake:${lake}/${dayPrefix(EMPTY_DAY)}` });
    const [row] = await p.sql<{ status: string }>('select status from detection_job where id = ?', [outcome.jobId]);
    expect(row.status).toBe('no-data');
  });

  it('JSON lines partitions in three objects: the same anomalies as a local scoring', async () => {
    const source = { kind: 'objects', connection: 'lake', bucket: jsonLake, prefix: 'events/dt={date}/', format: 'jsonl', idColumn: 'id' };
    const summary = (await detect({ source, window: window(DAYS[0]), chunkRows: 800, exportCsv: true })) as DetectionSummary;
    expect(summary).toMatchObject({ status: 'completed', rows: ROWS, source: { objects: 3 } });
    expect(await storedAnomalies(summary.jobId)).toEqual(expectedAnomalies(DAYS[0]));
    // The exported scores.csv keys every row by the source's id column, in order.
    const csv = (await p.platform.store.getVerifiedBytes(summary.scoresBucket, summary.scoresCsvKey!)).toString('utf8').trim().split('\n');
    expect(csv[0]).toBe('row,id,score,is_anomaly,p_value,explanation');
    expect(csv.slice(1).map((l) => l.split(',')[1])).toEqual(dayRows(DAYS[0], ROWS).ids);
  });

  it('CSV partitions without an id column (a _SUCCESS marker beside them): rows are keyed by object and row', async () => {
    const source = { kind: 'objects', connection: 'lake', bucket: csvLake, prefix: 'events/dt={date}/', format: 'csv' };
    const summary = (await detect({ source, window: window(DAYS[0]), chunkRows: 1000 })) as DetectionSummary;
    expect(summary).toMatchObject({ status: 'completed', rows: ROWS });
    const keys = await storedAnomalies(summary.jobId);
    // Each key names its object and its 1-based row there; map them back to the day's ids.
    const rows = dayRows(DAYS[0], ROWS);
    const half = ROWS / 2;
    const ids = keys.map((key) => {
      const [, part, row] = /part-(\d)\.csv#(\d+)$/.exec(key)!;
      return rows.ids[Number(part) * half + Number(row) - 1];
    });
    expect(ids.sort()).toEqual(expectedAnomalies(DAYS[0]));

    // Every row's score downloads with its key in the source.
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'nomaly-source-scores-')), 'scores.csv');
    await p.client.reads.downloadJobScores(summary.jobId, { format: 'csv', out });
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('row,row_key,score,is_anomaly,p_value,explanation');
    expect(lines).toHaveLength(ROWS + 1);
    expect(lines[1]).toMatch(new RegExp(`^0,events/dt=${DAYS[0]}/part-0.csv#1,`));
    expect(lines[ROWS]).toMatch(new RegExp(`^${ROWS - 1},events/dt=${DAYS[0]}/part-1.csv#${ROWS / 2},`));
    const flagged = lines.slice(1).filter((l) => l.split(',')[3] === '1').map((l) => l.split(',')[1]);
    expect(flagged.sort()).toEqual([...keys].sort());
  });

  it('a PostgreSQL query, bound to the window, scores exactly that day of orders', async () => {
    const source = {
      kind: 'postgres',
      connection: 'warehouse',
      query: 'select id, amount, n_items, latency_ms, discount from orders where created_at >= $start and created_at < $end order by id',
      idColumn: 'id',
    };
    const summary = (await detect({ source, window: window(DAYS[1]) })) as DetectionSummary;
    expect(summary).toMatchObject({ status: 'completed', rows: warehouse.orders(DAYS[1]) });
    const rows = dayRows(DAYS[1], ROWS);
    const flagged = new Set(expectedAnomalies(DAYS[1]));
    // The warehouse's ids are numbers that say the day's row (see tests/support/warehouse.ts).
    const expectedIds = rows.ids.map((id, i) => (flagged.has(id) ? String(Number(DAYS[1].replace(/-/g, '')) * 1_000_000 + i) : null)).filter(Boolean);
    expect(await storedAnomalies(summary.jobId)).toEqual((expectedIds as string[]).sort());
    const again = (await detect({ source, window: window(DAYS[1]) })) as SourceRunOutcome;
    expect(again.status).toBe('skipped');
  });

  it('an object rewritten after the job pinned it fails its chunk, naming the object, rather than mixing versions', async () => {
    const store = p.platform.store;
    await seedLake(store, lake, [DAYS[2]], { rowsPerDay: ROWS, format: 'parquet', rowGroupRows: 700, partsPerDay: 2 });
    const { list, read } = await pinnedChunks(p, parquetSource, { start: `${DAYS[2]}T00:00:00.000Z`, end: `${DAYS[2]}T23:59:59.000Z` }, 1000);
    const readAll = async (chunk: number) => {
      let rows = 0;
      for await (const block of read(chunk, { columns: { featureColumns: [...LAKE_COLUMNS] }, blockRows: 500, rowsDone: 0 })) rows += block.features.rows;
      return rows;
    };
    expect(await readAll(0)).toBe(list.rowBounds[1]);
    // The second object is rewritten (other rows) after pinning.
    await seedLake(store, lake, [DAYS[2]], { rowsPerDay: ROWS, format: 'parquet', rowGroupRows: 700, partsPerDay: 2, seed: 99 });
    const last = list.chunks - 1;
    await expect(readAll(last)).rejects.toThrow(new RegExp(`object lake:${lake}/events/dt=${DAYS[2]}/part-00001.parquet changed after the job pinned it`));
  });

  it('trains on a source: the window rows streamed chunk by chunk, the snapshot in the model lineage', async () => {
    const trained = await (
      await p.client.startTraining({ modelName: 'orders-from-lake', source: parquetSource, window: window(DAYS[1]), featureColumns: [...LAKE_COLUMNS], contamination: 0.01 } as never)
    ).result();
    expect(trained).toMatchObject({ status: 'active' });
    // Every row of the window is trained on or held out as a calibration row.
    expect(trained.trainRows + trained.metrics.calibrationScores).toBe(ROWS);
    const [row] = await p.sql<{ dataset_id: string | null; source: { location: string; snapshot: { objects: number; rows: number } } }>(
      `select dataset_id, source from model where name = 'orders-from-lake'`,
    );
    expect(row.dataset_id).toBeNull();
    expect(row.source).toMatchObject({ location: `lake:${lake}/${dayPrefix(DAYS[1])}`, snapshot: { objects: 2, rows: ROWS } });
    // It scores like any model.
    const summary = (await detect({ model: 'orders-from-lake', source: parquetSource, window: window(DAYS[2]) })) as DetectionSummary;
    expect(summary).toMatchObject({ status: 'completed', rows: ROWS });

    const training = async (input: Record<string, unknown>): Promise<string> => {
      try {
        await (await p.client.startTraining({ modelName: 'orders-refused', ...input } as never)).result();
      } catch (err) {
        let cause = err as Error & { cause?: Error };
        while (cause.cause) cause = cause.cause as typeof cause;
        return cause.message;
      }
      return 'trained';
    };
    // Without a feature list the pinned source's inferred types choose the features, as a dataset's profile does.
    expect(await training({ source: parquetSource, window: window(DAYS[1]), exclude: [...LAKE_COLUMNS, 'created_at'] })).toContain('"exclude" leaves no feature column in the data');
    expect(await training({ source: parquetSource, featureColumns: ['amount'] })).toContain('"window" is required to train on a source');
    expect(await training({ source: parquetSource, window: window(EMPTY_DAY), featureColumns: ['amount'] })).toContain(`no rows to train on in lake:${lake}/${dayPrefix(EMPTY_DAY)}`);
  });

  it('refuses credentials, unknown connections and SQL in a window before reading anything', async () => {
    // The workflow's failure, by its innermost cause: the message a person sees.
    const refused = async (input: Record<string, unknown>): Promise<Error> => {
      try {
        await detect(input);
      } catch (err) {
        let cause = err as Error & { cause?: Error };
        while (cause.cause) cause = cause.cause as typeof cause;
        return cause;
      }
      throw new Error('expected the job to fail');
    };
    const withSecret = await refused({ source: { ...parquetSource, secretKey: 'hunter2-secret' }, window: window(DAYS[0]) });
    expect(withSecret.message).toContain('source.secretKey');
    expect(withSecret.message).not.toContain('hunter2');
    const sqlWindow = await refused({ source: parquetSource, window: { start: "2026-11-01'; drop table orders; --", end: '2026-11-02' } });
    expect(sqlWindow.message).toContain('window.start');
    const unknown = await refused({ source: { ...parquetSource, connection: 'nowhere' }, window: window(DAYS[0]) });
    expect(unknown.message).toContain('connection "nowhere" is not configured');
    const noWindow = await refused({ source: parquetSource });
    expect(noWindow.message).toContain('"window" is required');
    const started = Date.now();
    const wrongCredentials = await refused({ source: { ...parquetSource, connection: 'badlake' }, window: window(DAYS[0]) });
    expect(wrongCredentials.message).toMatch(/connection "badlake" was refused listing .* \(SignatureDoesNotMatch\)/);
    expect(wrongCredentials.message).not.toContain('not-the-secret-4711');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await warehouse.orders(DAYS[0])).toBe(ROWS);
  });
});
