import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { RecoveryProgress } from '../../src/workflows/disasterRecovery';
import type { TestPlatform } from '../support/testPlatform';
import { dropDatabasesLike, isAlive, isolatedEnv, restartServices, root, startIsolatedPlatform, waitFor } from './backupFixtures';
import { startWebhookReceiver } from '../support/webhookReceiver';

const FAST = { maxAttempts: 2, retryInitialSeconds: 0.2, retryMaxSeconds: 0.5, heartbeatTimeoutSeconds: 10 };

/** MinIO killed before a recovery: it runs out of retries and waits for an operator, who must hear of it at once. */
describe('a recovery waiting for an operator', () => {
  const env = isolatedEnv('op');
  let p: TestPlatform;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  const previousUrl = process.env.NOMALY_ALERT_WEBHOOK_URL;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    process.env.NOMALY_ALERT_WEBHOOK_URL = receiver.url; // read by the worker's config at start
    p = await startIsolatedPlatform(env, ['control']);
  });
  afterAll(async () => {
    await p?.stop();
    await receiver?.close();
    process.env.NOMALY_ALERT_WEBHOOK_URL = previousUrl;
    await dropDatabasesLike(env.DATABASE_URL);
  });

  it('`restore --wait` says so with the error and the retry/abort commands, and an alert goes out', async () => {
    const cli = path.join(root, 'dist/client/cli.js');
    const cliEnv = { ...process.env, ...env, LOG_LEVEL: 'warn' };
    const pid = Number(readFileSync(path.join(process.env.NOMALY_DATA_DIR!, 'pids/minio.pid'), 'utf8'));
    process.kill(pid, 'SIGKILL');
    await waitFor('minio to stop', async () => !isAlive(pid));
    try {
      const workflowId = `recovery-operator-${Date.now()}`;
      await p.client.startRecovery({ scope: 'models', options: FAST }, { workflowId });
      // `restore --wait --id` attaches to the running recovery (the same id returns it).
      const waiter = spawn(process.execPath, [cli, 'restore', '--wait', '--scope', 'models', '--id', workflowId], { env: cliEnv });
      let stderr = '';
      waiter.stderr.on('data', (chunk) => (stderr += chunk));
      const exited = new Promise<number | null>((resolve) => waiter.once('exit', resolve));

      const waiting = await waitFor('awaiting-operator', async () => {
        const progress = await p.client.progress<RecoveryProgress>(workflowId);
        return progress.phase === 'awaiting-operator' ? progress : undefined;
      }, 60_000, 50);
      const waitingSince = Date.now();
      await waitFor('the CLI to say so', async () => stderr.includes('waiting for an operator'), 10_000, 50);
      expect(Date.now() - waitingSince).toBeLessThan(3000);
      expect(stderr).toContain(`recovery ${workflowId} is waiting for an operator: step resolving-backup failed: ${waiting.lastError}`);
      expect(stderr).toContain(`nomaly restore retry ${workflowId}`);
      expect(stderr).toContain(`nomaly restore abort ${workflowId}`);

      const alert = await waitFor('the alert', async () => receiver.received.map((r): Record<string, unknown> => ({ ...r.body, idempotencyKey: r.idempotencyKey })).find((a) => a.recoveryId === workflowId), 30_000, 100);
      expect(alert).toMatchObject({
        kind: 'nomaly.recovery.awaiting-operator',
        failedStep: 'resolving-backup',
        error: waiting.lastError,
        commands: { retry: `nomaly restore retry ${workflowId}`, abort: `nomaly restore abort ${workflowId}` },
        idempotencyKey: `${workflowId}-awaiting-operator-0`,
      });

      const aborted = await promisify(execFile)(process.execPath, [cli, 'restore', 'abort', workflowId], { env: cliEnv });
      expect(aborted.stdout).toContain(`abort sent to ${workflowId}`);
      expect(await exited).not.toBe(0);
      expect(stderr).toMatch(/aborted by an operator/);
    } finally {
      restartServices();
    }
  });
});
