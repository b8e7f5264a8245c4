import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { DetectionSummary } from '../../src/activities';
import type { FeatureContribution } from '../../src/api/results';
import { readCsv } from '../../src/data/csv';
import { explanationFromStored } from '../../src/db/anomalies';
import { benjaminiHochberg } from '../../src/scoring/benjaminiHochberg';
import { conformalPValues } from '../../src/scoring/conformal';
import { maxAlerts } from '../../src/scoring/maxAlerts';
import { decodeModelFile } from '../../src/scoring/modelFile';
import { SeededRandom } from '../../src/scoring/random';
import { gaussian } from '../unit/scoring/explainData';
import { ApplicationFailure } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import { maybeRecordHistory, startTestPlatform, type TestPlatform } from '../support/testPlatform';

const run = promisify(execFile);
const cli = path.resolve(__dirname, '../../dist/client/cli.js');
const ROWS = 20_000;
const D = 6;
/** In the scored data every 101st row is an anomaly (198 rows, 1%): shifted 7σ in feature (row mod D). */
const isInjected = (row: number) => row % 101 === 17;

/** `clean`: inliers only, as a reference period a model is trained on; otherwise the rows to score. */
function writeData(file: string, clean: boolean): void {
  const rng = new SeededRandom(clean ? 22 : 21);
  const lines = [['id', ...Array.from({ length: D }, (_, f) => `f${f}`)].join(',')];
  for (let row = 0; row < ROWS; row++) {
    const cells = Array.from({ length: D }, () => gaussian(rng));
    if (!clean && isInjected(row)) cells[row % D] += row % 2 === 0 ? 7 : -7;
    lines.push([`o${row}`, ...cells.map((v) => v.toFixed(6))].join(','));
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

/** The root ApplicationFailure a failed workflow ended with. */
async function rootFailure(handle: WorkflowHandle): Promise<ApplicationFailure> {
  const err = await handle.result().then(() => undefined, (e: unknown) => e);
  let current = err as { cause?: unknown } | undefined;
  while (current?.cause) current = current.cause as typeof current;
  expect(current).toBeInstanceOf(ApplicationFailure);
  return current as ApplicationFailure;
}

interface StoredAnomaly {
  row_index: number;
  row_id: string;
  score: number;
  p_value: number;
  explanation: FeatureContribution[];
}

/** Thresholds a person chooses (fdr, maxAlerts) and explanations, through the real workflows. */
describe('thresholds and explanations of a detection job', () => {
  let p: TestPlatform;
  let datasetId: string;
  let file: string;
  let localScores: Float64Array;
  let pValues: Float64Array;
  beforeAll(async () => {
    p = await startTestPlatform();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nomaly-thresholds-'));
    file = path.join(dir, 'orders.csv');
    writeData(file, false);
    datasetId = (await p.client.uploadDataset(file)).id;
    // The conformal guarantee holds for rows like the calibration rows: train on a clean reference period.
    const reference = path.join(dir, 'reference.csv');
    writeData(reference, true);
    const referenceId = (await p.client.uploadDataset(reference)).id;
    // Robust z names a one-feature shift exactly; the model's own rule is fdr at 5%.
    const trained = await (await p.client.startTraining({ datasetId: referenceId, modelName: 'thr', algorithm: 'robust-z', threshold: { method: 'fdr', alpha: 0.05 } })).result();
    expect(trained.metrics.calibrationScores).toBeGreaterThan(3000);
    const model = decodeModelFile(await p.platform.store.getVerifiedBytes(p.config.buckets.models, trained.artifactKey, trained.artifactSha256));
    expect(model.calibrationScores!.length).toBe(trained.metrics.calibrationScores);
    const table = readCsv(readFileSync(file), { idColumn: 'id' });
    localScores = model.detector.score(table.features);
    pValues = conformalPValues(model.calibrationScores!, localScores);
  }, 120_000);
  afterAll(async () => {
    await p?.stop();
  });

  const anomaliesOf = async (jobId: string) =>
    (await p.sql<StoredAnomaly>('select row_index, row_id, score, p_value, explanation from anomaly where job_id = ? order by row_index', [jobId])).map((a) => ({
      ...a,
      explanation: explanationFromStored(a.explanation)!,
    }));

  it("flags by the model's fdr rule over the whole job: the rows Benjamini–Hochberg flags, whatever the chunking, each explained", async () => {
    const expected = benjaminiHochberg(pValues, 0.05);
    const flaggedRows = Array.from(expected.flagged.keys()).filter((i) => expected.flagged[i] === 1);
    expect(flaggedRows.length).toBeGreaterThan(180);
    const summaries: DetectionSummary[] = [];
    for (const chunkRows of [3000, 7000]) {
      const handle = await p.client.startDetection({ model: 'thr', datasetId, chunkRows });
      const summary = (await handle.result()) as DetectionSummary;
      summaries.push(summary);
      expect(summary.flagging).toMatchObject({ rule: { method: 'fdr', alpha: 0.05 }, ruleFrom: 'model', flagged: flaggedRows.length, calibrationScores: expect.any(Number) });
      expect(summary.flagging!.candidates).toBeGreaterThanOrEqual(flaggedRows.length);
      expect(summary.anomalies).toBe(flaggedRows.length);
      const stored = await anomaliesOf(summary.jobId);
      expect(stored.map((a) => Number(a.row_index))).toEqual(flaggedRows);
      for (const a of stored) {
        const row = Number(a.row_index);
        expect(a.row_id).toBe(`o${row}`);
        expect(Number(a.p_value)).toBe(pValues[row]);
        expect(a.explanation).toHaveLength(5);
        if (isInjected(row)) {
          expect(a.explanation[0].feature).toBe(`f${row % D}`);
          expect([0, 100]).toContain(a.explanation[0].percentile);
        }
      }
      if (chunkRows === 3000) await maybeRecordHistory(handle, 'detectBatchFdr');
    }
    // Almost every injected row is found, and few others: at most α of the flagged are expected to be false alarms.
    const injectedFound = flaggedRows.filter(isInjected).length;
    expect(injectedFound).toBeGreaterThanOrEqual(190);
    expect((flaggedRows.length - injectedFound) / flaggedRows.length).toBeLessThanOrEqual(0.1);
    expect(summaries[0].topAnomalies[0].explanation?.[0].feature).toMatch(/^f\d$/);
  }, 180_000);

  it("takes the job's own rule over the model's: at most n alerts, the highest scores", async () => {
    const summary = (await (await p.client.startDetection({ model: 'thr', datasetId, chunkRows: 2500, threshold: { method: 'maxAlerts', n: 40 }, explain: 2 })).result()) as DetectionSummary;
    const expected = maxAlerts(localScores, 40);
    expect(summary.flagging).toMatchObject({ rule: { method: 'maxAlerts', n: 40 }, ruleFrom: 'job', flagged: expected.count, excludedByTie: expected.excludedByTie });
    const stored = await anomaliesOf(summary.jobId);
    expect(stored.map((a) => Number(a.row_index))).toEqual(Array.from(expected.flagged.keys()).filter((i) => expected.flagged[i] === 1));
    expect(stored.every((a) => a.explanation.length === 2)).toBe(true);
  }, 120_000);

  it('refuses, within seconds, an fdr level below the smallest p-value the model can give', async () => {
    const started = Date.now();
    const handle = await p.client.startDetection({ model: 'thr', datasetId, threshold: { method: 'fdr', alpha: 0.00001 } });
    const failure = await rootFailure(handle);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(failure.type).toBe('InvalidInput');
    expect(failure.message).toMatch(/alpha 0.00001|alpha 1e-5/);
    expect(failure.message).toMatch(/smallest p-value model thr@1 can give/);
  }, 60_000);

  it('takes the rule from the CLI: nomaly detect --max-alerts', async () => {
    const { stdout } = await run(process.execPath, [cli, 'detect', '--model', 'thr', '--dataset', datasetId, '--max-alerts', '10', '--explain', '1', '--wait', '--json'], { maxBuffer: 16 * 1024 * 1024 });
    const summary = JSON.parse(stdout) as DetectionSummary;
    expect(summary.flagging).toMatchObject({ rule: { method: 'maxAlerts', n: 10 }, ruleFrom: 'job', flagged: 10 });
    expect(summary.topAnomalies[0].explanation).toHaveLength(1);
  }, 120_000);
});
