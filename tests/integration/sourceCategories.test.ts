import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { Client } from 'pg';
import type { DetectionSummary } from '../../src/client/nomalyClient';
import { explanationFromStored } from '../../src/db/anomalies';
import type { FeatureContribution } from '../../src/results/flagging';
import { decodeScoresFile } from '../../src/results/scoresFile';
import { Encoded } from '../../src/scoring/encoder';
import { decodeModelFile } from '../../src/scoring/modelFile';
import { SeededRandom } from '../../src/scoring/random';
import { pinObjects } from '../../src/sources/pinObjects';
import { sniffSnapshotSchema } from '../../src/sources/snapshotSchema';
import { sourceStores } from '../../src/sources/stores';
import { dropLake, lakeConnectionFile } from '../support/lake';
import { maybeRecordHistory, startTestPlatform, type TestPlatform } from '../support/testPlatform';
import { createWarehouse, warehouseConnectionEntry, type Warehouse } from '../support/warehouse';
import { rootCauseMessage } from '../../src/api/rootCause';

/**
 * Orders with a category, a boolean, a timestamp and a number (nulls in each) where they live:
 * Parquet and CSV objects in a lake bucket, and a warehouse table. Pinning infers their types as
 * registration does; training on the source learns the categories with their texts; detection on
 * the source finds the rare country and explains it by name. The three homes give the same scores.
 */
const ROWS = 3000;
const TRAIN_DAY = '2026-11-02';
const DETECT_DAY = '2026-11-03';
/** A day whose CSV holds a text in the amount column. */
const BAD_DAY = '2026-11-04';
const COUNTRIES = ['DE', 'FR', 'US', 'GB', 'IT', 'ES', 'NL', 'PL'];
/** Rows from a country seen once in training (its row TRAIN_NZ_ROW). */
const TRAIN_NZ_ROW = 1717;
const DETECT_NZ_ROWS = [700, 2300];
const FEATURES = ['amount', 'is_gift', 'country', 'created_at'];

interface Order {
  id: string;
  amount: number | null;
  is_gift: boolean | null;
  country: string | null;
  /** Epoch milliseconds. */
  created_at: number | null;
  note: string;
}

/** A day of orders, about 5% nulls in every feature (none in row 0 nor in the NZ rows). */
function orders(day: string, seed: number, nzRows: number[]): Order[] {
  const rng = new SeededRandom(seed);
  const start = Date.parse(`${day}T00:00:00Z`);
  const out: Order[] = [];
  for (let r = 0; r < ROWS; r++) {
    const nullable = r !== 0 && !nzRows.includes(r);
    const maybe = <T>(value: T): T | null => (nullable && rng.next() < 0.05 ? null : value);
    out.push({
      id: `${day.replace(/-/g, '')}-${String(r).padStart(5, '0')}`,
      amount: maybe(Math.round((40 + 20 * (rng.next() + rng.next() + rng.next() - 1.5)) * 100) / 100),
      is_gift: maybe(rng.next() < 0.2),
      country: maybe(COUNTRIES[Math.floor(rng.next() ** 2 * COUNTRIES.length)]),
      created_at: maybe(start + Math.round((8 + 10 * rng.next()) * 3600) * 1000),
      note: `note ${r} ${rng.next() < 0.5 ? 'wrap it' : 'please hurry'}`,
    });
  }
  for (const r of nzRows) out[r].country = 'NZ';
  return out;
}

const HEADER = 'id,amount,is_gift,country,created_at,note';

function csvLines(rows: Order[]): string[] {
  const cell = (v: unknown) => (v === null ? '' : String(v));
  return rows.map((o) => [o.id, cell(o.amount), cell(o.is_gift), cell(o.country), o.created_at === null ? '' : new Date(o.created_at).toISOString(), o.note].join(','));
}

function parquet(rows: Order[]): Buffer {
  return Buffer.from(
    parquetWriteBuffer({
      columnData: [
        { name: 'id', data: rows.map((o) => o.id), type: 'STRING' },
        { name: 'amount', data: rows.map((o) => o.amount), type: 'DOUBLE', nullable: true },
        { name: 'is_gift', data: rows.map((o) => o.is_gift), type: 'BOOLEAN', nullable: true },
        { name: 'country', data: rows.map((o) => o.country), type: 'STRING', nullable: true },
        { name: 'created_at', data: rows.map((o) => (o.created_at === null ? null : new Date(o.created_at))), type: 'TIMESTAMP', nullable: true },
        { name: 'note', data: rows.map((o) => o.note), type: 'STRING' },
      ],
      rowGroupSize: 1000,
    }),
  );
}

describe('categories, booleans and timestamps of sources where they live', () => {
  let p: TestPlatform;
  let warehouse: Warehouse;
  const lake = `nomaly-test-srccat-${process.pid}`;
  const savedConnections = process.env.NOMALY_CONNECTIONS_FILE;
  const days = { [TRAIN_DAY]: orders(TRAIN_DAY, 15, [TRAIN_NZ_ROW]), [DETECT_DAY]: orders(DETECT_DAY, 16, DETECT_NZ_ROWS) };

  const sources = {
    parquet: { kind: 'objects', connection: 'lake', bucket: lake, prefix: 'orders-parquet/dt={date}/', format: 'parquet', idColumn: 'id' },
    csv: { kind: 'objects', connection: 'lake', bucket: lake, prefix: 'orders-csv/dt={date}/', format: 'csv', idColumn: 'id' },
    postgres: {
      kind: 'postgres',
      connection: 'warehouse',
      query: 'select id, amount, is_gift, country, created_at, note from shop_orders where day = $date order by id',
      idColumn: 'id',
    },
  } as const;
  const window = (day: string) => ({ start: day, end: new Date(Date.parse(day) + 86_400_000).toISOString().slice(0, 10) });

  beforeAll(async () => {
    warehouse = await createWarehouse('srccat');
    const owner = new Client({ connectionString: warehouse.url });
    await owner.connect();
    try {
      await owner.query('create table shop_orders (id text primary key, day date not null, amount float8, is_gift boolean, country text, created_at timestamptz, note text not null)');
      await owner.query(`grant select on shop_orders to "${warehouse.readerRole}"`);
      for (const [day, rows] of Object.entries(days)) {
        await owner.query(
          `insert into shop_orders select id, $1::date, amount, is_gift, country, created_at, note
             from unnest($2::text[], $3::float8[], $4::boolean[], $5::text[], $6::timestamptz[], $7::text[]) as t(id, amount, is_gift, country, created_at, note)`,
          [day, rows.map((o) => o.id), rows.map((o) => o.amount), rows.map((o) => o.is_gift), rows.map((o) => o.country), rows.map((o) => (o.created_at === null ? null : new Date(o.created_at))), rows.map((o) => o.note)],
        );
      }
    } finally {
      await owner.end();
    }
    const { loadConfig } = await import('../../src/config');
    process.env.NOMALY_CONNECTIONS_FILE = lakeConnectionFile(mkdtempSync(path.join(os.tmpdir(), 'nomaly-srccat-')), loadConfig(), { warehouse: warehouseConnectionEntry(warehouse) });
    p = await startTestPlatform();
    const store = p.platform.store;
    await store.ensureBuckets([lake]);
    for (const [day, rows] of Object.entries(days)) {
      await store.putBytes(lake, `orders-parquet/dt=${day}/part-0.parquet`, parquet(rows));
      // CSV in two objects (a _SUCCESS marker beside them): the types come from the first rows of the first parts.
      const lines = csvLines(rows);
      await store.putBytes(lake, `orders-csv/dt=${day}/part-0.csv`, Buffer.from(`${HEADER}\n${lines.slice(0, ROWS / 2).join('\n')}\n`));
      await store.putBytes(lake, `orders-csv/dt=${day}/part-1.csv`, Buffer.from(`${HEADER}\n${lines.slice(ROWS / 2).join('\n')}\n`));
      await store.putBytes(lake, `orders-csv/dt=${day}/_SUCCESS`, Buffer.alloc(0));
    }
  });

  afterAll(async () => {
    await p?.stop();
    await dropLake(p.platform.store, lake).catch(() => undefined);
    await warehouse?.drop();
    if (savedConnections === undefined) delete process.env.NOMALY_CONNECTIONS_FILE;
    else process.env.NOMALY_CONNECTIONS_FILE = savedConnections;
  });

  it('trains on each home with the inferred types and finds the rare country there, explained by its text; the three homes score alike', async () => {
    const scored: Record<string, { scores: Float64Array; threshold: number }> = {};
    for (const [home, source] of Object.entries(sources)) {
      const name = `srccat-${home}`;
      // No feature list: the source's inferred types choose them, as a dataset's profile would (note is text, id the id).
      const training = await p.client.startTraining({ modelName: name, source, window: window(TRAIN_DAY), algorithm: 'knn', standardize: 'zscore', contamination: 0.01 } as never);
      const trained = await training.result();
      if (home === 'parquet') await maybeRecordHistory(training, 'trainModelSource');
      const [model] = await p.sql<{ artifact_key: string; feature_columns: string[]; source: { columnTypes: Record<string, string> } }>(
        'select artifact_key, feature_columns, source from model where name = ?',
        [name],
      );
      expect(model.feature_columns).toEqual(FEATURES);
      expect(model.source.columnTypes).toEqual({ is_gift: 'boolean', country: 'category', created_at: 'timestamp', note: 'text' });
      const encoder = (decodeModelFile(await p.platform.store.getVerifiedBytes(p.config.buckets.models, model.artifact_key)).detector as Encoded).encoder;
      expect(encoder.kinds()).toEqual(['number', 'number', 'category', 'timestamp']);
      // The levels carry their texts, read from the source's chunks.
      expect(encoder.outputNames(FEATURES)).toEqual(expect.arrayContaining(['country=DE', 'country=NZ', 'country=(missing)', 'country=(rare)']));

      const summary = (await (await p.client.startDetection({ model: name, source, window: window(DETECT_DAY), chunkRows: 1000 } as never)).result()) as DetectionSummary;
      expect(summary).toMatchObject({ status: 'completed', rows: ROWS });
      const scores = decodeScoresFile(await p.platform.store.getVerifiedBytes(summary.scoresBucket, summary.scoresKey));
      scored[home] = { scores, threshold: trained.threshold };
      const flagged = new Map(
        (await p.sql<{ row_id: string; explanation: unknown }>('select row_id, explanation from anomaly where job_id = ?', [summary.jobId])).map((row) => [
          row.row_id,
          explanationFromStored(row.explanation) as FeatureContribution[],
        ]),
      );
      for (const r of DETECT_NZ_ROWS) {
        const explanation = flagged.get(days[DETECT_DAY][r].id);
        expect(explanation).toBeDefined();
        expect(explanation![0]).toMatchObject({ feature: 'country', text: 'NZ', percentile: null });
      }
      // Explanations name source columns, never derived features.
      for (const e of flagged.values()) for (const f of e) expect(FEATURES).toContain(f.feature);
    }
    for (const home of ['csv', 'postgres']) {
      expect(scored[home].threshold).toBe(scored.parquet.threshold);
      expect(Buffer.from(scored[home].scores.buffer).equals(Buffer.from(scored.parquet.scores.buffer))).toBe(true);
    }
  });

  it('types objects whose columns come in different orders by name, and a malformed sample names its object', async () => {
    const store = p.platform.store;
    const storeOf = sourceStores(p.config, store);
    const indexes = { store, bucket: p.config.buckets.datasets };
    await store.putBytes(lake, 'mixed/part-0.csv', Buffer.from('id,label,n,flag,when\n1,0,1.5,true,2026-11-01\n2,1,2,false,2026-11-02\n'));
    await store.putBytes(lake, 'mixed/part-1.csv', Buffer.from('when,flag,n,label,id\n2026-11-03T10:00:00Z,,NA,0,3\n'));
    const pinned = await pinObjects({ connection: 'lake', store, bucket: lake, prefix: 'mixed/', format: 'csv' }, indexes, () => undefined);
    expect(pinned.columns).toEqual(['id', 'label', 'n', 'flag', 'when']);
    // id and label are never typed (the readers give them their roles); the rest by name across both objects.
    expect(await sniffSnapshotSchema(pinned.parts, pinned.columns, storeOf, indexes)).toEqual({ flag: 'boolean', when: 'timestamp' });

    await store.putBytes(lake, 'broken/part-0.csv', Buffer.from('n,country\n1,DE\n2,FR,extra\n'));
    const broken = await pinObjects({ connection: 'lake', store, bucket: lake, prefix: 'broken/', format: 'csv' }, indexes, () => undefined);
    await expect(sniffSnapshotSchema(broken.parts, broken.columns, storeOf, indexes)).rejects.toThrow(`lake:${lake}/broken/part-0.csv: line 3`);
  });

  it('a column numeric in training that holds text at scoring time fails the job, naming object, line and column', async () => {
    // Trained above; the bad day's amounts carry a currency in one row of the second object.
    const rows = orders(BAD_DAY, 17, []);
    const lines = csvLines(rows);
    lines[ROWS / 2 + 41] = lines[ROWS / 2 + 41].replace(/^([^,]+),[^,]*,/, '$1,EUR 12.50,');
    await p.platform.store.putBytes(lake, `orders-csv/dt=${BAD_DAY}/part-0.csv`, Buffer.from(`${HEADER}\n${lines.slice(0, ROWS / 2).join('\n')}\n`));
    await p.platform.store.putBytes(lake, `orders-csv/dt=${BAD_DAY}/part-1.csv`, Buffer.from(`${HEADER}\n${lines.slice(ROWS / 2).join('\n')}\n`));
    const outcome = await (await p.client.startDetection({ model: 'srccat-csv', source: sources.csv, window: window(BAD_DAY), chunkRows: 1000 } as never)).result().then(
      () => 'completed',
      (err: unknown) => err,
    );
    expect(outcome).toBeInstanceOf(WorkflowFailedError);
    expect(rootCauseMessage(outcome)).toMatch(/^malformed row in source snapshot /);
    expect(rootCauseMessage(outcome)).toContain(`lake:${lake}/orders-csv/dt=${BAD_DAY}/part-1.csv`);
    expect(rootCauseMessage(outcome)).toMatch(/line 43, column "amount": "EUR 12.50" is not a number/);
  });
});
