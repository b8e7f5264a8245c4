import { type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import type { ScoreChunkCursor, ScoreChunkResult } from '../../src/activities/scoreChunkActivity';
import { SCORE_BLOCK_ROWS } from '../../src/activities/scoreChunkActivity';
import { readCsv } from '../../src/data/csv';
import { decodeScoresFile } from '../../src/results/scoresFile';
import { decodeModel } from '../../src/scoring/codec';
import { writeSyntheticCsv } from '../support/generatedData';
import { startScoringProcess } from '../support/scoringProcess';
import { startTestPlatform, type TestPlatform } from '../support/testPlatform';

/**
 * MinIO reads from the test itself, retried on a dropped keep-alive socket: the test process sits
 * idle for a minute while the job runs and the two cores are busy scoring, and the first request
 * after that may meet a connection the server has just closed.
 */
async function retryingReset<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      const { code, message } = err as { code?: string; message?: string };
      if (attempt >= 3 || !(code === 'ECONNRESET' || /socket hang up/.test(message ?? ''))) throw err;
    }
  }
}

/** One big chunk scored by KNN (about a second per block here), so a kill lands well inside it. */
const ROWS = 240_000;

/**
 * A scoring worker SIGKILLed in the middle of one large chunk: the retried attempt starts from
 * the cursor of the last heartbeat (rows done, byte offset, block score objects), scores only the
 * rest, and the job's results are exactly those of an uninterrupted run.
 */
describe('scoreChunk resumes from its last heartbeat after a worker is killed mid-chunk', () => {
  let p: TestPlatform;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    p = await startTestPlatform(['control']);
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await p?.stop();
  });

  it('scores each row once across attempts, with results identical to a run without a kill', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'nomaly-resume-')), 'synthetic.csv');
    writeSyntheticCsv(file, ROWS, 8, 505);
    const dataset = await p.client.uploadDataset(file);
    let worker = await startScoringProcess({ NOMALY_SCORING_CONCURRENCY: '1' });
    children.push(worker.child);
    const trained = await (
      await p.client.startTraining({ datasetId: dataset.id, modelName: 'resume', algorithm: 'knn', contamination: 0.02, params: { maxTrainRows: 20_000 } })
    ).result();

    // The whole dataset is one chunk: 30 blocks of 8192 rows (the server sees a heartbeat about every 8 s).
    // KNN on 20,000 training rows keeps the chunk long next to that, so the kill lands before its end
    // even on a loaded machine (the durable cursor the server sees trails the rows actually scored).
    const handle = await p.client.startDetection({ model: 'resume', datasetId: dataset.id, chunkRows: ROWS, maxConcurrentChunks: 1 });

    // Wait until the server holds a heartbeat whose cursor names finished blocks, then kill.
    let cursorAtKill: ScoreChunkCursor | undefined;
    let lastSeen = 'nothing yet';
    const deadline = Date.now() + 5 * 60_000; // a loaded machine scores slowly
    while (!cursorAtKill && Date.now() < deadline) {
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      const chunk = pending.find((a) => a.activityType?.name === 'scoreChunk');
      const payload = chunk?.heartbeatDetails?.payloads?.[0];
      if (payload && (chunk?.attempt ?? 1) === 1) {
        const cursor = defaultPayloadConverter.fromPayload<ScoreChunkCursor>(payload);
        lastSeen = JSON.stringify(cursor);
        if (cursor.blocksDone > 0) cursorAtKill = cursor;
      } else {
        lastSeen = `pending: ${JSON.stringify(pending.map((a) => ({ type: a.activityType?.name, attempt: a.attempt, details: !!a.heartbeatDetails })))}`;
      }
      if (!cursorAtKill) await new Promise((r) => setTimeout(r, 100));
    }
    if (!cursorAtKill) throw new Error(`no heartbeat cursor with finished blocks reached the server; last seen ${lastSeen}`);
    expect(cursorAtKill!.rowsDone).toBe(cursorAtKill!.blocksDone * SCORE_BLOCK_ROWS);
    expect(cursorAtKill!.rowsDone).toBeLessThan(ROWS); // the kill really is mid-chunk
    worker.child.kill('SIGKILL');
    await worker.exited;
    worker = await startScoringProcess({ NOMALY_SCORING_CONCURRENCY: '1' });
    children.push(worker.child);

    const summary = await handle.result();

    // The retried attempt took the cursor and scored only the rest.
    const history = await handle.fetchHistory();
    const completed = (history.events ?? []).filter((e) => e.activityTaskCompletedEventAttributes);
    const results = completed
      .map((e) => defaultPayloadConverter.fromPayload<ScoreChunkResult>(e.activityTaskCompletedEventAttributes!.result!.payloads![0]))
      .filter((r) => r && typeof r === 'object' && 'chunkIndex' in r);
    expect(results).toHaveLength(1);
    const [chunk] = results;
    expect(chunk.attempt).toBeGreaterThan(1);
    expect(chunk.resumedFromRow).toBeGreaterThanOrEqual(cursorAtKill!.rowsDone);
    expect(chunk.resumedFromRow! % SCORE_BLOCK_ROWS).toBe(0);
    expect(chunk.rowsScoredThisAttempt).toBe(ROWS - chunk.resumedFromRow!);
    // The restarted worker scored only the rows after the cursor: rows scored over both attempts < 2 × the chunk.
    const metrics = await (await fetch(`http://127.0.0.1:${worker.port}/metrics`)).text();
    const predicted = Number(/^nomaly_predictions_total (\d+)$/m.exec(metrics)?.[1]);
    expect(predicted).toBe(ROWS - chunk.resumedFromRow!);
    expect(predicted).toBeLessThan(ROWS);

    // Exactly the results of a run without a kill: every score, once, in order; every anomaly once.
    const model = decodeModel(await retryingReset(() => p.platform.store.getVerifiedBytes(p.config.buckets.models, trained.artifactKey, trained.artifactSha256)));
    const expectedScores = model.score(readCsv(readFileSync(file), { featureColumns: dataset.featureColumns }).features);
    const expectedAnomalies = expectedScores.reduce((n, s) => (s > model.threshold ? n + 1 : n), 0);
    expect(summary).toMatchObject({ status: 'completed', rows: ROWS, anomalies: expectedAnomalies });
    const stored = decodeScoresFile(await retryingReset(() => p.platform.store.getVerifiedBytes(summary.scoresBucket, summary.scoresKey)));
    expect(stored.length).toBe(ROWS);
    expect(Buffer.from(stored.buffer).equals(Buffer.from(expectedScores.buffer, expectedScores.byteOffset, expectedScores.byteLength))).toBe(true);
    const [counts] = await p.sql<{ total: string; distinct_rows: string; ids: string }>(
      "select count(*) as total, count(distinct row_index) as distinct_rows, count(*) filter (where row_id = 'r' || row_index) as ids from anomaly where job_id = ?",
      [handle.workflowId],
    );
    expect([Number(counts.total), Number(counts.distinct_rows), Number(counts.ids)]).toEqual([expectedAnomalies, expectedAnomalies, expectedAnomalies]);
    // The segment objects are gone once the chunk's score file exists.
    expect(await retryingReset(() => p.platform.store.listKeys(p.config.buckets.results, `jobs/${handle.workflowId}/partial/`))).toEqual([]);
  });
});
