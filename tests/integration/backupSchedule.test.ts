import { DEFAULT_BACKUP_SCHEDULE, applyBackupSchedule } from '../../src/client/schedules';
import { startTestPlatform, type TestPlatform } from '../support/testPlatform';

/** `nomaly schedules apply` as the client library runs it: a real Temporal Schedule for the nightly backup. */
describe('the nightly backup schedule', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform();
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('is created, then updated in place; triggered now it produces a verified backup; apply can pause it', async () => {
    const spec = { ...DEFAULT_BACKUP_SCHEDULE, id: 'test-nightly-backup', input: { scope: 'database' as const, retention: false } };
    expect(await applyBackupSchedule(p.client.temporal, spec)).toBe('created');
    expect(await applyBackupSchedule(p.client.temporal, { ...spec, minute: 45 })).toBe('updated');

    const handle = p.client.temporal.schedule.getHandle(spec.id);
    const described = await handle.describe();
    expect(described.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 2, end: 2, step: 1 }], minute: [{ start: 45, end: 45, step: 1 }] });
    expect(described.policies.overlap).toBe('SKIP');
    expect(described.policies.catchupWindow).toBe(60 * 60 * 1000);

    const before = await p.sql<{ id: string }>("select id from backup where status = 'verified'");
    await handle.trigger();
    let verified = before;
    for (let i = 0; i < 240 && verified.length === before.length; i++) {
      await new Promise((r) => setTimeout(r, 250));
      verified = await p.sql<{ id: string }>("select id from backup where status = 'verified'");
    }
    expect(verified.length).toBe(before.length + 1);

    await applyBackupSchedule(p.client.temporal, { ...spec, paused: true });
    expect((await handle.describe()).state.paused).toBe(true);
    await handle.delete();
  });
});
