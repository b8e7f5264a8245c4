import { type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readCsv } from '../../src/data/csv';
import { decodeModel } from '../../src/scoring/codec';
import { decodeScoresFile } from '../../src/data/scoresFile';
import { writeSyntheticCsv } from '../support/generatedData';
import { startScoringProcess } from '../support/scoringProcess';
import { startTestPlatform, type TestPlatform } from '../support/testPlatform';

describe('a scoring worker killed with SIGKILL in the middle of detectBatch', () => {
  let p: TestPlatform;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    p = await startTestPlatform(['control']);
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await p?.stop();
  });

  it('serves /health, /ready and /metrics with our metrics and the SDK metrics', async () => {
    const worker = await startScoringProcess();
    children.push(worker.child);
    const base = `http://127.0.0.1:${worker.port}`;
    expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${base}/ready`)).json()).toEqual({ ready: true, checks: { temporal: 'ok', postgres: 'ok', minio: 'ok' } });
    let metrics = '';
    for (let i = 0; i < 40 && !/^temporal_/m.test(metrics); i++) {
      metrics = await (await fetch(`${base}/metrics`)).text();
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(metrics).toMatch(/^nomaly_predictions_total 0$/m);
    expect(metrics).toMatch(/^# TYPE nomaly_model_latency_seconds histogram$/m);
    expect(metrics).toMatch(/^# TYPE nomaly_anomaly_rate gauge$/m);
    expect(metrics).toMatch(/^temporal_\w+/m); // the Temporal runtime's own metrics
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0); // a clean, graceful stop
  });

  it('completes after a restart, with every anomaly row stored exactly once', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nomaly-crash-'));
    const file = path.join(dir, 'synthetic.csv');
    writeSyntheticCsv(file, 120_000, 8, 11);
    const dataset = await p.client.uploadDataset(file);
    expect(dataset.idColumn).toBe('id');

    let worker = await startScoringProcess();
    children.push(worker.child);
    const trained = await (await p.client.startTraining({ datasetId: dataset.id, modelName: 'crash', contamination: 0.02 })).result();

    const handle = await p.client.startDetection({ model: 'crash', datasetId: dataset.id, chunkRows: 4000, maxConcurrentChunks: 2 });
    let progress = await p.client.progress(handle.workflowId);
    while (progress.chunksDone < 3) {
      await new Promise((r) => setTimeout(r, 50));
      progress = await p.client.progress(handle.workflowId);
    }
    worker.child.kill('SIGKILL');
    await worker.exited;
    const atKill = await p.client.progress(handle.workflowId);
    expect(atKill.chunksDone).toBeLessThan(atKill.chunksTotal); // the kill really was mid-job

    worker = await startScoringProcess();
    children.push(worker.child);
    const summary = await handle.result();

    const artifact = await p.platform.store.getVerifiedBytes(p.config.buckets.models, trained.artifactKey, trained.artifactSha256);
    const model = decodeModel(artifact);
    const table = readCsv(readFileSync(file), { featureColumns: dataset.featureColumns, idColumn: 'id' });
    const scores = model.score(table.features);
    const expected = scores.reduce((n, s) => (s > model.threshold ? n + 1 : n), 0);

    expect(summary).toMatchObject({ status: 'completed', rows: 120_000, anomalies: expected });
    const [counts] = await p.sql<{ total: string; distinct_rows: string }>(
      'select count(*) as total, count(distinct row_index) as distinct_rows from anomaly where job_id = ?',
      [handle.workflowId],
    );
    expect(Number(counts.total)).toBe(expected);
    expect(Number(counts.distinct_rows)).toBe(expected);
    const [sample] = await p.sql<{ row_index: number; row_id: string }>('select row_index, row_id from anomaly where job_id = ? limit 1', [handle.workflowId]);
    expect(sample.row_id).toBe(`r${sample.row_index}`);
    const stored = decodeScoresFile(await p.platform.store.getVerifiedBytes(summary.scoresBucket, summary.scoresKey));
    expect(stored).toHaveLength(120000);
    expect(stored.filter((s) => s > 0).length).toBe(120000); // every row scored (isolation forest scores are in (0, 1))

    // The chunks that were running when the worker died ran again (attempt 2) on the new worker.
    const history = await handle.fetchHistory();
    const retried = (history.events ?? []).filter((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1);
    expect(retried.length).toBeGreaterThanOrEqual(1);
  });
});
