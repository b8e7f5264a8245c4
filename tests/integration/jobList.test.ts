import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { JobRow } from '../../src/client/cli/jobTable';
import { EXAMPLE_CSV, startTestPlatform, type TestPlatform } from '../support/testPlatform';
import { waitFor } from './backupFixtures';

const run = promisify(execFile);
const cli = path.resolve(__dirname, '../../dist/client/cli.js');

/** `nomaly jobs` and NomalyClient.listJobs: finding jobs through Temporal's visibility and our search attributes. */
describe('listing jobs', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform();
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('finds a model\'s training and detection, most recently closed first, with their status, model and dataset', async () => {
    const model = `jobs-${Date.now().toString(36)}`;
    const dataset = await p.client.uploadDataset(EXAMPLE_CSV);
    const training = await p.client.startTraining({ datasetId: dataset.id, modelName: model, contamination: 0.1 });
    await training.result();
    const detection = await p.client.startDetection({ model: `${model}@1`, datasetId: dataset.id, chunkRows: 1000 });
    await detection.result();

    // Visibility lags a workflow's close by a moment.
    const jobs = await waitFor('both jobs listed as closed', async () => {
      const listed = await p.client.listJobs({ model });
      return listed.length === 2 && listed.every((j) => j.status === 'COMPLETED') ? listed : undefined;
    }, 30_000, 200);
    expect(jobs.map((j) => j.workflowId)).toEqual([detection.workflowId, training.workflowId]);
    expect(jobs[0]).toMatchObject({ workflowType: 'detectBatch', jobStatus: 'completed', model, dataset: dataset.id });
    expect(jobs[1]).toMatchObject({ workflowType: 'trainModel', model, dataset: dataset.id });
    expect(jobs[0].uiUrl).toContain(encodeURIComponent(detection.workflowId));

    expect((await p.client.listJobs({ model, type: 'trainModel' })).map((j) => j.workflowId)).toEqual([training.workflowId]);
    expect(await p.client.listJobs({ model, status: 'failed' })).toEqual([]);
    expect(await p.client.listJobs({ model }, 1)).toHaveLength(1);

    const json = JSON.parse((await run(process.execPath, [cli, 'jobs', '--model', model, '--json'])).stdout) as JobRow[];
    expect(json.map((j) => j.workflowId)).toEqual([detection.workflowId, training.workflowId]);
    // Rows, anomalies and rate from the detection's record; duration from Temporal.
    const summary = await detection.result();
    expect(json[0]).toMatchObject({ rows: summary.rows, anomalies: summary.anomalies, anomalyRate: summary.anomalyRate });
    expect(json[0].durationMs).toBeGreaterThan(0);
    expect(json[1]).toMatchObject({ rows: null, anomalies: null, anomalyRate: null });
    const table = (await run(process.execPath, [cli, 'jobs', '--model', model, '--type', 'detectBatch'])).stdout;
    expect(table).toContain(detection.workflowId);
    expect(table).not.toContain(training.workflowId);
    expect(table).toMatch(/^started\s+type\s+status\s+duration\s+rows\s+anomalies\s+rate\s+model\s+id$/m);
    const rate = `${(summary.anomalyRate * 100).toFixed(2)}%`;
    expect(table).toMatch(new RegExp(`detectBatch\\s+completed\\s+\\d+s\\s+${summary.rows.toLocaleString('en-US')}\\s+${summary.anomalies}\\s+${rate.replace('.', '\\.')}\\s+jobs-`));

    // --offset skips the first matches: the next page.
    const second = JSON.parse((await run(process.execPath, [cli, 'jobs', '--model', model, '--limit', '1', '--offset', '1', '--json'])).stdout) as JobRow[];
    expect(second.map((j) => j.workflowId)).toEqual([training.workflowId]);
    expect((await run(process.execPath, [cli, 'jobs', '--model', model, '--offset', '2'])).stdout).toBe('no jobs match after the first 2\n');
    expect(await p.client.listJobs({ model }, 5, 1)).toHaveLength(1);
  });

  it('refuses a filter it cannot use, naming it', async () => {
    const failure = await run(process.execPath, [cli, 'jobs', '--type', 'scoreChunk']).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failure?.code).not.toBe(0);
    expect(failure?.stderr).toMatch(/--type "scoreChunk" is not one of trainModel/);
  });
});
