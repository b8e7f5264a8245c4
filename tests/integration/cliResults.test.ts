import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parquetReadObjects } from 'hyparquet';
import type { DetectionSummary } from '../../src/activities';
import type { FeatureContribution } from '../../src/api/results';
import { compactExplanation } from '../../src/results/explanationText';
import { jobScoresCsvKey } from '../../src/storage/keys';
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

/** `nomaly results download` and the signed result links of `nomaly status`, on the real stack (dist/ built first). */
describe('downloading results', () => {
  let p: TestPlatform;
  let dir: string;
  let exported: DetectionSummary;
  let plain: DetectionSummary;

  beforeAll(async () => {
    p = await startTestPlatform();
    dir = mkdtempSync(path.join(os.tmpdir(), 'nomaly-results-'));
    const file = path.join(dir, 'synthetic.csv');
    writeSyntheticCsv(file, 5000, 4, 21);
    const dataset = await p.client.uploadDataset(file);
    const model = `results-${Date.now().toString(36)}`;
    await (await p.client.startTraining({ datasetId: dataset.id, modelName: model, contamination: 0.02 })).result();
    exported = await (await p.client.startDetection({ model, datasetId: dataset.id, exportCsv: true })).result();
    plain = await (await p.client.startDetection({ model, datasetId: dataset.id })).result();
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('downloads the scores.csv a job exported, byte for byte', async () => {
    const out = path.join(dir, 'exported.csv');
    const printed = JSON.parse((await run(process.execPath, [cli, 'results', 'download', exported.jobId, '--out', out, '--json'])).stdout);
    expect(printed).toMatchObject({ jobId: exported.jobId, file: out, format: 'csv', source: 'exported' });
    const stored = await p.platform.store.getVerifiedBytes(exported.scoresBucket, jobScoresCsvKey(exported.jobId));
    expect(readFileSync(out).equals(stored)).toBe(true);
  });

  it('builds the same CSV from scores.f64 and the dataset for a job that exported none', async () => {
    expect(await p.platform.store.stat(plain.scoresBucket, jobScoresCsvKey(plain.jobId))).toBeUndefined();
    const out = path.join(dir, 'built.csv');
    const text = (await run(process.execPath, [cli, 'results', 'download', plain.jobId, '--out', out])).stdout;
    expect(text).toMatch(new RegExp(`^wrote ${out}: \\d+ bytes, sha256 [0-9a-f]{64} \\(built from scores.f64 and the dataset\\)$`, 'm'));
    // Same model, same dataset: the same scores, so the same bytes as the other job's export.
    const stored = await p.platform.store.getVerifiedBytes(exported.scoresBucket, jobScoresCsvKey(exported.jobId));
    expect(readFileSync(out, 'utf8')).toBe(stored.toString('utf8'));
    expect(readFileSync(out, 'utf8').split('\n')[0]).toBe('row,id,score,is_anomaly,p_value,explanation');
  });

  it('writes the same rows as Parquet: row, id, score, is_anomaly, p_value and explanation, typed', async () => {
    const out = path.join(dir, 'scores.parquet');
    const printed = JSON.parse((await run(process.execPath, [cli, 'results', 'download', plain.jobId, '--format', 'parquet', '--out', out, '--json'])).stdout);
    expect(printed).toMatchObject({ jobId: plain.jobId, file: out, format: 'parquet', source: 'built' });
    const bytes = readFileSync(out);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(printed.sha256);
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const rows = (await parquetReadObjects({ file })) as Array<{ row: number; id: string; score: number; is_anomaly: boolean; p_value: number | null; explanation: unknown }>;
    const csv = (await p.platform.store.getVerifiedBytes(exported.scoresBucket, jobScoresCsvKey(exported.jobId))).toString('utf8').trim().split('\n').slice(1);
    expect(rows).toHaveLength(csv.length);
    rows.forEach((r, i) => {
      // The synthetic features' names hold no comma, so no CSV field here is quoted.
      const [row, id, score, flag, pValue, explanation] = csv[i].split(',');
      expect([r.row, r.id, r.score, r.is_anomaly, r.p_value]).toEqual([Number(row), id, Number(score), flag === '1', pValue === '' ? null : Number(pValue)]);
      const parsed = (typeof r.explanation === 'string' ? JSON.parse(r.explanation) : r.explanation) as FeatureContribution[] | null;
      expect(compactExplanation(parsed)).toBe(explanation);
    });
  });

  it('refuses an unknown format, an unknown job and a running one, saying why, and leaves no file', async () => {
    const out = path.join(dir, 'refused.csv');
    expect((await failure(['results', 'download', plain.jobId, '--format', 'xlsx', '--out', out])).stderr).toMatch(/xlsx/);
    expect((await failure(['results', 'download', 'detect-nope', '--out', out])).stderr).toMatch(/no detection job detect-nope/);
    await p.sql("update detection_job set status = 'running' where id = ?", [plain.jobId]);
    try {
      expect((await failure(['results', 'download', plain.jobId, '--out', out])).stderr).toMatch(/is running: only a completed job has results to download/);
    } finally {
      await p.sql("update detection_job set status = 'completed' where id = ?", [plain.jobId]);
    }
    expect(() => readFileSync(out)).toThrow(/ENOENT/);
    expect(() => readFileSync(`${out}.partial`)).toThrow(/ENOENT/);
  });

  it('prints signed, time-limited links to the report, scores.f64 and scores.csv in `nomaly status`, and they work without credentials', async () => {
    const status = JSON.parse((await run(process.execPath, [cli, 'status', exported.jobId, '--json'])).stdout) as Record<string, string>;
    for (const key of ['reportUrl', 'scoresUrl', 'scoresCsvUrl']) {
      const url = new URL(status[key]);
      expect(url.searchParams.get('X-Amz-Expires')).toBe(String(7 * 24 * 3600));
      expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    }
    const csv = await fetch(status.scoresCsvUrl);
    expect(csv.status).toBe(200);
    expect(Buffer.from(await csv.arrayBuffer()).equals(await p.platform.store.getVerifiedBytes(exported.scoresBucket, jobScoresCsvKey(exported.jobId)))).toBe(true);
    // Tampering with the signed request is refused: the link grants exactly that object.
    const forged = new URL(status.scoresCsvUrl);
    forged.pathname = forged.pathname.replace('scores.csv', 'report.html');
    expect((await fetch(forged)).status).toBe(403);

    const text = (await run(process.execPath, [cli, 'status', plain.jobId])).stdout;
    expect(text).toMatch(/^report: http:\/\/127\.0\.0\.1:\d+\/.*X-Amz-Signature=/m);
    expect(text).toMatch(/^scores\.f64: http:\/\/.*X-Amz-Signature=/m);
    expect(text).not.toMatch(/^scores\.csv:/m);
    expect(text).toContain(`nomaly results download ${plain.jobId}`);
  });
});
