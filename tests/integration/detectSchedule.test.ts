import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applySchedulesFile, readSchedulesFile } from '../../src/client/schedules';
import { EXAMPLE_CSV, startTestPlatform, type TestPlatform } from '../support/testPlatform';

/** `nomaly schedules apply --file`: nightly detection jobs as Temporal Schedules. */
describe('detection schedules from a config file', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform();
  });
  afterAll(async () => {
    await p?.stop();
  });

  async function runsOf(id: string): Promise<string[]> {
    const described = await p.client.temporal.schedule.getHandle(id).describe();
    return described.info.recentActions.map((a) => a.action.workflow.workflowId);
  }

  it('a schedule triggered now produces a completed job; a paused one runs nothing', async () => {
    const dataset = await p.client.uploadDataset(EXAMPLE_CSV);
    await (await p.client.startTraining({ datasetId: dataset.id, modelName: 'nightly' })).result();
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'nomaly-schedules-')), 'schedules.json');
    writeFileSync(
      file,
      JSON.stringify({
        backup: { id: 'test-backup-for-detections', paused: true, input: { scope: 'database' } },
        detections: [
          { id: 'nightly-cardio', hour: 2, minute: 0, input: { model: 'nightly', datasetId: dataset.id } },
          { id: 'paused-every-second', everySeconds: 1, paused: true, input: { model: 'nightly', datasetId: dataset.id } },
        ],
      }),
    );
    const applied = await applySchedulesFile(p.client.temporal, readSchedulesFile(file));
    expect(applied.map((a) => `${a.id} ${a.what}`)).toEqual(['test-backup-for-detections created', 'nightly-cardio created', 'paused-every-second created']);
    expect((await applySchedulesFile(p.client.temporal, readSchedulesFile(file))).every((a) => a.what === 'updated')).toBe(true);

    const nightly = p.client.temporal.schedule.getHandle('nightly-cardio');
    expect((await nightly.describe()).policies).toMatchObject({ overlap: 'SKIP', catchupWindow: 60 * 60 * 1000 });
    await nightly.trigger();
    let runs: string[] = [];
    for (let i = 0; i < 120 && runs.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 250));
      runs = await runsOf('nightly-cardio');
    }
    expect(runs).toHaveLength(1);
    const summary = await p.client.temporal.workflow.getHandle(runs[0]).result();
    expect(summary).toMatchObject({ status: 'completed', rows: 1831, datasetId: dataset.id });

    // Due every second but paused: after several seconds, still no run.
    await new Promise((r) => setTimeout(r, 3500));
    expect(await runsOf('paused-every-second')).toHaveLength(0);

    for (const id of ['test-backup-for-detections', 'nightly-cardio', 'paused-every-second']) await p.client.temporal.schedule.getHandle(id).delete();
  });

  it('rejects a config whose detection input is invalid, naming the field, before touching Temporal', () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'nomaly-schedules-')), 'bad.json');
    writeFileSync(file, JSON.stringify({ detections: [{ id: 'bad', input: { model: 'x', datasetId: 'nope' } }] }));
    expect(() => readSchedulesFile(file)).toThrow(/"datasetId" "nope" is not valid/);
    writeFileSync(file, JSON.stringify({ detections: [{ id: 'bad', hour: 25, input: { model: 'x', datasetId: 'ds_0123456789abcdef' } }] }));
    expect(() => readSchedulesFile(file)).toThrow(/detections\[0\]\.hour must be an integer from 0 to 23/);
  });
});
