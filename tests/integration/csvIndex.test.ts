import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { failureMessage } from '../../src/client/nomalyClient';
import { createDetectionActivities } from '../../src/activities/detectionActivities';
import { createScoreChunkActivities } from '../../src/activities/scoreChunkActivity';
import { BLOCK_BYTES, decodeCsvIndex, ROW_STRIDE } from '../../src/data/csvIndex';
import { CsvLayoutScanner, type CsvLayout } from '../../src/data/csvLayout';
import { csvIndexKey, datasetKey } from '../../src/storage/keys';
import { writeSyntheticCsv } from '../support/generatedData';
import { startTestPlatform, type TestPlatform } from '../support/testPlatform';

const ROWS = 12_345; // about 0.6 MB: three index blocks

/**
 * A CSV's row index on the real stack: registration writes it, planning reads chunk offsets
 * from it instead of reading the file (or builds it for a dataset that lacks one), and a chunk
 * refuses bytes that no longer match it.
 */
describe('CSV row index: plan without a pass over the file, verify what chunks read', () => {
  let p: TestPlatform;
  let bytes: Buffer;
  let dataset: { id: string; sha256: string; featureColumns: string[] };
  const bucket = () => p.config.buckets.datasets;
  const plan = (chunkRows: number): Promise<CsvLayout> =>
    new MockActivityEnvironment().run(createDetectionActivities(p.platform).planCsvChunks, {
      datasetKey: datasetKey(dataset.sha256, 'csv'),
      datasetSha256: dataset.sha256,
      rows: ROWS,
      chunkRows,
    });
  const scannedLayout = (chunkRows: number) => {
    const scanner = new CsvLayoutScanner(chunkRows);
    scanner.push(bytes);
    return scanner.finish();
  };

  beforeAll(async () => {
    p = await startTestPlatform();
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'nomaly-csv-index-')), 'indexed.csv');
    writeSyntheticCsv(file, ROWS, 5, 11);
    bytes = readFileSync(file);
    dataset = await p.client.uploadDataset(file);
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('is written when the dataset is registered', async () => {
    const stored = await p.platform.store.stat(bucket(), csvIndexKey(dataset.sha256));
    expect(stored?.sha256).toMatch(/^[0-9a-f]{64}$/);
    const index = decodeCsvIndex(await p.platform.store.getVerifiedBytes(bucket(), csvIndexKey(dataset.sha256)));
    expect(index).toMatchObject({ dataRows: ROWS, fileBytes: bytes.length, rowStride: ROW_STRIDE });
    expect(Array.from(index.rowStarts)).toEqual(scannedLayout(ROW_STRIDE).chunkStarts);
  });

  it('plans the same chunk offsets as a scan of the whole file, on and off the index stride', async () => {
    for (const chunkRows of [2 * ROW_STRIDE, 1234, ROWS, 50_000]) {
      const layout = await plan(chunkRows);
      expect({ headerEnd: layout.headerEnd, dataRows: layout.dataRows, chunkStarts: layout.chunkStarts }).toEqual(scannedLayout(chunkRows));
      expect(layout.index).toEqual({ key: csvIndexKey(dataset.sha256), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    }
  });

  it('is built by planning when it is missing or unreadable', async () => {
    await p.platform.store.remove(bucket(), csvIndexKey(dataset.sha256));
    expect(await plan(1234)).toMatchObject(scannedLayout(1234));
    expect(await p.platform.store.stat(bucket(), csvIndexKey(dataset.sha256))).toBeDefined();
    await p.platform.store.putBytes(bucket(), csvIndexKey(dataset.sha256), Buffer.from('not an index'));
    expect(await plan(1234)).toMatchObject(scannedLayout(1234));
    expect(decodeCsvIndex(await p.platform.store.getVerifiedBytes(bucket(), csvIndexKey(dataset.sha256))).dataRows).toBe(ROWS);
  });

  it('makes a chunk refuse a changed byte in its range with a clear, non-retryable error', async () => {
    const layout = await plan(5000);
    const training = await (await p.client.startTraining({ datasetId: dataset.id, modelName: 'indexed', params: { nTrees: 5 } })).result();
    const jobId = 'csv-index-tampered';
    await new MockActivityEnvironment().run(createDetectionActivities(p.platform).startDetectionJob, { jobId, model: 'indexed', datasetId: dataset.id });
    const chunk = (index: number) => ({
      jobId,
      chunkIndex: index,
      rowStart: index * 5000,
      rowEnd: Math.min((index + 1) * 5000, ROWS),
      csvRange: { byteStart: layout.chunkStarts[index], byteEnd: layout.chunkStarts[index + 1], headerEnd: layout.headerEnd, index: layout.index },
      datasetKey: datasetKey(dataset.sha256, 'csv'),
      datasetSha256: dataset.sha256,
      datasetFormat: 'csv',
      featureColumns: dataset.featureColumns,
      idColumn: null,
      modelArtifactKey: training.artifactKey,
      modelSha256: training.artifactSha256,
    });
    // A digit changed to another digit: the file still parses, so only the check can notice.
    const changed = Buffer.from(bytes);
    const last = layout.chunkStarts.length - 2;
    const at = layout.chunkStarts[last] + 100;
    // The change is in a block chunk 0 does not read, so chunk 0 still scores.
    expect(Math.ceil(layout.chunkStarts[1] / BLOCK_BYTES)).toBeLessThanOrEqual(Math.floor(at / BLOCK_BYTES));
    changed[at] = changed[at] === 0x31 ? 0x32 : 0x31;
    // Its recorded sha256 stays: the object changed under the registry, as a bad disk would do it.
    await p.platform.store.client.putObject(bucket(), datasetKey(dataset.sha256, 'csv'), changed, changed.length, { sha256: dataset.sha256 });
    try {
      const scoring = createScoreChunkActivities(p.platform);
      await expect(new MockActivityEnvironment().run(scoring.scoreChunk, chunk(0))).resolves.toMatchObject({ rows: 5000 });
      const error = await new MockActivityEnvironment().run(scoring.scoreChunk, chunk(last)).catch((err: unknown) => err);
      expect(failureMessage(error)).toMatch(/is corrupt: bytes \d+-\d+ do not match the CRC-32 its index recorded/);
      expect((error as { nonRetryable?: boolean }).nonRetryable).toBe(true);
    } finally {
      await p.platform.store.putBytes(bucket(), datasetKey(dataset.sha256, 'csv'), bytes);
    }
  });
});
