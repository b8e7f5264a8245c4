import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeScoresFile } from '../../src/results/scoresFile';
import { writeSyntheticCsv } from '../support/generatedData';
import { startTestPlatform, type TestPlatform } from '../support/testPlatform';

const root = path.resolve(__dirname, '../..');

/** MinIO gone for a few seconds mid-job: the chunks that hit the outage retry, and the job completes exactly. */
describe('MinIO stopped in the middle of detectBatch', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform();
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('retries through the outage and stores each anomaly once', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'nomaly-minio-')), 'synthetic.csv');
    writeSyntheticCsv(file, 60_000, 8, 33);
    const dataset = await p.client.uploadDataset(file);
    await (await p.client.startTraining({ datasetId: dataset.id, modelName: 'outage', contamination: 0.02 })).result();

    const handle = await p.client.startDetection({ model: 'outage', datasetId: dataset.id, chunkRows: 1000, maxConcurrentChunks: 2 });
    while ((await p.client.progress(handle.workflowId)).chunksDone < 3) await new Promise((r) => setTimeout(r, 25));

    const pidFile = path.join(process.env.NOMALY_DATA_DIR!, 'pids/minio.pid');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 3000));
    const during = await p.client.progress(handle.workflowId);
    expect(during.chunksDone).toBeLessThan(during.chunksTotal); // the outage really hit a running job
    execFileSync(path.join(root, 'scripts/stack-up.sh'), ['--services-only'], { env: process.env, stdio: 'ignore' });

    const summary = await handle.result();
    expect(summary).toMatchObject({ status: 'completed', rows: 60_000 });
    const [counts] = await p.sql<{ total: string; distinct_rows: string }>(
      'select count(*) as total, count(distinct row_index) as distinct_rows from anomaly where job_id = ?',
      [handle.workflowId],
    );
    expect(Number(counts.total)).toBe(summary.anomalies);
    expect(Number(counts.distinct_rows)).toBe(summary.anomalies);
    const stored = decodeScoresFile(await p.platform.store.getVerifiedBytes(summary.scoresBucket, summary.scoresKey));
    expect(stored).toHaveLength(60000);
    expect(stored.filter((s) => s > 0).length).toBe(60000); // every row scored (isolation forest scores are in (0, 1))
  });
});
