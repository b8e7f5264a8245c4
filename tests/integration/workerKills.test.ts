import { type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readCsv } from '../../src/data/csv';
import { decodeScoresFile } from '../../src/results/scoresFile';
import { decodeModel } from '../../src/scoring/codec';
import { SeededRandom } from '../../src/scoring/random';
import { writeSyntheticCsv } from '../support/generatedData';
import { startScoringProcess } from '../support/scoringProcess';
import { startTestPlatform, type TestPlatform } from '../support/testPlatform';

const RUNS = 10;
const ROWS = 40_000;
const CHUNK_ROWS = 2000;

/**
 * Ten jobs, each with its one scoring worker (one chunk at a time) SIGKILLed at a random point
 * and restarted: every job completes with every row scored once, no anomaly twice, and each
 * kill costs at most the one chunk that was running.
 */
describe('a scoring worker SIGKILLed at random points of ten jobs', () => {
  let p: TestPlatform;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    p = await startTestPlatform(['control']);
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await p?.stop();
  });

  it('completes every run exactly once, redoing at most one chunk per kill', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'nomaly-kills-')), 'synthetic.csv');
    writeSyntheticCsv(file, ROWS, 8, 77);
    const dataset = await p.client.uploadDataset(file);
    let worker = await startScoringProcess({ NOMALY_SCORING_CONCURRENCY: '1' });
    children.push(worker.child);
    const trained = await (await p.client.startTraining({ datasetId: dataset.id, modelName: 'kills', contamination: 0.02 })).result();
    const model = decodeModel(await p.platform.store.getVerifiedBytes(p.config.buckets.models, trained.artifactKey, trained.artifactSha256));
    const expectedScores = model.score(readCsv(readFileSync(file), { featureColumns: dataset.featureColumns }).features);
    const expectedAnomalies = expectedScores.reduce((n, s) => (s > model.threshold ? n + 1 : n), 0);

    const random = new SeededRandom(2026);
    for (let run = 0; run < RUNS; run++) {
      const handle = await p.client.startDetection({ model: 'kills', datasetId: dataset.id, chunkRows: CHUNK_ROWS, maxConcurrentChunks: 1 });
      const killAfter = 1 + random.nextInt(ROWS / CHUNK_ROWS - 2); // somewhere in the middle
      while ((await p.client.progress(handle.workflowId)).chunksDone < killAfter) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, random.nextInt(40))); // at a random moment of the next chunk
      worker.child.kill('SIGKILL');
      await worker.exited;
      worker = await startScoringProcess({ NOMALY_SCORING_CONCURRENCY: '1' });
      children.push(worker.child);

      const summary = await handle.result();
      expect(summary).toMatchObject({ status: 'completed', rows: ROWS, anomalies: expectedAnomalies });
      const stored = decodeScoresFile(await p.platform.store.getVerifiedBytes(summary.scoresBucket, summary.scoresKey));
      expect(Array.from(stored)).toEqual(Array.from(expectedScores)); // every row scored, once, in order
      const [counts] = await p.sql<{ total: string; distinct_rows: string }>(
        'select count(*) as total, count(distinct row_index) as distinct_rows from anomaly where job_id = ?',
        [handle.workflowId],
      );
      expect([Number(counts.total), Number(counts.distinct_rows)]).toEqual([expectedAnomalies, expectedAnomalies]);
      const history = await handle.fetchHistory();
      const redone = (history.events ?? []).filter((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1);
      expect(redone.length).toBeLessThanOrEqual(1);
    }
  });
});
