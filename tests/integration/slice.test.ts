import { readFileSync } from 'node:fs';
import { WorkflowFailedError } from '@temporalio/client';
import { failureMessage } from '../../src/client/nomalyClient';
import { readCsv } from '../../src/data/csv';
import { decodeScoresFile } from '../../src/results/scoresFile';
import { decodeModel } from '../../src/scoring/codec';
import { EXAMPLE_CSV, maybeRecordHistory, startTestPlatform, type TestPlatform } from '../support/testPlatform';

/** The whole slice on the real stack: upload → train → detect → anomalies in PostgreSQL. */
describe('upload, train and detect end to end', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform();
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('scores every row once, with exactly the anomalies the model predicts', async () => {
    const dataset = await p.client.uploadDataset(EXAMPLE_CSV);
    await maybeRecordHistory(p.client.temporal.workflow.getHandle(`dataset-${dataset.sha256}`), 'registerDataset');
    expect(dataset).toMatchObject({ rows: 1831, labelColumn: 'label', idColumn: null });
    expect(dataset.featureColumns).toHaveLength(21);

    const trainHandle = await p.client.startTraining({ datasetId: dataset.id, modelName: 'slice', params: { seed: 7 }, contamination: 0.1 });
    const trained = await trainHandle.result();
    await maybeRecordHistory(trainHandle, 'trainModel');
    expect(trained).toMatchObject({ modelName: 'slice', version: 1, status: 'active' });
    // Labelled data: a seeded fifth of the rows is held out for evaluation and never trained on, and
    // a seeded fifth of the rest, those labelled normal, as calibration rows.
    expect(trained.trainRows + trained.metrics.heldOutRows + trained.metrics.calibrationScores).toBe(1831);
    expect(trained.metrics.heldOutRocAuc).toBeGreaterThan(0.85); // cardio: anomalies are separable

    const detectHandle = await p.client.startDetection({ model: 'slice', datasetId: dataset.id, chunkRows: 400 });
    const summary = await detectHandle.result();
    await maybeRecordHistory(detectHandle, 'detectBatch');

    // The expectation comes from the stored artifact, scored here without Temporal.
    const artifact = await p.platform.store.getVerifiedBytes(p.config.buckets.models, trained.artifactKey, trained.artifactSha256);
    const model = decodeModel(artifact);
    const table = readCsv(readFileSync(EXAMPLE_CSV), { featureColumns: dataset.featureColumns });
    const scores = model.score(table.features);
    const expected: number[] = [];
    scores.forEach((s, i) => s > model.threshold && expected.push(i));

    expect(summary).toMatchObject({ status: 'completed', rows: 1831, anomalies: expected.length });
    expect(summary.anomalyRate).toBeCloseTo(expected.length / 1831, 10);
    const rows = await p.sql<{ row_index: number; score: number }>('select row_index, score from anomaly where job_id = ? order by row_index', [summary.jobId]);
    expect(rows.map((r) => r.row_index)).toEqual(expected);
    expect(rows[0].score).toBeCloseTo(scores[expected[0]], 12);
    expect(summary.topAnomalies[0].score).toBeCloseTo(Math.max(...scores), 12);

    const [job] = await p.sql<{ status: string; chunks: number; anomalies: number }>('select status, chunks, anomalies from detection_job where id = ?', [summary.jobId]);
    expect(job).toMatchObject({ status: 'completed', chunks: 5, anomalies: expected.length });
    // One score file with every row's score, the chunk parts gone, and a report beside it.
    const stored = decodeScoresFile(await p.platform.store.getVerifiedBytes(summary.scoresBucket, summary.scoresKey));
    expect(Array.from(stored)).toEqual(Array.from(scores));
    expect(await p.platform.store.listKeys(p.config.buckets.results, `jobs/${summary.jobId}/scores/`)).toHaveLength(0);
    const report = (await p.platform.store.getVerifiedBytes(summary.scoresBucket, summary.reportKey)).toString('utf8');
    expect(report).toContain('<svg');
    expect(report).toContain(`${expected.length.toLocaleString('en-US')} (`);
    expect(report).not.toMatch(/<script|\b(?:src|href)=/); // self-contained: no scripts, no external assets
    expect(summary.quantiles.p50).toBeLessThan(summary.quantiles.p99);
    const [{ summary: onRow }] = await p.sql<{ summary: { scoresKey: string; histogram: { counts: number[] } } }>('select summary from detection_job where id = ?', [summary.jobId]);
    expect(onRow.scoresKey).toBe(summary.scoresKey);
    expect(onRow.histogram.counts.reduce((a, b) => a + b, 0)).toBe(1831);

    const progress = await p.client.progress(summary.jobId);
    expect(progress).toMatchObject({ phase: 'completed', chunksDone: 5, chunksTotal: 5, rowsScored: 1831 });
  });

  it('gives the same dataset for the same bytes, and bit-identical models for the same seed', async () => {
    const first = await p.client.uploadDataset(EXAMPLE_CSV);
    const second = await p.client.uploadDataset(EXAMPLE_CSV, { name: 'again.csv' });
    expect(second.id).toBe(first.id);
    const [{ count }] = await p.sql<{ count: string }>('select count(*) from dataset where sha256 = ?', [first.sha256]);
    expect(Number(count)).toBe(1);

    const a = await (await p.client.startTraining({ datasetId: first.id, modelName: 'twins', params: { seed: 3 } })).result();
    const b = await (await p.client.startTraining({ datasetId: first.id, modelName: 'twins', params: { seed: 3 } })).result();
    expect([a.version, b.version]).toEqual([1, 2]);
    expect(b.status).toBe('ready'); // version 1 stays the active one
    expect(b.artifactSha256).toBe(a.artifactSha256);
  });

  it('fails a job on an unknown model at once, with a clear reason and no job rows', async () => {
    const dataset = await p.client.uploadDataset(EXAMPLE_CSV);
    const handle = await p.client.startDetection({ model: 'no-such-model', datasetId: dataset.id });
    const error = await handle.result().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(failureMessage(error)).toMatch(/model "no-such-model" has no ready version/);
    const rows = await p.sql('select 1 from detection_job where id = ?', [handle.workflowId]);
    expect(rows).toHaveLength(0);
  });
  it('refuses a tampered model artifact with a clear, non-retryable error', async () => {
    const dataset = await p.client.uploadDataset(EXAMPLE_CSV);
    const trained = await (await p.client.startTraining({ datasetId: dataset.id, modelName: 'tampered', params: { nTrees: 10 } })).result();
    const bytes = await p.platform.store.getVerifiedBytes(p.config.buckets.models, trained.artifactKey, trained.artifactSha256);
    bytes[bytes.length >> 1] ^= 0xff;
    await p.platform.store.client.putObject(p.config.buckets.models, trained.artifactKey, bytes, bytes.length);

    const started = Date.now();
    const handle = await p.client.startDetection({ model: 'tampered', datasetId: dataset.id });
    const error = await handle.result().catch((err: unknown) => err);
    expect(failureMessage(error)).toMatch(/tampered\/v1\.nmly is corrupt: sha256 [0-9a-f]{64} does not match the recorded/);
    expect(Date.now() - started).toBeLessThan(20000); // no retry loop on a corrupt file
    const [job] = await p.sql<{ status: string }>('select status from detection_job where id = ?', [handle.workflowId]);
    expect(job.status).toBe('failed');
  });
});
