import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createDetectionActivities } from '../../src/activities/detectionActivities';
import { createScoreChunkActivities, SCORE_BLOCK_ROWS, type ScoreChunkCursor, type ScoreChunkInput } from '../../src/activities/scoreChunkActivity';
import { readCsv } from '../../src/data/csv';
import { CsvLayoutScanner } from '../../src/data/csvLayout';
import { decodeModel } from '../../src/scoring/codec';
import type { Detector } from '../../src/scoring/detector';
import { chunkAt } from '../../src/workflows/chunkPlan';
import { chunkScoresKey, chunkSegmentsPrefix, datasetKey, segmentScoresKey } from '../../src/storage/keys';
import { writeSyntheticCsv } from '../support/generatedData';
import { startTestPlatform, type TestPlatform } from '../support/testPlatform';

const ROWS = 50_000; // 6 whole blocks and a short last one

/**
 * The resume protocol of scoreChunk, attempt by attempt, against real PostgreSQL and MinIO: the
 * activity runs in Temporal's activity test environment, which lets a test hand it the attempt
 * number and the heartbeat details a retried attempt gets from the server. The states handed in
 * are what an earlier attempt leaves behind (segments keyed by their first block, upserted
 * anomalies, a cursor), including the awkward ones: a longer segment written by an attempt that
 * ran on after losing its heartbeat, a broken segment chain, a score file already written.
 */
describe('scoreChunk resumes from a heartbeat cursor', () => {
  let p: TestPlatform;
  let model: Detector;
  let expected: Float64Array;
  let rowStarts: number[]; // byte offset of every block's first row, then the end
  let base: Omit<ScoreChunkInput, 'jobId'>;
  let datasetId: string;
  let jsonl: { sha256: string; id: string };
  const detection = () => createDetectionActivities(p.platform);
  const scoring = () => createScoreChunkActivities(p.platform);
  const results = () => p.config.buckets.results;

  beforeAll(async () => {
    p = await startTestPlatform();
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'nomaly-segments-')), 'synthetic.csv');
    writeSyntheticCsv(file, ROWS, 6, 31);
    const dataset = await p.client.uploadDataset(file);
    datasetId = dataset.id;
    const trained = await (await p.client.startTraining({ datasetId, modelName: 'segments', contamination: 0.05 })).result();
    model = decodeModel(await p.platform.store.getVerifiedBytes(p.config.buckets.models, trained.artifactKey, trained.artifactSha256));
    const bytes = readFileSync(file);
    // The same rows as JSON lines: formats other than CSV resume by rows alone (no byte offset).
    const [header, ...lines] = bytes.toString('utf8').trimEnd().split('\n');
    const names = header.split(',');
    const jsonlFile = path.join(path.dirname(file), 'synthetic.jsonl');
    writeFileSync(jsonlFile, lines.map((line) => JSON.stringify(Object.fromEntries(line.split(',').map((v, i) => [names[i], i === 0 ? v : Number(v)])))).join('\n') + '\n');
    const jsonlDataset = await p.client.uploadDataset(jsonlFile);
    jsonl = { sha256: jsonlDataset.sha256, id: jsonlDataset.id };
    expected = model.score(readCsv(bytes, { featureColumns: dataset.featureColumns }).features);
    const scanner = new CsvLayoutScanner(SCORE_BLOCK_ROWS);
    scanner.push(bytes);
    const layout = scanner.finish();
    rowStarts = layout.chunkStarts;
    base = {
      chunkIndex: 0,
      rowStart: 0,
      rowEnd: ROWS,
      csvRange: { byteStart: layout.chunkStarts[0], byteEnd: layout.chunkStarts[layout.chunkStarts.length - 1], headerEnd: layout.headerEnd },
      datasetKey: datasetKey(dataset.sha256, 'csv'),
      datasetSha256: dataset.sha256,
      datasetFormat: 'csv',
      featureColumns: dataset.featureColumns,
      idColumn: 'id',
      modelArtifactKey: trained.artifactKey,
      modelSha256: trained.artifactSha256,
    };
  });
  afterAll(async () => {
    await p?.stop();
  });

  async function newJob(jobId: string, format: 'csv' | 'jsonl' = 'csv'): Promise<ScoreChunkInput> {
    const dataset = format === 'csv' ? datasetId : jsonl.id;
    await new MockActivityEnvironment().run(detection().startDetectionJob, { jobId, model: 'segments', datasetId: dataset });
    if (format === 'csv') return { ...base, jobId };
    return { ...base, jobId, csvRange: undefined, datasetFormat: 'jsonl', datasetKey: datasetKey(jsonl.sha256, 'jsonl'), datasetSha256: jsonl.sha256 };
  }

  /** A job of this run's shape: one chunk, as planDatasetChunks lists it (the format's spec, no csvRange). */
  async function newPlannedJob(jobId: string, format: 'csv' | 'jsonl'): Promise<ScoreChunkInput> {
    const input = await newJob(jobId, format);
    const list = await new MockActivityEnvironment().run(detection().planDatasetChunks, {
      datasetKey: input.datasetKey,
      datasetSha256: input.datasetSha256,
      format,
      rows: ROWS,
      chunkRows: ROWS,
    });
    expect(list.chunks).toBe(1);
    return { ...input, csvRange: undefined, chunk: chunkAt(list, 0) };
  }

  async function predictions(): Promise<number> {
    return (await p.platform.metrics.predictions.get()).values[0]?.value ?? 0;
  }

  async function attempt(input: ScoreChunkInput, attemptNumber: number, heartbeatDetails?: ScoreChunkCursor) {
    const env = new MockActivityEnvironment({ attempt: attemptNumber, heartbeatDetails });
    const before = await predictions();
    const result = await env.run(scoring().scoreChunk, input);
    const file = new Float64Array(Uint8Array.prototype.slice.call(await p.platform.store.getVerifiedBytes(results(), chunkScoresKey(input.jobId, 0))).buffer);
    return { result, scored: (await predictions()) - before, file };
  }

  /** What an earlier attempt leaves: a segment of `blocks` blocks from `firstBlock`, with these scores. */
  async function writeSegment(jobId: string, firstBlock: number, blocks: number, scores = expected) {
    const rows = scores.slice(firstBlock * SCORE_BLOCK_ROWS, (firstBlock + blocks) * SCORE_BLOCK_ROWS);
    await p.platform.store.putBytes(results(), segmentScoresKey(jobId, 0, firstBlock), new Uint8Array(rows.buffer));
  }

  function cursorAt(blocksDone: number, anomalies: number): ScoreChunkCursor {
    return { phase: 'scoring', chunkIndex: 0, blockRows: SCORE_BLOCK_ROWS, blocksDone, rowsDone: blocksDone * SCORE_BLOCK_ROWS, nextByte: rowStarts[blocksDone], anomalies };
  }

  const anomaliesIn = (from: number, to: number) => expected.subarray(from, to).reduce((n, s) => (s > model.threshold ? n + 1 : n), 0);

  async function storedAnomalies(jobId: string) {
    const [row] = await p.sql<{ total: string; distinct_rows: string }>('select count(*) as total, count(distinct row_index) as distinct_rows from anomaly where job_id = ?', [jobId]);
    return [Number(row.total), Number(row.distinct_rows)];
  }

  const leftovers = (jobId: string) => p.platform.store.listKeys(results(), chunkSegmentsPrefix(jobId, 0));

  it('a first attempt scores the whole chunk into exactly its rows', async () => {
    const input = await newJob('segments-fresh');
    const { result, scored, file } = await attempt(input, 1);
    expect(result).toMatchObject({ rows: ROWS, resumedFromRow: 0, rowsScoredThisAttempt: ROWS, anomalies: anomaliesIn(0, ROWS) });
    expect(scored).toBe(ROWS);
    expect(Array.from(file)).toEqual(Array.from(expected));
    expect(await storedAnomalies(input.jobId)).toEqual([anomaliesIn(0, ROWS), anomaliesIn(0, ROWS)]);
    expect(await leftovers(input.jobId)).toEqual([]);
  });

  it('takes the rows before the cursor from the segments, without scoring them again', async () => {
    const input = await newJob('segments-marked');
    // Marked scores prove where each row of the file came from.
    const marked = expected.map((s) => s + 1000);
    await writeSegment(input.jobId, 0, 2, marked);
    await writeSegment(input.jobId, 2, 1, marked);
    const { result, scored, file } = await attempt(input, 2, cursorAt(3, 777));
    const resumedFromRow = 3 * SCORE_BLOCK_ROWS;
    expect(result).toMatchObject({ attempt: 2, resumedFromRow, rowsScoredThisAttempt: ROWS - resumedFromRow, anomalies: 777 + anomaliesIn(resumedFromRow, ROWS) });
    expect(scored).toBe(ROWS - resumedFromRow);
    expect(Array.from(file.subarray(0, resumedFromRow))).toEqual(Array.from(marked.subarray(0, resumedFromRow)));
    expect(Array.from(file.subarray(resumedFromRow))).toEqual(Array.from(expected.subarray(resumedFromRow)));
    expect(await leftovers(input.jobId)).toEqual([]);
  });

  it.each(['csv', 'jsonl'] as const)('resumes a planned %s chunk (an opaque chunk spec) from its cursor', async (format) => {
    const input = await newPlannedJob(`segments-planned-${format}`, format);
    const marked = expected.map((s) => s + 2000);
    await writeSegment(input.jobId, 0, 3, marked);
    // CSV resumes at the cursor's byte; JSON lines by rows alone.
    const { nextByte, ...rest } = cursorAt(3, 11);
    const { result, scored, file } = await attempt(input, 2, format === 'csv' ? { ...rest, nextByte } : rest);
    const resumedFromRow = 3 * SCORE_BLOCK_ROWS;
    expect(result).toMatchObject({ resumedFromRow, rowsScoredThisAttempt: ROWS - resumedFromRow, anomalies: 11 + anomaliesIn(resumedFromRow, ROWS) });
    expect(scored).toBe(ROWS - resumedFromRow);
    expect(Array.from(file.subarray(0, resumedFromRow))).toEqual(Array.from(marked.subarray(0, resumedFromRow)));
    expect(Array.from(file.subarray(resumedFromRow))).toEqual(Array.from(expected.subarray(resumedFromRow)));
    expect(await leftovers(input.jobId)).toEqual([]);
  });

  it('resumes a JSON-lines chunk by rows', async () => {
    const input = await newJob('segments-jsonl', 'jsonl');
    const marked = expected.map((s) => s - 1000);
    await writeSegment(input.jobId, 0, 4, marked);
    const { nextByte: _unused, ...cursor } = cursorAt(4, 5);
    const { result, scored, file } = await attempt(input, 2, cursor);
    const resumedFromRow = 4 * SCORE_BLOCK_ROWS;
    expect(result).toMatchObject({ resumedFromRow, anomalies: 5 + anomaliesIn(resumedFromRow, ROWS) });
    expect(scored).toBe(ROWS - resumedFromRow);
    expect(Array.from(file.subarray(0, resumedFromRow))).toEqual(Array.from(marked.subarray(0, resumedFromRow)));
    expect(Array.from(file.subarray(resumedFromRow))).toEqual(Array.from(expected.subarray(resumedFromRow)));
  });

  it('is exact when a segment runs past the cursor (written by an attempt that ran on after its heartbeat was lost)', async () => {
    const input = await newJob('segments-overlap');
    const cursorBlocks = 2;
    await writeSegment(input.jobId, 0, 3); // one block more than the cursor names
    // The earlier attempt had upserted the anomalies of the blocks it scored.
    const done = cursorBlocks * SCORE_BLOCK_ROWS;
    for (let i = 0; i < 3 * SCORE_BLOCK_ROWS; i++) {
      if (expected[i] > model.threshold) await p.sql('insert into anomaly (job_id, row_index, score, row_id) values (?, ?, ?, ?)', [input.jobId, i, expected[i], `r${i}`]);
    }
    const { result, scored, file } = await attempt(input, 3, cursorAt(cursorBlocks, anomaliesIn(0, done)));
    expect(result).toMatchObject({ resumedFromRow: done, anomalies: anomaliesIn(0, ROWS) });
    expect(scored).toBe(ROWS - done);
    expect(Array.from(file)).toEqual(Array.from(expected));
    expect(await storedAnomalies(input.jobId)).toEqual([anomaliesIn(0, ROWS), anomaliesIn(0, ROWS)]); // none twice
    expect(await leftovers(input.jobId)).toEqual([]);
  });

  it('starts over when the segment chain up to the cursor is broken', async () => {
    const input = await newJob('segments-broken');
    await writeSegment(input.jobId, 0, 2); // the cursor says 3 blocks, but from-block-2 is missing
    const { result, scored, file } = await attempt(input, 2, cursorAt(3, anomaliesIn(0, 3 * SCORE_BLOCK_ROWS)));
    expect(result).toMatchObject({ resumedFromRow: 0, rowsScoredThisAttempt: ROWS, anomalies: anomaliesIn(0, ROWS) });
    expect(scored).toBe(ROWS);
    expect(Array.from(file)).toEqual(Array.from(expected));
    expect(await leftovers(input.jobId)).toEqual([]);
  });

  it('returns at once when an earlier attempt wrote the score file but did not report', async () => {
    const input = await newJob('segments-written');
    await attempt(input, 1);
    await writeSegment(input.jobId, 0, 1); // a leftover is cleaned up too
    const { result, scored, file } = await attempt(input, 2, cursorAt(1, anomaliesIn(0, SCORE_BLOCK_ROWS)));
    expect(result).toMatchObject({ resumedFromRow: ROWS, rowsScoredThisAttempt: 0, anomalies: anomaliesIn(0, ROWS) });
    expect(scored).toBe(0);
    expect(Array.from(file)).toEqual(Array.from(expected));
    expect(await leftovers(input.jobId)).toEqual([]);
  });
});
