import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { datasetIdFor } from '../../src/activities/datasetActivities';
import { SCORE_BLOCK_ROWS } from '../../src/activities/scoreChunkActivity';
import { readCsv } from '../../src/data/csv';
import { Dataset } from '../../src/db/entities';
import { decodeModel } from '../../src/scoring/codec';
import { datasetKey, jobReportKey, jobScoresKey } from '../../src/storage/keys';
import { writeSyntheticCsv } from '../support/generatedData';
import { maybeRecordHistory, startTestPlatform, type TestPlatform } from '../support/testPlatform';

const ROWS = 40_000;
const CHUNK_ROWS = 20_000;
/** In chunk 1, block 1: chunk 0 and block 0 of chunk 1 are scored and kept before the bad row. */
const BAD_ROW = CHUNK_ROWS + SCORE_BLOCK_ROWS + 100;
const BAD_LINE = BAD_ROW + 2; // the header is line 1

/**
 * A chunk that meets a malformed row fails the job at once (non-retryable), naming the line and
 * the column, and the job is recorded as failed with its partial results flagged partial and
 * counted exactly; it never gets a score file or a report.
 *
 * Registration refuses such files, so the datasets here are put in place as a dataset registered
 * by an earlier, laxer version (or restored from an old backup) would be: object and row directly.
 */
describe('a detection job that meets a malformed row', () => {
  let p: TestPlatform;
  let clean: string;
  let expectedScores: Float64Array;
  let threshold: number;
  beforeAll(async () => {
    p = await startTestPlatform();
    clean = path.join(mkdtempSync(path.join(os.tmpdir(), 'nomaly-malformed-')), 'clean.csv');
    writeSyntheticCsv(clean, ROWS, 8, 808);
    const dataset = await p.client.uploadDataset(clean);
    const trained = await (await p.client.startTraining({ datasetId: dataset.id, modelName: 'malformed', contamination: 0.03 })).result();
    const model = decodeModel(await p.platform.store.getVerifiedBytes(p.config.buckets.models, trained.artifactKey, trained.artifactSha256));
    expectedScores = model.score(readCsv(readFileSync(clean), { featureColumns: dataset.featureColumns }).features);
    threshold = model.threshold;
  });
  afterAll(async () => {
    await p?.stop();
  });

  /** Puts `bytes` in MinIO and records them as a dataset like the clean one, bypassing validation. */
  async function registerUnvalidated(bytes: Buffer, name: string): Promise<string> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const objectKey = datasetKey(sha256, 'csv');
    await p.platform.store.putBytes(p.config.buckets.datasets, objectKey, bytes);
    const em = p.platform.orm.em.fork();
    const like = await em.findOneOrFail(Dataset, { name: 'clean.csv' });
    const id = datasetIdFor(sha256);
    em.create(Dataset, { ...like, id, name, sha256, objectKey, sizeBytes: bytes.length, columnProfiles: null, createdAt: new Date() });
    await em.flush();
    return id;
  }

  function withLine(transform: (cells: string[]) => string[]): Buffer {
    const lines = readFileSync(clean, 'utf8').split('\n');
    lines[BAD_LINE - 1] = transform(lines[BAD_LINE - 1].split(',')).join(',');
    return Buffer.from(lines.join('\n'));
  }

  async function runToFailure(datasetId: string) {
    const handle = await p.client.startDetection({ model: 'malformed', datasetId, chunkRows: CHUNK_ROWS, maxConcurrentChunks: 1 });
    const error = await handle.result().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    let cause = (error as WorkflowFailedError).cause as { cause?: unknown } | undefined;
    while (cause && !(cause instanceof ApplicationFailure)) cause = cause.cause as typeof cause;
    const failure = cause as ApplicationFailure;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.type).toBe('MalformedRow');
    expect(failure.nonRetryable).toBe(true);
    // Non-retryable: no chunk ran a second attempt.
    const history = await handle.fetchHistory();
    const retried = (history.events ?? []).filter((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1);
    expect(retried).toHaveLength(0);
    return { handle, failure };
  }

  async function expectPartialJob(jobId: string, line: number, column: string) {
    // Chunk 0 whole, and the whole blocks of chunk 1 before the one holding the bad row.
    const kept = CHUNK_ROWS + Math.floor((BAD_ROW - CHUNK_ROWS) / SCORE_BLOCK_ROWS) * SCORE_BLOCK_ROWS;
    const expectedAnomalies = expectedScores.subarray(0, kept).reduce((n, s) => (s > threshold ? n + 1 : n), 0);
    const [job] = await p.sql<{ status: string; rows_scored: number; anomalies: number; summary: Record<string, unknown>; error: string }>(
      'select status, rows_scored, anomalies, summary, error from detection_job where id = ?',
      [jobId],
    );
    expect(job.status).toBe('failed');
    expect(job.error).toContain(`line ${line}, column "${column}"`);
    expect(job.rows_scored).toBe(kept);
    expect(job.anomalies).toBe(expectedAnomalies);
    expect(job.summary).toEqual({
      partial: true,
      status: 'failed',
      rows: ROWS,
      rowsScored: kept,
      anomaliesSoFar: expectedAnomalies,
      chunksDone: 1,
      chunksTotal: 2,
      failedAt: { chunkIndex: 1, line, column },
    });
    // The kept anomalies are exactly those of the rows before the bad block, each once, with its score.
    const rows = await p.sql<{ row_index: number; score: number }>('select row_index, score from anomaly where job_id = ? order by row_index', [jobId]);
    const expectedRows: Array<{ row_index: number; score: number }> = [];
    for (let i = 0; i < kept; i++) if (expectedScores[i] > threshold) expectedRows.push({ row_index: i, score: expectedScores[i] });
    expect(rows.map((r) => ({ row_index: Number(r.row_index), score: Number(r.score) }))).toEqual(expectedRows);
    // Never presented as complete: no joined score file, no report.
    expect(await p.platform.store.stat(p.config.buckets.results, jobScoresKey(jobId))).toBeUndefined();
    expect(await p.platform.store.stat(p.config.buckets.results, jobReportKey(jobId))).toBeUndefined();
  }

  it('a cell that is not a number: fails naming line and column, keeps the rows before it as partial', async () => {
    const datasetId = await registerUnvalidated(
      withLine((cells) => cells.map((c, i) => (i === 4 ? 'n/a' : c))), // column f3
      'bad-cell.csv',
    );
    const { handle, failure } = await runToFailure(datasetId);
    expect(failure.message).toContain(`line ${BAD_LINE}, column "f3": "n/a" is not a number`);
    await expectPartialJob(handle.workflowId, BAD_LINE, 'f3');
    await maybeRecordHistory(handle, 'detectBatchMalformed');
  });

  it('a row with a missing column: fails naming line and the first missing column', async () => {
    const datasetId = await registerUnvalidated(
      withLine((cells) => cells.slice(0, -1)), // f7 missing
      'bad-count.csv',
    );
    const { handle, failure } = await runToFailure(datasetId);
    expect(failure.message).toContain(`line ${BAD_LINE}, column "f7": expected 9 columns, found 8`);
    await expectPartialJob(handle.workflowId, BAD_LINE, 'f7');
  });
});
