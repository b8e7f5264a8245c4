import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parquetReadObjects } from 'hyparquet';
import type { DetectionSummary, FeatureContribution } from '../../src/api/results';
import type { JobFlagging } from '../../src/api/threshold';
import { upsertAnomalies, type AnomalyRow } from '../../src/db/anomalies';
import { compactExplanation, parseCompactExplanation } from '../../src/results/explanationText';
import { decodeScoresFile } from '../../src/results/scoresFile';
import { readCsv } from '../../src/data/csv';
import { writeSyntheticCsv } from '../support/generatedData';
import { startTestPlatform, type TestPlatform } from '../support/testPlatform';

const run = promisify(execFile);
const cli = path.resolve(__dirname, '../../dist/client/cli.js');

async function failure(args: string[]): Promise<{ code: number; stderr: string }> {
  return run(process.execPath, [cli, ...args]).then(
    (ok) => {
      throw new Error(`expected nomaly ${args.join(' ')} to fail; it printed ${ok.stdout}`);
    },
    (err: { code: number; stderr: string }) => err,
  );
}

const explanation = (amount: number, percentile: number | null): FeatureContribution[] => [
  { feature: 'amount', value: amount, contribution: 0.83123, percentile },
  { feature: 'weird:name;<script>', value: -2.5, contribution: 0.125, percentile: 3.2 },
];

/**
 * `nomaly anomalies` and the exports' anomaly columns, on the real stack (dist/ built first): the
 * anomaly rows are stored through upsertAnomalies as the chunks store them, so what is printed
 * and downloaded is what the table holds, whatever rule put it there.
 */
describe('reading a job\'s anomalies', () => {
  let p: TestPlatform;
  let dir: string;
  let detected: DetectionSummary;
  const listedJob = `detect-anomalies-cli-${Date.now().toString(36)}`;
  const flagging: JobFlagging = { rule: { method: 'maxAlerts', n: 3 }, ruleFrom: 'job', cutoff: 0.61, flagged: 3, candidates: 9 };
  const listedRows: AnomalyRow[] = [
    { row_index: 40, score: 0.7, row_id: 'r40', p_value: 0.0004, explanation: explanation(15230.5, 99.9) },
    { row_index: 7, score: 0.9, row_id: 'r7', p_value: 0.0001, explanation: explanation(99999, null) },
    { row_index: 300, score: 0.65, row_id: null, p_value: null, explanation: null },
  ];

  beforeAll(async () => {
    p = await startTestPlatform();
    dir = mkdtempSync(path.join(os.tmpdir(), 'nomaly-anomalies-'));
    const file = path.join(dir, 'synthetic.csv');
    writeSyntheticCsv(file, 3000, 4, 31);
    const dataset = await p.client.uploadDataset(file);
    const model = `anomalies-${Date.now().toString(36)}`;
    await (await p.client.startTraining({ datasetId: dataset.id, modelName: model, contamination: 0.02 })).result();
    detected = await (await p.client.startDetection({ model, datasetId: dataset.id })).result();

    // A job recorded complete with the rule that flagged it, its anomalies stored as chunks store them.
    const [real] = await p.sql<{ model_id: number; dataset_id: string }>('select model_id, dataset_id from detection_job where id = ?', [detected.jobId]);
    await p.sql(
      `insert into detection_job (id, model_id, dataset_id, status, rows, anomalies, scores_prefix, summary)
       values (?, ?, ?, 'completed', 500, 3, ?, ?::jsonb)`,
      [listedJob, real.model_id, real.dataset_id, `jobs/${listedJob}/scores/`, JSON.stringify({ jobId: listedJob, status: 'completed', flagging })],
    );
    await upsertAnomalies(p.platform.orm.em.fork(), listedJob, listedRows);
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('lists the anomalies by score, highest first, with p-values and the rule that flagged them', async () => {
    const lines = (await run(process.execPath, [cli, 'anomalies', listedJob])).stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`detection job ${listedJob}: 3 anomalies in 500 rows`);
    expect(lines[1]).toBe("flagged by: at most 3 alerts (the highest scores; a tie at the boundary is left out whole), the job's rule; cutoff score > 0.61; 3 of 9 candidates");
    expect(lines[2]).toMatch(/^rank\s+row\s+id\s+score\s+p-value$/);
    expect(lines.slice(3).map((l) => l.trim().split(/\s+/))).toEqual([
      ['1', '7', 'r7', '0.9000', '1.00e-4'],
      ['2', '40', 'r40', '0.7000', '4.00e-4'],
      ['3', '300', '-', '0.6500', '–'],
    ]);
  });

  it('adds each anomaly\'s top features with --explain', async () => {
    const lines = (await run(process.execPath, [cli, 'anomalies', listedJob, '--explain'])).stdout.trimEnd().split('\n');
    expect(lines[2]).toMatch(/top features \(value, training percentile, contribution\)$/);
    expect(lines[3]).toMatch(/1\.00e-4  amount=99999 \+0\.831, weird:name;<script>=-2\.5 \(p3\.2\) \+0\.125$/);
    expect(lines[4]).toMatch(/4\.00e-4  amount=15230\.5 \(p99\.9\) \+0\.831, weird:name;<script>=-2\.5 \(p3\.2\) \+0\.125$/);
    expect(lines[5]).toMatch(/–  -$/);
  });

  it('prints the rows as JSON with their explanations, and --top keeps the highest scores', async () => {
    const printed = JSON.parse((await run(process.execPath, [cli, 'anomalies', listedJob, '--json'])).stdout);
    expect(printed).toEqual({
      jobId: listedJob,
      rows: 500,
      total: 3,
      flagging,
      anomalies: [7, 40, 300].map((row) => {
        const stored = listedRows.find((r) => r.row_index === row)!;
        return { rowIndex: row, rowId: stored.row_id, score: stored.score, pValue: stored.p_value, explanation: stored.explanation };
      }),
    });
    const top = JSON.parse((await run(process.execPath, [cli, 'anomalies', listedJob, '--top', '2', '--json'])).stdout);
    expect(top.anomalies.map((a: { rowIndex: number }) => a.rowIndex)).toEqual([7, 40]);
    expect(top.total).toBe(3);
    const text = (await run(process.execPath, [cli, 'anomalies', listedJob, '--top', '1'])).stdout;
    expect(text.split('\n')[0]).toBe(`detection job ${listedJob}: 3 anomalies in 500 rows (the 1 highest scores shown; --top N for more)`);
  });

  it("names a job's rule, and says so for a job from before threshold rules", async () => {
    const today = (await run(process.execPath, [cli, 'anomalies', detected.jobId, '--top', '3'])).stdout;
    expect(today).toMatch(new RegExp(`^detection job ${detected.jobId}: ${detected.anomalies} anomalies in 3,000 rows`));
    expect(today).toContain("flagged by: the model's contamination quantile of its training scores, the default rule");
    // A job finished before rules were recorded has no `flagging` in its summary.
    await p.sql("update detection_job set summary = summary::jsonb - 'flagging' where id = ?", [detected.jobId]);
    const old = (await run(process.execPath, [cli, 'anomalies', detected.jobId, '--top', '3'])).stdout;
    expect(old).toContain("flagged by: the model's threshold (the job ran before threshold rules were recorded)");
  });

  it('fails, naming the job, for an unknown job, a running one and a bad --top', async () => {
    const unknown = await failure(['anomalies', 'detect-nope']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/^nomaly: no detection job detect-nope \(nomaly jobs --type detectBatch lists them\)$/m);
    await p.sql("update detection_job set status = 'running' where id = ?", [listedJob]);
    try {
      const running = await failure(['anomalies', listedJob]);
      expect(running.code).not.toBe(0);
      expect(running.stderr).toContain(`detection job ${listedJob} is running: only a completed job has anomalies to list (wait for it: nomaly status ${listedJob})`);
    } finally {
      await p.sql("update detection_job set status = 'completed' where id = ?", [listedJob]);
    }
    expect((await failure(['anomalies', listedJob, '--top', '0'])).stderr).toMatch(/--top.*must be a whole number from 1 to/);
  });

  it('exports is_anomaly exactly for the stored anomaly rows, with their p-values and explanations, as CSV and Parquet', async () => {
    const scores = decodeScoresFile(await p.platform.store.getVerifiedBytes(detected.scoresBucket, detected.scoresKey));
    const [threshold] = await p.sql<{ threshold: number }>('select m.threshold from model m join detection_job j on j.model_id = m.id where j.id = ?', [detected.jobId]);
    // As a job's own rule would: flag a row the model's threshold does not, and leave out one it does.
    const byScore = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a]);
    const below = byScore.find((row) => scores[row] < threshold.threshold)!;
    const aboveLeftOut = byScore[1];
    expect(scores[aboveLeftOut]).toBeGreaterThan(threshold.threshold);
    const stored: AnomalyRow[] = [
      { row_index: byScore[0], score: scores[byScore[0]], row_id: `r${byScore[0]}`, p_value: 1 / 3001, explanation: explanation(1.5, 99.5) },
      { row_index: below, score: scores[below], row_id: `r${below}`, p_value: 0.25, explanation: explanation(0.1, 40) },
      { row_index: byScore[2], score: scores[byScore[2]], row_id: `r${byScore[2]}`, p_value: null, explanation: null },
    ];
    await p.sql('delete from anomaly where job_id = ?', [detected.jobId]);
    await upsertAnomalies(p.platform.orm.em.fork(), detected.jobId, stored);
    const byRow = new Map(stored.map((r) => [r.row_index, r]));

    const csvFile = path.join(dir, 'flagged.csv');
    await run(process.execPath, [cli, 'results', 'download', detected.jobId, '--out', csvFile]);
    const text = readFileSync(csvFile, 'utf8');
    expect(text.split('\n')[0]).toBe('row,id,score,is_anomaly,p_value,explanation');
    // Read with the project's RFC 4180 reader: the explanation of a name with ; and : is quoted where needed and reads back.
    const table = readCsv(text, { idColumn: 'explanation', featureColumns: ['row', 'is_anomaly'] });
    const pValues = text.trimEnd().split('\n').slice(1).map((line) => line.split(',')[4]);
    expect(table.features.rows).toBe(scores.length);
    for (let i = 0; i < scores.length; i++) {
      const flagged = byRow.get(i);
      expect(table.features.get(i, 1)).toBe(flagged ? 1 : 0);
      expect(pValues[i]).toBe(flagged?.p_value === null || !flagged ? '' : String(flagged.p_value));
      expect(table.ids![i]).toBe(compactExplanation(flagged?.explanation));
    }
    expect(parseCompactExplanation(table.ids![byScore[0]])).toEqual([
      { feature: 'amount', contribution: 0.831 },
      { feature: 'weird:name;<script>', contribution: 0.125 },
    ]);

    const parquetFile = path.join(dir, 'flagged.parquet');
    await run(process.execPath, [cli, 'results', 'download', detected.jobId, '--format', 'parquet', '--out', parquetFile]);
    const bytes = readFileSync(parquetFile);
    const rows = (await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) })) as Array<{
      row: number;
      score: number;
      is_anomaly: boolean;
      p_value: number | null;
      explanation: unknown;
    }>;
    expect(rows).toHaveLength(scores.length);
    expect(rows.filter((r) => r.is_anomaly).map((r) => r.row).sort((a, b) => a - b)).toEqual([...byRow.keys()].sort((a, b) => a - b));
    for (const r of rows) {
      const flagged = byRow.get(r.row);
      expect(r.p_value).toBe(flagged?.p_value ?? null);
      // A JSON column: readers that know the annotation give back the stored array itself.
      const parsed = typeof r.explanation === 'string' ? JSON.parse(r.explanation) : r.explanation;
      expect(parsed ?? null).toEqual(flagged?.explanation ?? null);
    }
  });
});
