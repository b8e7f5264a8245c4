import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BACKUP_RETRY_DEFAULTS, operatorCommands, validateVerifyBackupsInput } from '../../../src/api/backupInputs';
import { readSchedulesFile, DEFAULT_BACKUP_VERIFY_SCHEDULE } from '../../../src/client/schedules';
import { failureOf } from '../../support/failureOf';


describe('verifyBackups input', () => {
  it('checks one backup, or the newest three by default', () => {
    expect(validateVerifyBackupsInput({ backupId: 'bk-20261204-020000-1a2b3c4d' })).toEqual({
      backupId: 'bk-20261204-020000-1a2b3c4d',
      newest: 3,
      options: BACKUP_RETRY_DEFAULTS,
    });
    expect(validateVerifyBackupsInput(undefined)).toMatchObject({ backupId: undefined, newest: 3 });
    expect(validateVerifyBackupsInput({ newest: 7 }).newest).toBe(7);
  });

  it('refuses what it cannot use, non-retryably, naming the field', () => {
    for (const [input, message] of [
      [{ backupId: 'nope' }, /"backupId" "nope" is not a backup id/],
      [{ newest: 0 }, /"newest" must be an integer from 1 to 1000, got 0/],
      [{ newest: 2.5 }, /"newest" must be an integer/],
      [{ backupId: 'bk-20261204-020000-1a2b3c4d', newest: 2 }, /"newest" goes without backupId/],
      [{ backupIds: [] }, /"backupIds" is not a known field/],
      [[1, 2], /must be one JSON object/],
      [{ options: { maxAttempts: 0 } }, /"options.maxAttempts" must be an integer from 1/],
    ] as const) {
      const failure = failureOf(() => validateVerifyBackupsInput(input));
      expect([failure.message, failure.nonRetryable]).toEqual([expect.stringMatching(message), true]);
    }
  });

  it('names the exact commands an operator runs for a waiting recovery', () => {
    expect(operatorCommands('recovery-full-x1')).toEqual({ retry: 'nomaly restore retry recovery-full-x1', abort: 'nomaly restore abort recovery-full-x1' });
  });
});

describe('the backup re-check schedule', () => {
  it('is installed with the defaults, and validated like every schedule', () => {
    expect(readSchedulesFile().backupVerify).toEqual(DEFAULT_BACKUP_VERIFY_SCHEDULE);
    expect(DEFAULT_BACKUP_VERIFY_SCHEDULE).toMatchObject({ id: 'nomaly-backup-verify', hour: 4, minute: 0, input: { newest: 3 } });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nomaly-verify-schedule-'));
    const file = (name: string, content: unknown) => {
      writeFileSync(path.join(dir, name), JSON.stringify(content));
      return path.join(dir, name);
    };
    // A file says what it wants: without backupVerify, no re-check schedule.
    expect(readSchedulesFile(file('none.json', { backup: { hour: 1 } })).backupVerify).toBeUndefined();
    expect(readSchedulesFile(file('some.json', { backupVerify: { minute: 15, input: { newest: 5 } } })).backupVerify).toMatchObject({ hour: 4, minute: 15, input: { newest: 5 } });
    expect(() => readSchedulesFile(file('bad.json', { backupVerify: { input: { newest: -1 } } }))).toThrow(/verifyBackups input: "newest" must be an integer/);
    expect(() => readSchedulesFile(file('late.json', { backupVerify: { hour: 24 } }))).toThrow(/backupVerify\.hour must be an integer from 0 to 23/);
  });
});
