import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { TASK_QUEUES } from '../../src/config/taskQueues';
import { EXAMPLE_CSV, startTestPlatform, type TestPlatform } from '../support/testPlatform';

/**
 * A workflow id is the user's to choose (the Web UI's Start Workflow form has a field for it),
 * and detectBatch stores it as the job's id in a varchar(255) column. An id that does not fit is
 * refused by PostgreSQL (SQLSTATE 22001) in an activity that has no translator of its own: the
 * worker-wide one must fail it at once, non-retryably, naming the SQLSTATE and never quoting
 * the INSERT with its values.
 */
describe('a PostgreSQL refusal in any activity', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform();
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('fails the job at once, naming the SQLSTATE and not the statement', async () => {
    const dataset = await p.client.uploadDataset(EXAMPLE_CSV);
    const model = `db-refusal-${Date.now().toString(36)}`;
    await (await p.client.startTraining({ datasetId: dataset.id, modelName: model, params: { nTrees: 10 } })).result();
    const workflowId = `detect-${'x'.repeat(300)}`;
    const started = Date.now();
    const outcome = await p.client.temporal.workflow
      .execute('detectBatch', { taskQueue: TASK_QUEUES.control, workflowId, args: [{ model, datasetId: dataset.id }] })
      .then(() => undefined, (err: unknown) => err);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(outcome).toBeInstanceOf(WorkflowFailedError);
    let failure: unknown = (outcome as WorkflowFailedError).cause;
    while (failure && !(failure instanceof ApplicationFailure)) failure = (failure as { cause?: unknown }).cause;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    const app = failure as ApplicationFailure;
    expect({ type: app.type, nonRetryable: app.nonRetryable }).toEqual({ type: 'DatabaseRefusedData', nonRetryable: true });
    expect(app.message).toMatch(/SQLSTATE 22001/);
    expect(app.message).not.toMatch(/insert|xxxxxxxx/i);
    expect(await p.sql('select 1 from detection_job where id = ?', [workflowId])).toEqual([]);
  });
});
