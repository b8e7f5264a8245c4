import { type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DetectionSummary } from '../../src/client/nomalyClient';
import { decodeScoresFile } from '../../src/results/scoresFile';
import { Matrix } from '../../src/scoring/matrix';
import { dayRows, dropLake, LAKE_COLUMNS, lakeConnectionFile, seedLake, trainLakeModel } from '../support/lake';
import { startWorkerProcess, type ScoringProcess } from '../support/scoringProcess';
import { startTestPlatform, type TestPlatform } from '../support/testPlatform';

const DAY = '2026-11-10';
const ROWS = 24_000;
const CHUNK_ROWS = 2000;

/**
 * A job over lake partitions whose scoring worker, then whose control worker, is SIGKILLed
 * mid-job and restarted: every row of the window is scored once, in order, no anomaly twice.
 */
describe('SIGKILL of the workers of a job over a source', () => {
  let p: TestPlatform;
  const children: ChildProcess[] = [];
  const lake = `nomaly-test-kills-lake-${process.pid}`;
  const saved = process.env.NOMALY_CONNECTIONS_FILE;

  beforeAll(async () => {
    const { loadConfig } = await import('../../src/config');
    process.env.NOMALY_CONNECTIONS_FILE = lakeConnectionFile(mkdtempSync(path.join(os.tmpdir(), 'nomaly-kills-conn-')), loadConfig());
    // No workers in this process: both run as processes that can be killed.
    p = await startTestPlatform([]);
    await seedLake(p.platform.store, lake, [DAY], { rowsPerDay: ROWS, format: 'parquet', rowGroupRows: 1000, partsPerDay: 4 });
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await p?.stop();
    await dropLake(p.platform.store, lake).catch(() => undefined);
    if (saved === undefined) delete process.env.NOMALY_CONNECTIONS_FILE;
    else process.env.NOMALY_CONNECTIONS_FILE = saved;
  });

  async function start(kind: 'control' | 'scoring'): Promise<ScoringProcess> {
    const worker = await startWorkerProcess(kind, kind === 'scoring' ? { NOMALY_SCORING_CONCURRENCY: '1' } : {});
    children.push(worker.child);
    return worker;
  }

  it('loses and doubles nothing', async () => {
    let control = await start('control');
    let scoring = await start('scoring');
    const model = await trainLakeModel(p, 'lake-kills', 4000);
    const day = dayRows(DAY, ROWS);
    const expected = model.score(new Matrix(ROWS, LAKE_COLUMNS.length, day.features));
    const expectedIds = day.ids.filter((_, i) => expected[i] > model.threshold).sort();

    const source = { kind: 'objects', connection: 'lake', bucket: lake, prefix: 'events/dt={date}/', format: 'parquet', idColumn: 'id' } as const;
    const handle = await p.client.startDetection({ model: 'lake-kills', source, window: { start: DAY, end: '2026-11-11' }, chunkRows: CHUNK_ROWS, maxConcurrentChunks: 1 });
    const waitForChunks = async (n: number) => {
      while ((await p.client.progress(handle.workflowId)).chunksDone < n) await new Promise((r) => setTimeout(r, 20));
    };
    await waitForChunks(3);
    scoring.child.kill('SIGKILL');
    await scoring.exited;
    scoring = await start('scoring');
    await waitForChunks(7);
    control.child.kill('SIGKILL');
    await control.exited;
    control = await start('control');

    const summary = (await handle.result()) as DetectionSummary;
    expect(summary).toMatchObject({ status: 'completed', rows: ROWS, anomalies: expectedIds.length });
    const stored = decodeScoresFile(await p.platform.store.getVerifiedBytes(summary.scoresBucket, summary.scoresKey));
    expect(Array.from(stored)).toEqual(Array.from(expected)); // every row once, in the snapshot's order
    const ids = (await p.sql<{ row_id: string }>('select row_id from anomaly where job_id = ? order by row_id', [handle.workflowId])).map((r) => r.row_id);
    expect(ids).toEqual(expectedIds);
  });
});
