import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { writeSyntheticCsv } from '../support/generatedData';
import { startTestPlatform, type TestPlatform } from '../support/testPlatform';

/** Cancelling from the UI or CLI stops new chunks and records the job as cancelled with its partial counts. */
describe('a cancelled detectBatch', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform();
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('stops scheduling chunks and marks the job cancelled with the rows it scored', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'nomaly-cancel-')), 'synthetic.csv');
    writeSyntheticCsv(file, 60_000, 8, 21);
    const dataset = await p.client.uploadDataset(file);
    await (await p.client.startTraining({ datasetId: dataset.id, modelName: 'cancel', contamination: 0.02 })).result();

    const handle = await p.client.startDetection({ model: 'cancel', datasetId: dataset.id, chunkRows: 1000, maxConcurrentChunks: 1 });
    while ((await p.client.progress(handle.workflowId)).chunksDone < 2) await new Promise((r) => setTimeout(r, 25));
    await handle.cancel();

    const error = await handle.result().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect((await handle.describe()).status.name).toBe('CANCELLED');

    const [job] = await p.sql<{ status: string; rows_scored: number; rows: number }>('select status, rows_scored, rows from detection_job where id = ?', [handle.workflowId]);
    expect(job.status).toBe('cancelled');
    expect(job.rows_scored).toBeGreaterThanOrEqual(2000);
    expect(job.rows_scored).toBeLessThan(job.rows);
    expect(job.rows_scored % 1000).toBe(0); // whole chunks only
    // No chunk starts after the cancellation: the score objects are the finished chunks (plus at most the one running).
    const keys = await p.platform.store.listKeys(p.config.buckets.results, `jobs/${handle.workflowId}/scores/`);
    expect(keys.length).toBeLessThanOrEqual(job.rows_scored / 1000 + 1);
  });

  it('stops the running chunk between blocks instead of scoring it to the end', async () => {
    // KNN against 40,000 training rows scores a few tens of thousands of rows per second, so one
    // 240,000-row chunk runs for many seconds: long enough to cancel it midway.
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'nomaly-cancel-')), 'synthetic.csv');
    writeSyntheticCsv(file, 240_000, 8, 22);
    const dataset = await p.client.uploadDataset(file);
    await (await p.client.startTraining({ datasetId: dataset.id, modelName: 'cancel-knn', algorithm: 'knn', maxTrainRows: 40_000, contamination: 0.02 })).result();

    const handle = await p.client.startDetection({ model: 'cancel-knn', datasetId: dataset.id, chunkRows: 240_000, maxConcurrentChunks: 1 });
    const anomalyRows = async () => Number((await p.sql<{ n: string }>('select count(*) as n from anomaly where job_id = ?', [handle.workflowId]))[0].n);
    const started = Date.now();
    while ((await anomalyRows()) === 0) await new Promise((r) => setTimeout(r, 50));
    const firstBlockMs = Date.now() - started;
    await handle.cancel();
    await handle.result().catch(() => undefined);
    expect((await handle.describe()).status.name).toBe('CANCELLED');

    // Had the chunk run on, its 30 blocks would have finished long before this and written the
    // chunk's score file; stopped between blocks, the anomalies stop growing and no file appears.
    // (Cancellation reaches an activity with its next heartbeat response: up to ~8 s.)
    await new Promise((r) => setTimeout(r, 12_000 + 30 * firstBlockMs));
    const settled = await anomalyRows();
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await anomalyRows()).toBe(settled);
    const keys = await p.platform.store.listKeys(p.config.buckets.results, `jobs/${handle.workflowId}/scores/`);
    expect(keys).toEqual([]);
    const [job] = await p.sql<{ status: string }>('select status from detection_job where id = ?', [handle.workflowId]);
    expect(job.status).toBe('cancelled');
  }, 240_000);
});
