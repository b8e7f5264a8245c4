import { type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readCsv } from '../../src/data/csv';
import { decodeModel } from '../../src/scoring/codec';
import { decodeScoresFile } from '../../src/results/scoresFile';
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
    // KNN against 5,000 training rows: a 4,000-row chunk takes a few hundred milliseconds, so a
    // chunk seen running is still running when the kill lands (an Isolation Forest chunk of this
    // size is over in milliseconds, and the kill could fall between chunks).
    const trained = await (
      await p.client.startTraining({ datasetId: dataset.id, modelName: 'crash', algorithm: 'knn', contamination: 0.02, params: { maxTrainRows: 5000 } })
    ).result();

    const handle = await p.client.startDetection({ model: 'crash', datasetId: dataset.id, chunkRows: 4000, maxConcurrentChunks: 2 });
    const deadline = Date.now() + 5 * 60_000;
    for (;;) {
      if (Date.now() > deadline) throw new Error('never saw a chunk running after the third one finished');
      if ((await p.client.progress(handle.workflowId)).chunksDone >= 3) {
        const pending = (await handle.describe()).raw.pendingActivities ?? [];
        if (pending.some((a) => a.activityType?.name === 'scoreChunk' && Number(a.state) === 2 /* STARTED */)) break;
      }
      await new Promise((r) => setTimeout(r, 20));
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
    expect(Array.from(stored)).toEqual(Array.from(scores)); // every row scored once, in order

    // The chunks that were running when the worker died ran again (attempt 2) on the new worker.
    const history = await handle.fetchHistory();
    const retried = (history.events ?? []).filter((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1);
    expect(retried.length).toBeGreaterThanOrEqual(1);
  });
});
