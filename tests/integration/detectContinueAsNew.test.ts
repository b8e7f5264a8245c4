import { readFileSync } from 'node:fs';
import { readCsv } from '../../src/data/csv';
import { decodeScoresFile } from '../../src/results/scoresFile';
import { decodeModel } from '../../src/scoring/codec';
import { EXAMPLE_CSV, startTestPlatform, type TestPlatform } from '../support/testPlatform';

/** A job longer than one run's budget continues as new, carrying only the plan, cursor and totals. */
describe('a detectBatch spanning several runs', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform();
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('continues as new every few chunks and ends with exactly the single-run result', async () => {
    const dataset = await p.client.uploadDataset(EXAMPLE_CSV);
    const trained = await (await p.client.startTraining({ datasetId: dataset.id, modelName: 'long-job' })).result();

    const handle = await p.client.startDetection({ model: 'long-job', datasetId: dataset.id, chunkRows: 100, maxConcurrentChunks: 2, chunksPerRun: 5 });
    const firstRunId = handle.firstExecutionRunId;
    const summary = await handle.result(); // follows the chain of runs

    // 19 chunks at 5 per run: the first run handed over to a new one, and the last run finished.
    expect((await p.client.temporal.workflow.getHandle(handle.workflowId, firstRunId).describe()).status.name).toBe('CONTINUED_AS_NEW');
    const lastRun = await p.client.temporal.workflow.getHandle(handle.workflowId).describe();
    expect(lastRun.status.name).toBe('COMPLETED');
    expect(lastRun.runId).not.toBe(firstRunId);

    const model = decodeModel(await p.platform.store.getVerifiedBytes(p.config.buckets.models, trained.artifactKey, trained.artifactSha256));
    const scores = model.score(readCsv(readFileSync(EXAMPLE_CSV), { featureColumns: dataset.featureColumns }).features);
    const expected = scores.reduce((n, s) => (s > model.threshold ? n + 1 : n), 0);
    expect(summary).toMatchObject({ status: 'completed', rows: 1831, anomalies: expected });
    const stored = decodeScoresFile(await p.platform.store.getVerifiedBytes(summary.scoresBucket, summary.scoresKey));
    expect(Array.from(stored)).toEqual(Array.from(scores));
    const [job] = await p.sql<{ chunks: number; rows_scored: number }>('select chunks, rows_scored from detection_job where id = ?', [summary.jobId]);
    expect(job).toMatchObject({ chunks: 19, rows_scored: 1831 });
    expect(await p.client.progress(summary.jobId)).toMatchObject({ phase: 'completed', chunksDone: 19, rowsScored: 1831 });
  });
});
