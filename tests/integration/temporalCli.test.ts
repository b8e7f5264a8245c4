import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { datasetKey } from '../../src/storage/keys';
import { EXAMPLE_CSV, startTestPlatform, type TestPlatform } from '../support/testPlatform';

const run = promisify(execFile);
const root = path.resolve(__dirname, '../..');

/** The innermost failure message in `temporal workflow execute --output json` output, as the UI shows it. */
function failureText(stdout: string): string {
  try {
    let failure = JSON.parse(stdout).closeEvent.workflowExecutionFailedEventAttributes.failure;
    while (failure.cause) failure = failure.cause; // e.g. "Activity task failed" → the activity's own reason
    return failure.message;
  } catch {
    return stdout;
  }
}

/** The workflows started the way the Web UI starts them: a type name, a task queue and one JSON object. */
describe('workflows started with the temporal CLI and JSON input', () => {
  let p: TestPlatform;
  let temporal: string;
  beforeAll(async () => {
    p = await startTestPlatform();
    temporal = (await run(path.join(root, 'scripts/ensure-binary.sh'), ['temporal'])).stdout.trim();
  });
  afterAll(async () => {
    await p?.stop();
  });

  async function execute(type: string, input: unknown, workflowId: string) {
    const args = ['workflow', 'execute', '--type', type, '--task-queue', 'nomaly-control', '--workflow-id', workflowId,
      '--input', JSON.stringify(input), '--address', p.config.temporal.address, '--output', 'json'];
    return run(temporal, args).then(
      ({ stdout }) => ({ ok: true, output: stdout }),
      (err: { stdout: string; stderr: string }) => ({ ok: false, output: failureText(err.stdout) || err.stderr }),
    );
  }

  it('trains and detects from JSON typed as in the UI', async () => {
    const dataset = await p.client.uploadDataset(EXAMPLE_CSV);
    const train = await execute('trainModel', { datasetId: dataset.id, modelName: 'from-cli', params: { nTrees: 50 } }, 'cli-train-1');
    expect(train.ok).toBe(true);
    expect(JSON.parse(train.output).result).toMatchObject({ modelName: 'from-cli', version: 1, status: 'active' });

    const detect = await execute('detectBatch', { model: 'from-cli@1', datasetId: dataset.id }, 'cli-detect-1');
    expect(detect.ok).toBe(true);
    const summary = JSON.parse(detect.output).result;
    expect(summary).toMatchObject({ jobId: 'cli-detect-1', status: 'completed', rows: 1831 });
    const [{ count }] = await p.sql<{ count: string }>('select count(*) from anomaly where job_id = ?', ['cli-detect-1']);
    expect(Number(count)).toBe(summary.anomalies);
  });

  it('rejects bad input at once, naming the field, and writes nothing', async () => {
    const dataset = await p.client.uploadDataset(EXAMPLE_CSV);
    const cases: Array<[string, unknown, RegExp]> = [
      ['trainModel', { datasetId: dataset.id, modelName: 'bad-input', contamination: 2 }, /"contamination" must be a number from 0.0001 to 0.5, got 2/],
      ['trainModel', { datasetId: dataset.id, modelName: 'bad-input', trees: 10 }, /"trees" is not a known field/],
      ['trainModel', { modelName: 'bad-input' }, /"datasetId" is required/],
      ['trainModel', 'not an object', /must be one JSON object/],
      ['detectBatch', { model: 'bad input!', datasetId: dataset.id }, /"model" "bad input!" is not valid/],
      ['detectBatch', { model: 'x', datasetId: dataset.id, chunkRows: 5 }, /"chunkRows" must be an integer from 100/],
    ];
    for (const [index, [type, input, message]] of cases.entries()) {
      const started = Date.now();
      const result = await execute(type, input, `cli-bad-${index}`);
      expect(result.ok).toBe(false);
      expect(result.output).toMatch(message);
      expect(Date.now() - started).toBeLessThan(15000); // non-retryable: no backoff loop
    }
    expect(await p.sql("select 1 from model where name = 'bad-input'")).toHaveLength(0);
    expect(await p.platform.store.listKeys(p.config.buckets.models, 'bad-input/')).toHaveLength(0);
    expect(await p.sql("select 1 from detection_job where id like 'cli-bad-%'")).toHaveLength(0);
  });

  it('refuses a training run with a bad algorithm option at once, before reserving a version', async () => {
    const dataset = await p.client.uploadDataset(EXAMPLE_CSV);
    const result = await execute('trainModel', { datasetId: dataset.id, modelName: 'bad-option', algorithm: 'knn', params: { nNeighbors: 0 } }, 'cli-bad-option');
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/params\.nNeighbors/);
    expect(await p.sql("select 1 from model where name = 'bad-option'")).toHaveLength(0);
    expect(await p.platform.store.listKeys(p.config.buckets.models, 'bad-option/')).toHaveLength(0);
  });

  it('trains every algorithm of the scoring core, standardised or not, and detects with it', async () => {
    const dataset = await p.client.uploadDataset(EXAMPLE_CSV);
    const train = await execute('trainModel', { datasetId: dataset.id, modelName: 'cli-lof', algorithm: 'lof', standardize: 'zscore', params: { nNeighbors: 15 } }, 'cli-train-lof');
    expect(train.ok).toBe(true);
    expect(JSON.parse(train.output).result).toMatchObject({ modelName: 'cli-lof', algorithm: 'lof', status: 'active' });
    const detect = await execute('detectBatch', { model: 'cli-lof', datasetId: dataset.id }, 'cli-detect-lof');
    expect(detect.ok).toBe(true);
    expect(JSON.parse(detect.output).result).toMatchObject({ status: 'completed', rows: 1831 });
  });

  it('refuses a malformed CSV with the line and column, leaving nothing behind', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nomaly-bad-'));
    const file = path.join(dir, 'bad.csv');
    const text = 'f0,f1,label\n1,2,0\n3,abc,1\n';
    writeFileSync(file, text);
    const sha256 = createHash('sha256').update(text).digest('hex');
    await expect(p.client.uploadDataset(file)).rejects.toThrow(/line 3, column "f1": "abc" is not a number/);
    expect(await p.sql('select 1 from dataset where sha256 = ?', [sha256])).toHaveLength(0);
    expect(await p.platform.store.stat(p.config.buckets.datasets, datasetKey(sha256, 'csv'))).toBeUndefined();
  });
});
