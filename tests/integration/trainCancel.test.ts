import { CancelledFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../../src/api/searchAttributes';
import { EXAMPLE_CSV, maybeRecordHistory, startTestPlatform, type TestPlatform } from '../support/testPlatform';
import { waitFor } from './backupFixtures';

/**
 * A training cancelled while it waits for its fit ends as `cancelled` in NomalyJobStatus, and
 * its reserved version is marked failed instead of staying `training` for ever. No scoring
 * worker runs here, so the fit never starts and the cancel always lands in that phase.
 */
describe('a cancelled training', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform(['control']);
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('records its end: status cancelled, version failed', async () => {
    const dataset = await p.client.uploadDataset(EXAMPLE_CSV);
    const modelName = `cancelled-${Date.now().toString(36)}`;
    const handle = await p.client.startTraining({ datasetId: dataset.id, modelName });
    await waitFor('the fitting phase', async () => (await p.client.progress<{ phase: string }>(handle.workflowId)).phase === 'fitting', 30_000);
    await handle.cancel();

    const outcome = await handle.result().then(() => undefined, (err: unknown) => err);
    expect(outcome).toBeInstanceOf(WorkflowFailedError);
    expect((outcome as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect((await handle.describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.jobStatus)).toBe('cancelled');
    expect(await p.sql('select version, status from model where name = ?', [modelName])).toEqual([{ version: 1, status: 'failed' }]);
    await maybeRecordHistory(handle, 'trainModelCancelled');
  });
});
