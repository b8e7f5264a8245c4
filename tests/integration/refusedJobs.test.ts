import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { TASK_QUEUES } from '../../src/config/taskQueues';
import { csvIndexKey } from '../../src/storage/keys';
import { SEARCH_ATTRIBUTES } from '../../src/api/searchAttributes';
import { writeSyntheticCsv } from '../support/generatedData';
import { EXAMPLE_CSV, maybeRecordHistory, startTestPlatform, type TestPlatform } from '../support/testPlatform';
import { waitFor } from './backupFixtures';
import { rootCauseMessage } from '../../src/api/rootCause';

/**
 * Jobs refused by their input or by planning, started as the Web UI starts them (a workflow
 * type and one JSON argument): each fails at once, non-retryably, reserves nothing, and says
 * it failed in NomalyJobStatus and on its job row.
 */
describe('refused jobs', () => {
  let p: TestPlatform;
  let datasetId: string;
  const unique = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;

  beforeAll(async () => {
    p = await startTestPlatform();
    datasetId = (await p.client.uploadDataset(EXAMPLE_CSV)).id;
  });
  afterAll(async () => {
    await p?.stop();
  });

  function start(type: string, input: unknown): Promise<WorkflowHandle> {
    return p.client.temporal.workflow.start(type, { taskQueue: TASK_QUEUES.control, workflowId: `refused-${type}-${unique()}`, args: [input] });
  }

  /** The failure a job ended with; a job still running after 5 s is terminated and fails the test. */
  async function failureOf(handle: WorkflowHandle): Promise<unknown> {
    const started = Date.now();
    const outcome = await Promise.race([
      handle.result().then(() => 'completed', (err: unknown) => err),
      new Promise((resolve) => setTimeout(() => resolve('still running after 5 s'), 5000)),
    ]);
    if (typeof outcome === 'string') {
      await handle.terminate('test: not refused in time').catch(() => undefined);
      throw new Error(`${handle.workflowId}: ${outcome}`);
    }
    expect(Date.now() - started).toBeLessThan(5000);
    expect(outcome).toBeInstanceOf(WorkflowFailedError);
    return (outcome as WorkflowFailedError).cause;
  }

  /** A refused input: the workflow itself failed with a non-retryable ApplicationFailure. */
  async function refusal(handle: WorkflowHandle): Promise<ApplicationFailure> {
    const cause = await failureOf(handle);
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).nonRetryable).toBe(true);
    return cause as ApplicationFailure;
  }

  async function eventTypes(handle: WorkflowHandle): Promise<string[]> {
    return ((await handle.fetchHistory()).events ?? []).map((e) => String(e.eventType));
  }

  async function jobStatus(handle: WorkflowHandle): Promise<string | undefined> {
    return (await handle.describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.jobStatus);
  }

  it.each([
    [{ params: { nTrees: -5 } }, '"params.nTrees" is refused: isolation-forest: option "nTrees" must be an integer in [1, 10000]; got -5'],
    [{ params: { depth: 3 } }, '"params.depth" is refused: isolation-forest: unknown option "depth"'],
    [{ algorithm: 'ensemble', params: { members: [] } }, '"params.members" is refused: ensemble: option "members" must be an array of 1 to 32'],
  ])('trainModel with bad detector options %j fails at once and reserves no version', async (extra, message) => {
    const modelName = `badopts-${unique()}`;
    const [{ n: modelsBefore }] = await p.sql<{ n: string }>('select count(*) as n from model');
    const handle = await start('trainModel', { datasetId, modelName, ...extra });
    const failure = await refusal(handle);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(message);
    expect(await p.sql('select id from model where name = ?', [modelName])).toEqual([]);
    const [{ n: modelsAfter }] = await p.sql<{ n: string }>('select count(*) as n from model');
    expect(modelsAfter).toBe(modelsBefore);
    expect(await eventTypes(handle)).not.toContain('EVENT_TYPE_ACTIVITY_TASK_SCHEDULED');
    expect(await jobStatus(handle)).toBe('failed');
    if ('algorithm' in extra) await maybeRecordHistory(handle, 'trainModelRefusedOptions');
  });

  it.each([[{}], ['x'], [{ plan: null }]])('detectBatch refuses a continuation in its input (%j) instead of failing its workflow task for ever', async (continuation) => {
    const handle = await start('detectBatch', { model: 'cardio', datasetId, continuation });
    const failure = await refusal(handle);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toBe('detectBatch input: "continuation" is set by detectBatch itself when a long job continues as new; leave it out');
    const events = await eventTypes(handle);
    expect(events).not.toContain('EVENT_TYPE_WORKFLOW_TASK_FAILED');
    expect(events).not.toContain('EVENT_TYPE_ACTIVITY_TASK_SCHEDULED');
  });

  it.each([[{ foo: 1 }], [[1, 2]], [{ jobId: 'x', model: 'm@1', datasetId: 'ds_0123456789abcdef', rows: 10, anomalies: 11, anomalyRate: 1, alertAnomalyRateAbove: 0.5, report: 'b/jobs/x/report.html' }]])(
    'sendAlert refuses %j before posting anything',
    async (input) => {
      const handle = await start('sendAlert', input);
      const failure = await refusal(handle);
      expect(failure.nonRetryable).toBe(true);
      expect(failure.type).toBe('InvalidInput');
      expect(failure.message).toMatch(/^sendAlert input: /);
      expect(await eventTypes(handle)).not.toContain('EVENT_TYPE_ACTIVITY_TASK_SCHEDULED');
      if (Array.isArray(input)) await maybeRecordHistory(handle, 'sendAlertRefused');
    },
  );

  describe('a job whose planning fails', () => {
    let model: string;
    beforeAll(async () => {
      model = `planfail-${unique()}`;
      await (await p.client.startTraining({ datasetId, modelName: model, contamination: 0.1 })).result();
    });

    async function expectFailedJob(handle: WorkflowHandle, message: string | RegExp): Promise<void> {
      const failure = await failureOf(handle);
      expect(rootCauseMessage(failure)).toMatch(message);
      expect(await jobStatus(handle)).toBe('failed');
      const rows = await p.sql<{ status: string }>('select status from detection_job where id = ?', [handle.workflowId]);
      // Refused before the job was recorded, or recorded and then marked failed: never left running.
      expect(rows.map((r) => r.status)).not.toContain('running');
    }

    it('is marked failed for an unknown model', async () => {
      const handle = await start('detectBatch', { model: `no-such-${unique()}`, datasetId });
      await expectFailedJob(handle, /has no ready version/);
    });

    it('is marked failed for an unknown dataset', async () => {
      const handle = await start('detectBatch', { model, datasetId: 'ds_0000000000000000' });
      await expectFailedJob(handle, /dataset "ds_0000000000000000" does not exist/);
      await maybeRecordHistory(handle, 'detectBatchPlanningFailed');
    });

    it('is marked failed when the dataset lacks the model\'s features, and `jobs --status failed` lists it', async () => {
      const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'nomaly-refused-')), 'other.csv');
      writeSyntheticCsv(file, 500, 3, 4242);
      const other = await p.client.uploadDataset(file);
      const handle = await start('detectBatch', { model, datasetId: other.id });
      await expectFailedJob(handle, /lacks the model's feature columns: f3/);
      const listed = await waitFor('the job listed as failed', async () => {
        const jobs = await p.client.listJobs({ model, status: 'failed' });
        return jobs.find((j) => j.workflowId === handle.workflowId);
      }, 30_000, 200);
      expect(listed).toMatchObject({ status: 'FAILED', jobStatus: 'failed' });
    });

    it('marks the recorded job row failed when planning fails after recording it', async () => {
      // A dataset of its own whose bytes (and row index) are gone: the job is recorded, then planning cannot read it.
      const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'nomaly-refused-')), 'gone.csv');
      writeSyntheticCsv(file, 300, 21, 912_001); // f0…f20, as the cardio model needs
      const gone = await p.client.uploadDataset(file);
      const [record] = await p.sql<{ object_key: string; sha256: string }>('select object_key, sha256 from dataset where id = ?', [gone.id]);
      await p.platform.store.removeMany(p.config.buckets.datasets, [record.object_key, csvIndexKey(record.sha256)]);

      const handle = await start('detectBatch', { model, datasetId: gone.id });
      await expectFailedJob(handle, /./);
      const [row] = await p.sql<{ status: string; error: string }>('select status, error from detection_job where id = ?', [handle.workflowId]);
      expect(row.status).toBe('failed');
      expect(row.error).toContain(record.object_key);
    });

    it('trainModel on an unknown dataset is marked failed', async () => {
      const handle = await start('trainModel', { datasetId: 'ds_0000000000000000', modelName: `nodata-${unique()}` });
      expect(rootCauseMessage(await failureOf(handle))).toContain('dataset "ds_0000000000000000" does not exist');
      expect(await jobStatus(handle)).toBe('failed');
    });
  });
});

