import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TASK_QUEUES } from '../../src/config/taskQueues';
import type { MaintenanceResult } from '../../src/workflows/maintenance';
import { maybeRecordHistory, startTestPlatform, type TestPlatform } from '../support/testPlatform';
import { activitiesRetriedWithoutEnd } from './backupFixtures';

/** The maintenance workflow removes exactly the old, inactive, unused models: artifacts and rows together. */
describe('maintenance workflow', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform();
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('removes old inactive models not used by a recent job, and nothing else', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'nomaly-maint-')), 'm.csv');
    writeFileSync(file, `a,b\n${Array.from({ length: 200 }, (_, i) => `${i % 17},${(i * 7) % 13}`).join('\n')}\n`);
    const dataset = await p.client.uploadDataset(file);
    const train = async (name: string) => (await p.client.startTraining({ datasetId: dataset.id, modelName: name, algorithm: 'robust-z' })).result();
    const models: Record<string, Awaited<ReturnType<typeof train>>> = {};
    for (const name of ['mt-active', 'mt-old', 'mt-recent-job', 'mt-old-job', 'mt-new']) models[name] = await train(name);
    models['mt-active-v2'] = await train('mt-active'); // ready, old
    models['mt-archived'] = await train('mt-old'); // v2 of mt-old, archived below
    await p.sql("update model set status = 'archived' where name = 'mt-old' and version = 2");
    await p.sql("update model set status = 'failed' where name = 'mt-old-job'");

    const job = async (model: string, id: string, daysAgo: number) => {
      await p.sql(
        `insert into detection_job (id, model_id, dataset_id, status, rows, scores_prefix, started_at)
         values (?, ?, ?, 'completed', 200, ?, now() - make_interval(days => ?))`,
        [id, models[model].modelId, dataset.id, `jobs/${id}/scores/`, daysAgo],
      );
    };
    await job('mt-recent-job', 'mt-job-recent', 3);
    await job('mt-old-job', 'mt-job-old', 45);
    await p.sql("update model set created_at = now() - interval '40 days' where name like 'mt-%' and name <> 'mt-new'");

    const bad = await p.client.temporal.workflow
      .execute('maintenance', { taskQueue: TASK_QUEUES.control, workflowId: `maintenance-bad-${Date.now()}`, args: [{ retentionDays: -1 }] })
      .catch((err: Error) => err);
    expect(String((bad as { cause?: Error }).cause?.message)).toMatch(/maintenance input: "retentionDays" must be a number of days/);

    const workflowId = `maintenance-test-${Date.now()}`;
    const result = await p.client.temporal.workflow.execute<() => Promise<MaintenanceResult>>('maintenance', {
      taskQueue: TASK_QUEUES.control,
      workflowId,
      args: [],
    });
    await maybeRecordHistory(p.client.temporal.workflow.getHandle(workflowId), 'maintenance');
    expect(result.retentionDays).toBe(30);
    const removed = result.removedModels.filter((m) => m.name.startsWith('mt-')).map((m) => `${m.name}@${m.version}`).sort();
    // Active mt-active@1 and mt-old@1, mt-recent-job@1 (used 3 days ago) and the young mt-new@1 stay.
    expect(removed).toEqual(['mt-active@2', 'mt-old-job@1', 'mt-old@2']);

    const left = await p.sql<{ name: string; version: number }>("select name, version from model where name like 'mt-%' order by name, version");
    expect(left.map((m) => `${m.name}@${m.version}`)).toEqual(['mt-active@1', 'mt-new@1', 'mt-old@1', 'mt-recent-job@1']);
    for (const [key, model] of Object.entries(models)) {
      const stat = await p.platform.store.stat(p.config.buckets.models, model.artifactKey);
      const kept = ['mt-active', 'mt-new', 'mt-recent-job', 'mt-old'].includes(key);
      expect([key, stat !== undefined]).toEqual([key, kept]);
    }
    // The old job keeps its results; only its link to the removed model is gone.
    const [oldJob] = await p.sql<{ model_id: number | null }>("select model_id from detection_job where id = 'mt-job-old'");
    expect(oldJob.model_id).toBeNull();

    // Running it again removes nothing more.
    const again = await p.client.temporal.workflow.execute<() => Promise<MaintenanceResult>>('maintenance', {
      taskQueue: TASK_QUEUES.control,
      workflowId: `maintenance-again-${Date.now()}`,
      args: [{ retentionDays: 30 }],
    });
    expect(again.removedModels.filter((m) => m.name.startsWith('mt-'))).toEqual([]);
  });

  it('reports an empty list, not null, when nothing is old enough to remove: in the result and in the stored payload', async () => {
    const workflowId = `maintenance-nothing-${Date.now()}`;
    const result = await p.client.temporal.workflow.execute<() => Promise<MaintenanceResult>>('maintenance', {
      taskQueue: TASK_QUEUES.control,
      workflowId,
      args: [{ retentionDays: 36500 }],
    });
    expect(result).toMatchObject({ retentionDays: 36500, removedModels: [] });
    // The bytes in the history are what the UI decodes. (`temporal workflow execute --output json`
    // prints every empty JSON array as null: that is the CLI's rendering, not this payload.)
    const history = await p.client.temporal.workflow.getHandle(workflowId).fetchHistory();
    const completed = history.events?.find((e) => e.workflowExecutionCompletedEventAttributes)?.workflowExecutionCompletedEventAttributes;
    const payload = JSON.parse(Buffer.from(completed!.result!.payloads![0].data!).toString('utf8'));
    expect(payload.removedModels).toEqual([]);
    // Its activity's retries end: a lasting failure reaches the workflow instead of retrying for ever.
    expect(await activitiesRetriedWithoutEnd(p.client.temporal.workflow.getHandle(workflowId))).toEqual([]);
  });
});
