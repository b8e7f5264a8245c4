import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { failFastOnPermanent } from '../../src/activities/failures';
import { failureMessage } from '../../src/client/nomalyClient';
import { Dataset } from '../../src/db/entities';
import { TASK_QUEUES } from '../../src/config/taskQueues';
import { ModelRegistry } from '../../src/db/modelRegistry';
import { startTestPlatform, type TestPlatform } from '../support/testPlatform';

const LIMIT = 20_000;

/** Every format registers to the same kind of dataset; every malformed upload is refused and leaves nothing behind. */
describe('datasets: formats, validation, nothing left behind', () => {
  let p: TestPlatform;
  let dir: string;
  const savedLimit = process.env.NOMALY_MAX_DATASET_BYTES;

  beforeAll(async () => {
    process.env.NOMALY_MAX_DATASET_BYTES = String(LIMIT);
    p = await startTestPlatform();
    dir = mkdtempSync(path.join(os.tmpdir(), 'nomaly-datasets-'));
  });
  afterAll(async () => {
    if (savedLimit === undefined) delete process.env.NOMALY_MAX_DATASET_BYTES;
    else process.env.NOMALY_MAX_DATASET_BYTES = savedLimit;
    await p?.stop();
  });

  function file(name: string, content: string | Uint8Array): string {
    const f = path.join(dir, name);
    writeFileSync(f, content);
    return f;
  }

  /** What a rejected upload must not change: objects in the datasets bucket and dataset rows. */
  async function footprint(): Promise<{ keys: string[]; rows: number }> {
    await p.platform.store.ensureBuckets([p.config.buckets.datasets]);
    const keys = (await p.platform.store.listKeys(p.config.buckets.datasets, '')).sort();
    const [{ count }] = await p.sql<{ count: string }>('select count(*) from dataset');
    return { keys, rows: Number(count) };
  }

  const labelled = (rows: number, offset = 0): Array<{ id: string; a: number; b: number; label: number }> =>
    Array.from({ length: rows }, (_, i) => {
      const anomaly = i % 10 === 0 ? 1 : 0;
      return { id: `r${i + offset}`, a: anomaly ? 8 + (i % 3) : ((i * 37) % 100) / 100, b: anomaly ? -7 : ((i * 53) % 100) / 100, label: anomaly };
    });

  it('registers CSV, JSON lines and Parquet with types, row count and per-column profile, and trains on each', async () => {
    const rows = labelled(300);
    const csv = file('a.csv', `id,a,b,label\n${rows.map((r) => `${r.id},${r.a},${r.b},${r.label}`).join('\n')}\n`);
    const jsonl = file('a.jsonl', `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
    const parquet = file(
      'a.parquet',
      new Uint8Array(
        parquetWriteBuffer({
          columnData: [
            { name: 'id', data: rows.map((r) => r.id), type: 'STRING' },
            { name: 'a', data: rows.map((r) => r.a), type: 'DOUBLE' },
            { name: 'b', data: rows.map((r) => r.b), type: 'DOUBLE' },
            { name: 'label', data: rows.map((r) => r.label), type: 'INT32' },
          ],
          rowGroupSize: 128,
        }),
      ),
    );
    const detected: unknown[] = [];
    for (const [f, format] of [[csv, 'csv'], [jsonl, 'jsonl'], [parquet, 'parquet']] as const) {
      const ds = await p.client.uploadDataset(f);
      expect(ds).toMatchObject({ format, rows: 300, columnCount: 4, featureColumns: ['a', 'b'], labelColumn: 'label', idColumn: 'id' });
      // The profiles stay in PostgreSQL, out of the workflow's history.
      expect(ds).not.toHaveProperty('columnProfiles');
      const { columnProfiles } = await new ModelRegistry(p.platform.orm).showDataset(ds.id);
      const a = columnProfiles.find((c) => c.name === 'a')!;
      expect(a).toMatchObject({ role: 'feature', type: 'number', min: Math.min(...rows.map((r) => r.a)), max: Math.max(...rows.map((r) => r.a)), nullCount: 0 });
      expect(a.mean).toBeCloseTo(rows.reduce((s, r) => s + r.a, 0) / 300, 10);
      expect(columnProfiles.find((c) => c.name === 'label')).toMatchObject({ role: 'label', positives: 30 });
      expect(columnProfiles.find((c) => c.name === 'id')).toMatchObject({ role: 'id', type: 'text', nullCount: 0 });
      // Same bytes again: the same dataset.
      expect((await p.client.uploadDataset(f)).id).toBe(ds.id);

      const model = await (await p.client.startTraining({ datasetId: ds.id, modelName: `formats-${format}`, algorithm: 'hbos', seed: 4 })).result();
      expect(model.status).toBe('active');
      expect(model.metrics.datasetRows).toBe(300);
      // Every row is held out for evaluation, held out for calibration, or trained on.
      expect(model.metrics.heldOutRows + model.metrics.calibrationScores + model.trainRows).toBe(300);
      expect(model.metrics.heldOutRocAuc).toBeGreaterThan(0.9);

      // And detection reads every format: the same rows give the same anomalies.
      const job = await (await p.client.startDetection({ model: `formats-${format}`, datasetId: ds.id, chunkRows: 100 })).result();
      expect(job).toMatchObject({ status: 'completed', rows: 300 });
      detected.push(job.topAnomalies.map((a) => [a.rowIndex, a.rowId, a.score]));
    }
    expect(detected[1]).toEqual(detected[0]);
    expect(detected[2]).toEqual(detected[0]);
  });

  const rejections: Array<[string, string, string | Uint8Array, RegExp]> = [
    ['an unknown extension', 'x.xlsx', 'a,b\n1,2\n', /unknown file type "\.xlsx"; supported: \.csv/],
    ['an empty file', 'empty.csv', '', /empty file/],
    ['a header without rows', 'header.csv', 'a,b\n', /empty file: header but no data rows/],
    ['ragged rows', 'ragged.csv', 'a,b\n1,2\n3\n', /line 3: expected 2 columns, found 1/],
    ['a non-numeric cell (row and column named)', 'text.csv', 'a,b\n1,2\n3,abc\n', /line 3, column "b": "abc" is not a number/],
    ['duplicate column names', 'dup.csv', 'a,b,a\n1,2,3\n', /duplicate column name "a"/],
    ['a label other than 0/1', 'label.csv', 'a,label\n1,0\n2,2\n', /line 3, column "label": label must be 0 or 1, found 2/],
    // A feature key left out is a missing value; the label's is not.
    ['a ragged JSON line', 'ragged.jsonl', '{"a":1,"label":0}\n{"a":1}\n', /line 2: expected 2 columns .*missing "label"/],
    ['a non-numeric Parquet cell', 'text.parquet', new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'a', data: ['1', 'x'], type: 'STRING' }] })), /row 2, column "a": "x" is not a number/],
    ['a file that is not Parquet', 'fake.parquet', 'a,b\n1,2\n', /not a Parquet file/],
    ['a file over the size limit', 'big.csv', `a\n${'1\n'.repeat(LIMIT)}`, /over the dataset size limit/],
  ];

  it.each(rejections)('refuses %s with a clear error and leaves nothing behind', async (_what, name, content, error) => {
    const before = await footprint();
    const message = await p.client.uploadDataset(file(name, content)).then(
      () => 'accepted',
      (err: unknown) => failureMessage(err),
    );
    expect(message).toMatch(error);
    expect(await footprint()).toEqual(before);
  });

  async function registerDirectly(input: Record<string, unknown>, bytes?: Buffer): Promise<string> {
    if (bytes) await p.platform.store.putBytes(p.config.buckets.datasets, String(input.objectKey), bytes);
    return p.client.temporal.workflow
      .execute('registerDataset', { taskQueue: TASK_QUEUES.control, workflowId: `register-direct-${Date.now()}-${Math.random()}`, args: [input] })
      .then(
        () => 'accepted',
        (err: unknown) => failureMessage(err),
      );
  }

  it('refuses an object key that escapes the dataset prefix, and an oversized file registered without the client', async () => {
    const before = await footprint();
    const sha = createHash('sha256').update('x').digest('hex');
    expect(await registerDirectly({ name: 'x.csv', objectKey: `sha256/../../nomaly-models/x.csv`, sha256: sha })).toMatch(
      /"objectKey" .* is refused: a dataset's key must be "sha256\/2d\/2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881\.csv"/,
    );
    expect(await registerDirectly({ name: 'x.csv', objectKey: `sha256/${sha.slice(0, 2)}/${sha}.exe`, sha256: sha, format: 'exe' })).toMatch(/"format" "exe" is not supported/);

    // Past the client (e.g. started from the Temporal UI): the worker checks the size itself and removes the object.
    const big = Buffer.from(`a\n${'1\n'.repeat(LIMIT)}`);
    const bigSha = createHash('sha256').update(big).digest('hex');
    const key = `sha256/${bigSha.slice(0, 2)}/${bigSha}.csv`;
    expect(await registerDirectly({ name: 'big.csv', objectKey: key, sha256: bigSha }, big)).toMatch(/over the dataset size limit/);
    // A malformed file put there directly is removed as well (stray text in a number column: a column of text alone is a category).
    const bad = Buffer.from('a,b\n1,2\n3,x\n');
    const badSha = createHash('sha256').update(bad).digest('hex');
    expect(await registerDirectly({ name: 'bad.csv', objectKey: `sha256/${badSha.slice(0, 2)}/${badSha}.csv`, sha256: badSha }, bad)).toMatch(
      /line 3, column "b": "x" is not a number/,
    );
    expect(await footprint()).toEqual(before);
  });

  it('refuses the bytes of a registered dataset under another format or key, leaving the dataset as it was', async () => {
    const csvFile = file('same.csv', 'a,b\n1,2\n3,4\n');
    const ds = await p.client.uploadDataset(csvFile);
    const before = await footprint();
    const started = Date.now();
    const err = await p.client.uploadDataset(file('same.jsonl', 'a,b\n1,2\n3,4\n')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(err).toMatchObject({ nonRetryable: true, type: 'DatasetMismatch' });
    expect((err as Error).message).toContain(`these bytes are already dataset ${ds.id} ("same.csv"), registered as csv at sha256/${ds.sha256.slice(0, 2)}/${ds.sha256}.csv; registering them as jsonl`);
    expect(await footprint()).toEqual(before);

    // Started without the client, naming a key where no object is: refused the same way.
    const jsonlKey = `sha256/${ds.sha256.slice(0, 2)}/${ds.sha256}.jsonl`;
    expect(await registerDirectly({ name: 'same.jsonl', objectKey: jsonlKey, sha256: ds.sha256, format: 'jsonl' })).toMatch(
      new RegExp(`registering them as jsonl at ${jsonlKey.replace(/[./]/g, '\\$&')} is refused: use ${ds.id}`),
    );
    expect(await footprint()).toEqual(before);
    expect((await p.client.uploadDataset(csvFile)).id).toBe(ds.id);
  });

  it('refuses a 1,000-character name at the input, at once, instead of retrying the database\'s refusal for ever', async () => {
    const bytes = Buffer.from('a,b\n1,2\n');
    const sha = createHash('sha256').update(bytes).digest('hex');
    const objectKey = `sha256/${sha.slice(0, 2)}/${sha}.csv`;
    const started = Date.now();
    expect(await registerDirectly({ name: 'n'.repeat(1000), objectKey, sha256: sha }, bytes)).toMatch(
      /registerDataset input: "name" is 1000 characters long; a dataset name has at most 255/,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await p.sql('select id from dataset where sha256 = ?', [sha])).toEqual([]);
    await p.platform.store.remove(p.config.buckets.datasets, objectKey); // put there by this test, as a caller without the client would
  });

  it('a PostgreSQL data exception or constraint violation fails non-retryably, naming its SQLSTATE, never the statement or its values', async () => {
    const em = p.platform.orm.em.fork();
    const row = { id: 'ds_0000pgerror000', name: 'pg-errors.csv', sha256: 'e'.repeat(64), objectKey: 'k', format: 'csv', sizeBytes: 1, rows: 1, columns: [], featureColumns: [], createdAt: new Date() };
    const translated = async (work: () => Promise<unknown>) => {
      const raw = await work().then(
        () => undefined,
        (e: Error) => e,
      );
      expect(raw?.message).toMatch(/^insert into|^select|^set/); // what the driver says: the statement first
      return failFastOnPermanent(() => Promise.reject(raw)).catch((e: unknown) => e as Error & { nonRetryable: boolean; type: string });
    };

    const secret = 'x'.repeat(1000);
    const tooLong = await translated(() => em.insert(Dataset, { ...row, name: secret }));
    expect(tooLong).toMatchObject({ nonRetryable: true, type: 'DatabaseRefusedData' });
    expect(tooLong.message).toBe('the database refused the statement: SQLSTATE 22001 (a text value is longer than its column allows)');

    await em.insert(Dataset, row);
    try {
      const duplicate = await translated(() => em.insert(Dataset, { ...row, sha256: 'd'.repeat(64) }));
      expect(duplicate).toMatchObject({ nonRetryable: true, type: 'DatabaseRefusedData' });
      expect(duplicate.message).toBe('the database refused the statement: SQLSTATE 23505 (a row with the same key already exists (unique constraint)), table "dataset", constraint "dataset_pkey"');
    } finally {
      await p.sql('delete from dataset where id = ?', [row.id]);
    }

    // A statement cancelled by its timeout may well work next time: retried, and still without its text.
    const cancelled = await translated(() => em.transactional(async (tx) => {
      await tx.execute('set local statement_timeout = 10');
      await tx.execute('select pg_sleep(2)');
    }));
    expect(cancelled).toMatchObject({ nonRetryable: false, type: 'DatabaseError' });
    expect(cancelled.message).toMatch(/^the database failed the statement: SQLSTATE 57014$/);
  });

  it('a database refusal at the last step fails at once and removes the object and the index written before it', async () => {
    const bytes = Buffer.from('a,b\n5,6\n7,8\n');
    const sha = createHash('sha256').update(bytes).digest('hex');
    // Another dataset's row already holds this file's id (its first 16 hex digits): the insert breaks the primary key.
    const squatter = { id: `ds_${sha.slice(0, 16)}`, name: 'squatter.csv', sha256: `${sha.slice(0, 16)}${'0'.repeat(48)}`, objectKey: 'elsewhere', format: 'csv', sizeBytes: 1, rows: 1, columns: [], featureColumns: [], createdAt: new Date() };
    await p.platform.orm.em.fork().insert(Dataset, squatter);
    try {
      const before = await footprint();
      const started = Date.now();
      const err = await p.client.uploadDataset(file('collides.csv', bytes)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(Date.now() - started).toBeLessThan(5000);
      expect(err).toMatchObject({ nonRetryable: true, type: 'DatabaseRefusedData' });
      expect((err as Error).message).toMatch(/collides\.csv: the database refused the statement: SQLSTATE 23505 .*constraint "dataset_pkey"$/);
      expect(await footprint()).toEqual(before);
    } finally {
      await p.sql('delete from dataset where id = ?', [squatter.id]);
    }
  });
});
