import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { DetectionSummary } from '../../src/activities';
import { explanationFromStored } from '../../src/db/anomalies';
import type { FeatureContribution } from '../../src/results/flagging';
import { decodeScoresFile } from '../../src/results/scoresFile';
import { Encoded } from '../../src/scoring/encoder';
import { Imputed } from '../../src/scoring/imputer';
import { decodeModelFile } from '../../src/scoring/modelFile';
import { SeededRandom } from '../../src/scoring/random';
import { startTestPlatform, type TestPlatform } from '../support/testPlatform';
import { rootCauseMessage } from '../../src/api/rootCause';

const ROWS = 4000;
/** Skewed: the first countries are the frequent ones. */
const COUNTRIES = ['DE', 'FR', 'US', 'GB', 'IT', 'ES', 'NL', 'PL'];
const CHANNELS = ['web', 'app', 'phone'];
/** A country no other order comes from. */
const RARE_COUNTRY_ROW = 1717;
/** An amount far out. */
const BIG_AMOUNT_ROW = 2871;
const FEATURES = ['amount', 'items', 'is_gift', 'country', 'channel', 'created_at'];

interface Order {
  id: string;
  amount: number | null;
  items: number | null;
  is_gift: boolean | null;
  country: string | null;
  channel: string | null;
  /** Epoch milliseconds. */
  created_at: number | null;
  note: string;
}

/** Orders with every column type and about 5% nulls in every feature (none in row 0, which names the JSON columns, nor in the two anomalies). */
function orders(): Order[] {
  const rng = new SeededRandom(15);
  const start = Date.UTC(2026, 2, 2); // a Monday
  const out: Order[] = [];
  for (let r = 0; r < ROWS; r++) {
    const nullable = r !== 0 && r !== RARE_COUNTRY_ROW && r !== BIG_AMOUNT_ROW;
    const maybe = <T>(value: T): T | null => (nullable && rng.next() < 0.05 ? null : value);
    // Weekdays, 08:00-18:00 UTC, over four weeks.
    const day = Math.floor(rng.next() * 28);
    const created = start + (day + (day % 7 >= 5 ? -2 : 0)) * 86_400_000 + Math.round((8 + 10 * rng.next()) * 3600) * 1000;
    out.push({
      id: `o${r}`,
      amount: maybe(Math.round((40 + 20 * (rng.next() + rng.next() + rng.next() - 1.5)) * 100) / 100),
      items: maybe(1 + Math.floor(rng.next() * 5)),
      is_gift: maybe(rng.next() < 0.2),
      country: maybe(COUNTRIES[Math.floor(rng.next() ** 2 * COUNTRIES.length)]),
      channel: maybe(CHANNELS[Math.floor(rng.next() * CHANNELS.length)]),
      created_at: maybe(created),
      note: `customer note ${r}, ${rng.next() < 0.5 ? 'wrap it' : 'please hurry'}`,
    });
  }
  out[RARE_COUNTRY_ROW].country = 'NZ';
  out[BIG_AMOUNT_ROW].amount = 2500;
  return out;
}

const iso = (ms: number) => new Date(ms).toISOString();

function csv(rows: Order[]): string {
  const lines = ['id,amount,items,is_gift,country,channel,created_at,note'];
  const nulls = ['', 'NA', 'null'];
  let k = 0;
  const cell = (v: unknown) => (v === null ? nulls[k++ % nulls.length] : String(v));
  for (const o of rows) {
    lines.push([o.id, cell(o.amount), cell(o.items), cell(o.is_gift), cell(o.country), cell(o.channel), o.created_at === null ? cell(null) : iso(o.created_at), `"${o.note}"`].join(','));
  }
  return `${lines.join('\n')}\n`;
}

function jsonLines(rows: Order[]): string {
  return rows.map((o) => `${JSON.stringify({ ...o, created_at: o.created_at === null ? null : iso(o.created_at) })}\n`).join('');
}

function parquet(rows: Order[]): Buffer {
  return Buffer.from(
    parquetWriteBuffer({
      columnData: [
        { name: 'id', data: rows.map((o) => o.id), type: 'STRING' },
        { name: 'amount', data: rows.map((o) => o.amount), type: 'DOUBLE', nullable: true },
        { name: 'items', data: rows.map((o) => o.items), type: 'INT32', nullable: true },
        { name: 'is_gift', data: rows.map((o) => o.is_gift), type: 'BOOLEAN', nullable: true },
        { name: 'country', data: rows.map((o) => o.country), type: 'STRING', nullable: true, encoding: 'RLE_DICTIONARY' },
        { name: 'channel', data: rows.map((o) => o.channel), type: 'STRING', nullable: true },
        { name: 'created_at', data: rows.map((o) => (o.created_at === null ? null : new Date(o.created_at))), type: 'TIMESTAMP', nullable: true },
        { name: 'note', data: rows.map((o) => o.note), type: 'STRING' },
      ],
      rowGroupSize: 1500,
    }),
  );
}

/** Issue 15's orders on the real stack: every column type, 5% nulls, three formats, one model each. */
describe('orders with categories, timestamps and nulls on the real stack', () => {
  let p: TestPlatform;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nomaly-orders-'));
  const data = orders();
  const files = { csv: path.join(dir, 'orders.csv'), jsonl: path.join(dir, 'orders.jsonl'), parquet: path.join(dir, 'orders.parquet') };

  beforeAll(async () => {
    p = await startTestPlatform();
    writeFileSync(files.csv, csv(data));
    writeFileSync(files.jsonl, jsonLines(data));
    writeFileSync(files.parquet, parquet(data));
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('trains and detects on CSV, JSON lines and Parquet with the same scores; the rare country and the big amount are found and explained by their columns', async () => {
    const results: Record<string, { scores: Float64Array; threshold: number }> = {};
    for (const [format, file] of Object.entries(files)) {
      const uploaded = await p.client.uploadDataset(file);
      expect(uploaded.featureColumns).toEqual(FEATURES);
      expect(uploaded.cellTypes).toEqual({ country: 'category', channel: 'category', created_at: 'timestamp' });
      const name = `orders-${format}`;
      // A distance on standardised features: one order from NZ among thousands is far out on its one-hot column.
      // (ECOD and Isolation Forest spread a row's score over every encoded feature, and one rare level does not lift it past the 1% threshold here.)
      const trained = await (await p.client.startTraining({ datasetId: uploaded.id, modelName: name, algorithm: 'knn', standardize: 'zscore', contamination: 0.01 })).result();
      const [model] = await p.sql<{ artifact_key: string; feature_columns: string[] }>('select artifact_key, feature_columns from model where name = ?', [name]);
      expect(model.feature_columns).toEqual(FEATURES);
      const stored = decodeModelFile(await p.platform.store.getVerifiedBytes(p.config.buckets.models, model.artifact_key)).detector as Encoded;
      // encode → impute → standardise → detect; the country levels carry their texts.
      expect(stored).toBeInstanceOf(Encoded);
      expect(stored.inner).toBeInstanceOf(Imputed);
      expect((stored.inner as Imputed).inner.algorithm).toBe('pipeline');
      expect(stored.encoder.kinds()).toEqual(['number', 'number', 'number', 'category', 'category', 'timestamp']);
      expect(stored.encoder.outputNames(FEATURES)).toEqual(expect.arrayContaining(['country=DE', 'country=NZ', 'country=(missing)', 'country=(rare)', 'channel=web', 'created_at (hour sin)']));

      const summary = (await (await p.client.startDetection({ model: name, datasetId: uploaded.id, chunkRows: 1500 })).result()) as DetectionSummary;
      expect(summary).toMatchObject({ status: 'completed', rows: ROWS });
      const scores = decodeScoresFile(await p.platform.store.getVerifiedBytes(summary.scoresBucket, summary.scoresKey));
      results[format] = { scores, threshold: trained.threshold };
      expect(scores[RARE_COUNTRY_ROW]).toBeGreaterThan(trained.threshold);
      expect(scores[BIG_AMOUNT_ROW]).toBeGreaterThan(trained.threshold);

      const flagged = new Map(
        (await p.sql<{ row_index: string; explanation: unknown }>('select row_index, explanation from anomaly where job_id = ?', [summary.jobId])).map((row) => [
          Number(row.row_index),
          explanationFromStored(row.explanation) as FeatureContribution[],
        ]),
      );
      expect(flagged.get(RARE_COUNTRY_ROW)![0]).toMatchObject({ feature: 'country', text: 'NZ', percentile: null });
      expect(flagged.get(BIG_AMOUNT_ROW)![0]).toMatchObject({ feature: 'amount', value: 2500 });
      // Every explanation names a source column, never a derived feature.
      const named = new Set([...flagged.values()].flatMap((e) => e.map((f) => f.feature)));
      for (const feature of named) expect(FEATURES).toContain(feature);

      const report = (await p.platform.store.getVerifiedBytes(summary.scoresBucket, summary.reportKey)).toString('utf8');
      expect(report).toContain('<td class="name">country</td><td>NZ</td>');
      expect(report).toContain('<td class="name">amount</td><td>2500</td>');
      expect(report).not.toMatch(/country=|hour sin|\(frequency\)/);
    }
    for (const format of ['jsonl', 'parquet']) {
      expect(results[format].threshold).toBe(results.csv.threshold);
      expect(Buffer.from(results[format].scores.buffer).equals(Buffer.from(results.csv.scores.buffer))).toBe(true);
    }
  });

  it('a column numeric in training that holds text at scoring time fails the job with a clear error naming line and column', async () => {
    await (await p.client.startTraining({ datasetId: (await p.client.uploadDataset(files.csv)).id, modelName: 'orders-numeric', algorithm: 'hbos' })).result();
    // Amounts written with their currency: registration takes the column for text, the model still reads it as a number.
    const withCurrency = path.join(dir, 'orders-eur.csv');
    writeFileSync(withCurrency, csv(data).replace(/^(o\d+),([0-9.]+),/gm, '$1,EUR $2,'));
    const uploaded = await p.client.uploadDataset(withCurrency);
    expect(uploaded.featureColumns).not.toContain('amount');
    const outcome = await (await p.client.startDetection({ model: 'orders-numeric', datasetId: uploaded.id })).result().then(
      () => 'completed',
      (err: unknown) => err,
    );
    expect(outcome).toBeInstanceOf(WorkflowFailedError);
    expect(rootCauseMessage(outcome)).toMatch(/line 2, column "amount": "EUR [0-9.]+" is not a number/);
  });

  it('features, exclude, schema and timestamps shape the model; a choice the dataset cannot meet is refused naming the field, before a version is reserved', async () => {
    const uploaded = await p.client.uploadDataset(files.csv);
    await (
      await p.client.startTraining({ datasetId: uploaded.id, modelName: 'orders-chosen', algorithm: 'hbos', exclude: ['is_gift'], schema: { items: 'category', note: 'category' }, timestamps: 'exclude' })
    ).result();
    const [chosen] = await p.sql<{ artifact_key: string; feature_columns: string[] }>('select artifact_key, feature_columns from model where name = ?', ['orders-chosen']);
    expect(chosen.feature_columns).toEqual(['amount', 'items', 'country', 'channel', 'note']);
    const encoder = (decodeModelFile(await p.platform.store.getVerifiedBytes(p.config.buckets.models, chosen.artifact_key)).detector as Encoded).encoder;
    // 4,000 distinct notes: frequency encoded; 5 item counts (and missing): one-hot.
    expect([encoder.encodingOf(1), encoder.encodingOf(4)]).toEqual(['one-hot', 'frequency']);
    const detected = (await (await p.client.startDetection({ model: 'orders-chosen', datasetId: uploaded.id })).result()) as DetectionSummary;
    expect(detected).toMatchObject({ status: 'completed', rows: ROWS });

    for (const [input, message] of [
      [{ features: ['amount', 'colour'] }, '"features" names a column not in dataset'],
      [{ features: ['amount', 'id'] }, '"features" names "id", the dataset\'s id column'],
      [{ features: ['amount', 'note'] }, '"features" names "note", a text column'],
      [{ features: ['created_at'], timestamps: 'exclude' }, '"features" names "created_at", a timestamp column, while "timestamps" is "exclude"'],
    ] as const) {
      const outcome = await (await p.client.startTraining({ datasetId: uploaded.id, modelName: 'orders-refused', ...input })).result().then(
        () => 'completed',
        (err: unknown) => err,
      );
      expect(outcome).toBeInstanceOf(WorkflowFailedError);
      expect(rootCauseMessage(outcome)).toContain(message);
    }
    expect(await p.sql('select id from model where name = ?', ['orders-refused'])).toEqual([]);
  });
});
