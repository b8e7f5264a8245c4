import { explanationFromStored } from '../../src/db/anomalies';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { DetectionSummary } from '../../src/activities';
import type { FeatureContribution } from '../../src/api/results';
import { compactExplanation } from '../../src/results/explanationText';
import { csvField } from '../../src/results/scoresCsv';
import { decodeScoresFile } from '../../src/results/scoresFile';
import { jobScoresCsvKey } from '../../src/storage/keys';
import { writeSyntheticCsv } from '../support/generatedData';
import { maybeRecordHistory, startTestPlatform, type TestPlatform } from '../support/testPlatform';

const run = promisify(execFile);
const cli = path.resolve(__dirname, '../../dist/client/cli.js');
const ROWS = 30_000;

/** `nomaly detect --export-csv`: finalize also writes scores.csv next to scores.f64, and `nomaly status` names it. */
describe('the optional CSV export of a detection job', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform();
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('writes row, id, score, is_anomaly, p_value and explanation for every row, equal to scores.f64 and the anomaly table', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'nomaly-export-')), 'synthetic.csv');
    writeSyntheticCsv(file, ROWS, 6, 99);
    const dataset = await p.client.uploadDataset(file);
    const trained = await (await p.client.startTraining({ datasetId: dataset.id, modelName: 'export', contamination: 0.02 })).result();

    const detect = await run(process.execPath, [cli, 'detect', '--model', 'export', '--dataset', dataset.id, '--chunk-rows', '7000', '--export-csv', '--wait', '--json'], {
      maxBuffer: 16 * 1024 * 1024,
    });
    const summary = JSON.parse(detect.stdout) as DetectionSummary;
    expect(summary).toMatchObject({ status: 'completed', rows: ROWS, scoresCsvKey: jobScoresCsvKey(summary.jobId) });

    const scores = decodeScoresFile(await p.platform.store.getVerifiedBytes(summary.scoresBucket, summary.scoresKey));
    // is_anomaly, p_value and explanation come from the rows the job stored as anomalies.
    const stored = new Map(
      (await p.sql<{ row_index: number; p_value: number | null; explanation: unknown }>('select row_index, p_value, explanation from anomaly where job_id = ?', [summary.jobId])).map(
        (r) => [Number(r.row_index), { ...r, explanation: explanationFromStored(r.explanation) }],
      ),
    );
    const expected = ['row,id,score,is_anomaly,p_value,explanation'];
    let flagged = 0;
    for (let i = 0; i < ROWS; i++) {
      const anomaly = stored.get(i);
      // The default rule (no threshold asked for) is the model's: stored exactly above its threshold.
      expect(anomaly !== undefined).toBe(scores[i] > trained.threshold);
      if (anomaly) flagged++;
      expected.push(anomaly ? `${i},r${i},${scores[i]},1,${anomaly.p_value ?? ''},${csvField(compactExplanation(anomaly.explanation))}` : `${i},r${i},${scores[i]},0,,`);
    }
    const csv = (await p.platform.store.getVerifiedBytes(summary.scoresBucket, summary.scoresCsvKey!)).toString('utf8');
    expect(csv).toBe(`${expected.join('\n')}\n`);
    // Every score round-trips exactly through its text.
    const parsed = csv.trimEnd().split('\n').slice(1).map((line) => Number(line.split(',')[2]));
    expect(parsed.every((s, i) => s === scores[i])).toBe(true);
    const [{ count }] = await p.sql<{ count: string }>('select count(*) as count from anomaly where job_id = ?', [summary.jobId]);
    expect(flagged).toBe(Number(count));
    expect(flagged).toBe(summary.anomalies);

    // The job row, the Temporal memo and `nomaly status` all name the export.
    const [job] = await p.sql<{ summary: Record<string, unknown> }>('select summary from detection_job where id = ?', [summary.jobId]);
    expect(job.summary.scoresCsvKey).toBe(summary.scoresCsvKey);
    const handle = p.client.temporal.workflow.getHandle(summary.jobId);
    expect((await handle.describe()).memo).toMatchObject({ scoresCsv: `${summary.scoresBucket}/${summary.scoresCsvKey}` });
    const status = await run(process.execPath, [cli, 'status', summary.jobId]);
    expect(status.stdout).toContain(`scores csv: ${summary.scoresBucket}/${summary.scoresCsvKey}`);
    await maybeRecordHistory(handle, 'detectBatchExportCsv');
  });

  it('writes no CSV unless asked', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'nomaly-export-')), 'small.csv');
    writeSyntheticCsv(file, 2000, 4, 5);
    const dataset = await p.client.uploadDataset(file);
    await (await p.client.startTraining({ datasetId: dataset.id, modelName: 'no-export', contamination: 0.02 })).result();
    const summary = (await (await p.client.startDetection({ model: 'no-export', datasetId: dataset.id })).result()) as DetectionSummary;
    expect(summary.scoresCsvKey).toBeUndefined();
    expect(await p.platform.store.stat(summary.scoresBucket, jobScoresCsvKey(summary.jobId))).toBeUndefined();
  });
});
