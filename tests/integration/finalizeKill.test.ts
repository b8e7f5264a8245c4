import { MockActivityEnvironment } from '@temporalio/testing';
import { Client } from 'pg';
import { createDetectionActivities, type DetectionSummary } from '../../src/activities/detectionActivities';
import { EXAMPLE_CSV, startTestPlatform, type TestPlatform } from '../support/testPlatform';
import { startControlProcess, waitFor, type WorkerProcess } from './backupFixtures';

/**
 * A control worker SIGKILLed while it runs finalizeDetection: the activity heartbeats under a
 * 15 s timeout, so the job completes on a restarted worker within seconds, where the
 * two-minute start-to-close deadline alone made it wait two minutes.
 */
describe('a control worker killed during finalizeDetection', () => {
  let p: TestPlatform;
  let control: WorkerProcess | undefined;
  let datasetId: string;
  let model: string;
  const env = { DATABASE_URL: process.env.DATABASE_URL!, NOMALY_BUCKET_PREFIX: process.env.NOMALY_BUCKET_PREFIX ?? 'nomaly' };

  beforeAll(async () => {
    p = await startTestPlatform(['scoring']);
    control = await startControlProcess(env);
    datasetId = (await p.client.uploadDataset(EXAMPLE_CSV)).id;
    model = `finalize-kill-${Date.now().toString(36)}`;
    await (await p.client.startTraining({ datasetId, modelName: model, contamination: 0.1 })).result();
  });
  afterAll(async () => {
    if (control?.child.exitCode === null) control.child.kill('SIGKILL');
    await p?.stop();
  });

  it('costs seconds: the retry on a restarted worker completes the job', async () => {
    const handle = await p.client.startDetection({ model: `${model}@1`, datasetId, chunkRows: 1000 });

    // Hold the job's row so finalizeDetection blocks at its last write: the kill lands mid-activity.
    // (NO KEY: chunks inserting anomalies, which reference the row, must not wait.)
    const lock = new Client({ connectionString: env.DATABASE_URL });
    await lock.connect();
    try {
      await waitFor('the job row', async () => (await p.sql('select id from detection_job where id = ?', [handle.workflowId])).length > 0, 30_000);
      await lock.query('begin');
      await lock.query('select id from detection_job where id = $1 for no key update', [handle.workflowId]);
      await waitFor('finalizeDetection running', async () => {
        const pending = (await handle.describe()).raw.pendingActivities ?? [];
        // 2: PENDING_ACTIVITY_STATE_STARTED, a worker has it.
        return pending.some((a) => a.activityType?.name === 'finalizeDetection' && Number(a.state) === 2);
      }, 60_000, 50);
      await new Promise((r) => setTimeout(r, 1000)); // blocked on the row, heartbeating

      const killedAt = Date.now();
      control!.child.kill('SIGKILL');
      await control!.exited;
      await lock.query('rollback');
      control = await startControlProcess(env);
      const summary = await handle.result();
      const seconds = (Date.now() - killedAt) / 1000;

      expect(summary).toMatchObject({ status: 'completed', rows: 1831 });
      const events = (await handle.fetchHistory()).events ?? [];
      const finalize = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'finalizeDetection');
      const started = events.find((e) => e.activityTaskStartedEventAttributes?.scheduledEventId?.toString() === finalize?.eventId?.toString());
      expect(Number(started?.activityTaskStartedEventAttributes?.attempt)).toBe(2); // the kill did interrupt it
      // 15 s heartbeat timeout, a worker restart and a sticky-queue timeout; the old deadline was 120 s.
      expect(seconds).toBeLessThan(45);
    } finally {
      await lock.end();
    }
  });

  it('heartbeats each phase while it finalizes', async () => {
    const handle = await p.client.startDetection({ model: `${model}@1`, datasetId, chunkRows: 1000 });
    const first = await handle.result();
    const beats: unknown[] = [];
    const activity = new MockActivityEnvironment();
    activity.on('heartbeat', (details: unknown) => beats.push(details));
    // Finalizing again is safe (same keys, same row): the summary stands.
    const summary = (await activity.run(createDetectionActivities(p.platform).finalizeDetection, { jobId: handle.workflowId, modelLabel: `${model}@1`, chunks: 2 })) as DetectionSummary;
    expect(summary).toMatchObject({ status: 'completed', rows: first.rows, anomalies: first.anomalies, scoresKey: first.scoresKey });
    expect(beats.map((b) => (b as { phase: string }).phase).filter((phase, i, all) => all.indexOf(phase) === i)).toEqual([
      'counting anomalies',
      'assembling scores',
      'flagging',
      'writing report',
    ]);
  });
});
