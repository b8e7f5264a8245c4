import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ActivityOptions } from '@temporalio/workflow';

// Records the options of every proxyActivities call the workflow modules make (the SDK's own
// function still builds each proxy).
const mockProxyOptions: ActivityOptions[] = [];
jest.mock('@temporalio/workflow', () => {
  const actual = jest.requireActual('@temporalio/workflow');
  return {
    ...actual,
    proxyActivities: (options: ActivityOptions) => {
      mockProxyOptions.push(options);
      return actual.proxyActivities(options);
    },
  };
});

const dir = path.resolve(__dirname, '../../../src/workflows');
const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
const PROXY_CALL = /\bproxyActivities\s*(<[^;]*?>)?\s*\(/g;

function millis(duration: ActivityOptions['startToCloseTimeout']): number {
  if (typeof duration === 'number') return duration;
  const match = /^(\d+) (second|minute|hour)s?$/.exec(String(duration));
  if (!match) throw new Error(`unexpected duration ${String(duration)}`);
  return Number(match[1]) * { second: 1000, minute: 60_000, hour: 3_600_000 }[match[2] as 'second'];
}

describe('activity retry policies', () => {
  beforeAll(async () => {
    for (const file of files) require(path.join(dir, file));
    // Backups and recoveries build their proxies per run from the input's (validated) retry options.
    const { longSteps, shortSteps } = await import('../../../src/workflows/backupActivityOptions');
    const { BACKUP_RETRY_DEFAULTS } = await import('../../../src/api/backupInputs');
    longSteps(BACKUP_RETRY_DEFAULTS);
    shortSteps(BACKUP_RETRY_DEFAULTS);
  });

  it('sees every proxyActivities call in src/workflows', () => {
    const calls = files.reduce((n, f) => n + (readFileSync(path.join(dir, f), 'utf8').match(PROXY_CALL)?.length ?? 0), 0);
    expect(calls).toBeGreaterThan(0);
    // A proxy made inside some other function would be missed here: declare it in activityOptions.ts.
    expect(mockProxyOptions).toHaveLength(calls);
  });

  it('gives every activity a deadline and a retry policy that ends', () => {
    for (const options of mockProxyOptions) {
      const attempts = options.retry?.maximumAttempts;
      // 0 or no maximum means retry for ever.
      expect({ queue: options.taskQueue, attempts: Number.isInteger(attempts) && attempts! >= 1 }).toEqual({ queue: options.taskQueue, attempts: true });
      expect(options.startToCloseTimeout ?? options.scheduleToCloseTimeout).toBeDefined();
    }
  });

  it('notices a control worker that died under finalizeDetection within seconds', async () => {
    const { ACTIVITY_OPTIONS } = await import('../../../src/workflows/activityOptions');
    expect(millis(ACTIVITY_OPTIONS.finalizing.heartbeatTimeout)).toBeLessThanOrEqual(15_000);
    // The workflow finalizes through that proxy, not the two-minute control one.
    const detectBatch = readFileSync(path.join(dir, 'detectBatch.ts'), 'utf8');
    expect(detectBatch).toContain('finalizing.finalizeDetection(');
    expect(detectBatch).not.toContain('control.finalizeDetection(');
  });
});
