import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeScoresFile } from '../../src/results/scoresFile';
import { writeSyntheticCsv } from '../support/generatedData';
import { startTestPlatform, type TestPlatform } from '../support/testPlatform';

const root = path.resolve(__dirname, '../..');

/** The dev server keeps its state in a SQLite file: a restart mid-job costs a pause, not the job. */
describe('a Temporal server restarted in the middle of detectBatch', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform();
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('finishes the job after the restart with each anomaly stored once', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nomaly-restart-'));
    const file = path.join(dir, 'synthetic.csv');
    writeSyntheticCsv(file, 60_000, 8, 5);
    const dataset = await p.client.uploadDataset(file);
    await (await p.client.startTraining({ datasetId: dataset.id, modelName: 'restart', contamination: 0.02 })).result();

    const handle = await p.client.startDetection({ model: 'restart', datasetId: dataset.id, chunkRows: 2000, maxConcurrentChunks: 1 });
    while ((await p.client.progress(handle.workflowId)).chunksDone < 2) await new Promise((r) => setTimeout(r, 50));

    const pidFile = path.join(process.env.NOMALY_DATA_DIR!, 'pids/temporal.pid');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    process.kill(pid, 'SIGKILL');
    while (isAlive(pid)) await new Promise((r) => setTimeout(r, 50));
    execFileSync(path.join(root, 'scripts/stack-up.sh'), ['--services-only'], { env: process.env, stdio: 'ignore' });
    expect(Number(readFileSync(pidFile, 'utf8'))).not.toBe(pid);

    const summary = await handle.result();
    expect(summary).toMatchObject({ status: 'completed', rows: 60_000 });
    const [counts] = await p.sql<{ total: string; distinct_rows: string }>(
      'select count(*) as total, count(distinct row_index) as distinct_rows from anomaly where job_id = ?',
      [handle.workflowId],
    );
    expect(Number(counts.total)).toBe(summary.anomalies);
    expect(Number(counts.distinct_rows)).toBe(summary.anomalies);
    expect(summary.anomalies).toBeGreaterThan(0);
    const stored = decodeScoresFile(await p.platform.store.getVerifiedBytes(summary.scoresBucket, summary.scoresKey));
    expect(stored).toHaveLength(60000);
    expect(stored.filter((s) => s > 0).length).toBe(60000); // every row scored (isolation forest scores are in (0, 1))
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
