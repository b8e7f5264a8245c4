import { explanationFromStored } from '../../src/db/anomalies';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { DetectionSummary } from '../../src/activities';
import { decodeScoresFile } from '../../src/results/scoresFile';
import { Imputed } from '../../src/scoring/imputer';
import { decodeModelFile } from '../../src/scoring/modelFile';
import { SeededRandom } from '../../src/scoring/random';
import { startTestPlatform, type TestPlatform } from '../support/testPlatform';
import { rootCauseMessage } from '../../src/api/rootCause';

const ROWS = 4000;
const FEATURES = ['amount', 'items', 'discount', 'weight'];
/** A row whose amount is far out: still found with missing cells all around it. */
const ANOMALY_ROW = 1234;

/** The same table with about 5% of its feature cells missing (none in row 0, which names the JSON columns, nor in the anomaly). */
function dataset(): { ids: string[]; values: (number | null)[][] } {
  const rng = new SeededRandom(42);
  const ids: string[] = [];
  const values: (number | null)[][] = [];
  for (let r = 0; r < ROWS; r++) {
    ids.push(`o${r}`);
    const row = FEATURES.map((_, c) => Math.round((50 + 10 * c + 4 * (rng.next() + rng.next() + rng.next() - 1.5)) * 1000) / 1000);
    if (r === ANOMALY_ROW) row[0] = 400;
    values.push(row.map((v) => (r !== 0 && r !== ANOMALY_ROW && rng.next() < 0.05 ? null : v)));
  }
  return { ids, values };
}

/** CSV with the missing cells written as each token in turn. */
function csv({ ids, values }: ReturnType<typeof dataset>): string {
  const tokens = ['', 'NA', 'N/A', 'null', 'NULL', 'NaN', 'nan', '""'];
  let k = 0;
  const lines = [`id,${FEATURES.join(',')}`];
  values.forEach((row, r) => lines.push([ids[r], ...row.map((v) => (v === null ? tokens[k++ % tokens.length] : String(v)))].join(',')));
  return `${lines.join('\n')}\n`;
}

/** JSON lines with the missing values as null or as an absent key, alternately. */
function jsonLines({ ids, values }: ReturnType<typeof dataset>): string {
  let k = 0;
  return values
    .map((row, r) => {
      const object: Record<string, unknown> = { id: ids[r] };
      FEATURES.forEach((name, c) => {
        if (row[c] !== null) object[name] = row[c];
        else if (k++ % 2 === 0) object[name] = null;
      });
      return `${JSON.stringify(object)}\n`;
    })
    .join('');
}

function parquet({ ids, values }: ReturnType<typeof dataset>): Buffer {
  return Buffer.from(
    parquetWriteBuffer({
      columnData: [
        { name: 'id', data: ids, type: 'STRING' },
        ...FEATURES.map((name, c) => ({ name, data: values.map((row) => row[c]), type: 'DOUBLE' as const, nullable: true })),
      ],
      rowGroupSize: 1500,
    }),
  );
}

/** Missing values end to end: the same data with 5% missing cells as CSV, JSON lines and Parquet. */
describe('missing values on the real stack', () => {
  let p: TestPlatform;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nomaly-missing-'));
  const data = dataset();
  const files = {
    csv: path.join(dir, 'orders.csv'),
    jsonl: path.join(dir, 'orders.jsonl'),
    parquet: path.join(dir, 'orders.parquet'),
  };

  beforeAll(async () => {
    p = await startTestPlatform();
    writeFileSync(files.csv, csv(data));
    writeFileSync(files.jsonl, jsonLines(data));
    writeFileSync(files.parquet, parquet(data));
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('registers, trains (median and indicators) and detects with the same scores for all three formats; the anomaly is found', async () => {
    const missingPerColumn = FEATURES.map((_, c) => data.values.filter((row) => row[c] === null).length);
    expect(Math.min(...missingPerColumn)).toBeGreaterThan(100);
    const results: Record<string, { scores: Float64Array; threshold: number }> = {};
    for (const [format, file] of Object.entries(files)) {
      const uploaded = await p.client.uploadDataset(file);
      const shown = await p.client.reads.showDataset(uploaded.id);
      expect(shown.columnProfiles.filter((c) => c.role === 'feature').map((c) => c.nullCount)).toEqual(missingPerColumn);
      const trained = await (await p.client.startTraining({ datasetId: uploaded.id, modelName: `missing-${format}`, algorithm: 'knn', contamination: 0.01, standardize: 'zscore' })).result();
      const [model] = await p.sql<{ artifact_key: string }>('select artifact_key from model where name = ?', [`missing-${format}`]);
      const stored = decodeModelFile(await p.platform.store.getVerifiedBytes(p.config.buckets.models, model.artifact_key)).detector;
      expect(stored).toBeInstanceOf(Imputed);
      expect(Array.from((stored as Imputed).imputer.indicators)).toEqual([0, 1, 2, 3]);
      const summary = (await (await p.client.startDetection({ model: `missing-${format}`, datasetId: uploaded.id, chunkRows: 1500 })).result()) as DetectionSummary;
      expect(summary).toMatchObject({ status: 'completed', rows: ROWS });
      const scores = decodeScoresFile(await p.platform.store.getVerifiedBytes(summary.scoresBucket, summary.scoresKey));
      results[format] = { scores, threshold: trained.threshold };
      // A distance-based detector: rows missing several cells are rare too, and distribution-based ones (isolation forest, hbos) rank them high.
      const flagged = (
        await p.sql<{ row_index: string; explanation: unknown }>('select row_index, explanation from anomaly where job_id = ? order by score desc', [summary.jobId])
      ).map((row) => ({ ...row, explanation: explanationFromStored(row.explanation)! as Array<{ feature: string; value: number | null }> }));
      expect(Number(flagged[0].row_index)).toBe(ANOMALY_ROW);
      expect(flagged[0].explanation[0]).toMatchObject({ feature: 'amount', value: 400 });
      // Explanations name the original columns only (an indicator's share is its column's); a missing value is stored as null.
      const explained = flagged.flatMap((row) => row.explanation);
      expect(new Set(explained.map((e) => e.feature))).toEqual(new Set(FEATURES));
      expect(explained.some((e) => e.value === null)).toBe(true);
      expect(scores[ANOMALY_ROW]).toBeGreaterThan(trained.threshold);
    }
    expect(results.csv.scores.every(Number.isFinite)).toBe(true);
    for (const format of ['jsonl', 'parquet']) {
      expect(results[format].threshold).toBe(results.csv.threshold);
      expect(Buffer.from(results[format].scores.buffer).equals(Buffer.from(results.csv.scores.buffer))).toBe(true);
    }
  });

  it('complete data trains today\'s model (no imputation stage), which refuses a missing value when scoring, saying why', async () => {
    const complete = path.join(dir, 'complete.csv');
    writeFileSync(complete, csv({ ids: data.ids, values: data.values.map((row) => row.map((v, c) => v ?? 50 + 10 * c)) }));
    const uploaded = await p.client.uploadDataset(complete);
    await (await p.client.startTraining({ datasetId: uploaded.id, modelName: 'missing-none', standardize: 'zscore' })).result();
    const [model] = await p.sql<{ artifact_key: string }>('select artifact_key from model where name = ?', ['missing-none']);
    const stored = decodeModelFile(await p.platform.store.getVerifiedBytes(p.config.buckets.models, model.artifact_key)).detector;
    expect(stored.algorithm).toBe('pipeline');
    const withMissing = await p.client.uploadDataset(files.csv);
    const outcome = await (await p.client.startDetection({ model: 'missing-none', datasetId: withMissing.id })).result().then(
      () => 'completed',
      (err: unknown) => err,
    );
    expect(outcome).toBeInstanceOf(WorkflowFailedError);
    expect(rootCauseMessage(outcome)).toContain('a missing value: this model was trained on data without any');
  });

  it('`missing: "reject"` fails the training within seconds with a non-retryable error naming row and column', async () => {
    const uploaded = await p.client.uploadDataset(files.csv);
    const started = Date.now();
    const handle = await p.client.startTraining({ datasetId: uploaded.id, modelName: 'missing-reject', missing: 'reject' });
    const outcome = await handle.result().then(
      () => 'completed',
      (err: unknown) => err,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(outcome).toBeInstanceOf(WorkflowFailedError);
    let cause = (outcome as WorkflowFailedError).cause;
    if (cause instanceof ActivityFailure) cause = cause.cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).nonRetryable).toBe(true);
    const firstMissing = data.values.findIndex((row) => row.some((v) => v === null));
    const column = FEATURES[data.values[firstMissing].findIndex((v) => v === null)];
    expect((cause as ApplicationFailure).message).toContain(`row ${firstMissing + 1}, column "${column}": the value is missing, and the missing-value policy is "reject"`);
  });
});

