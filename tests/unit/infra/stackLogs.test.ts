import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * scripts/stack-processes.sh, the functions stack-up.sh starts its processes with, run by bash:
 * a restarted process must not erase what the crashed one wrote.
 */
const script = path.resolve(__dirname, '../../../scripts/stack-processes.sh');

function bash(data: string, body: string, env: Record<string, string> = {}): void {
  execFileSync('bash', ['-euo', 'pipefail', '-c', `data="$1"; source "$2"; ${body}`, 'bash', data, script], { env: { ...process.env, ...env }, stdio: 'pipe' });
}

describe('stack-up.sh process logs', () => {
  let data: string;
  beforeEach(() => {
    data = mkdtempSync(path.join(os.tmpdir(), 'nomaly-stack-logs-'));
    mkdirSync(path.join(data, 'pids'));
    mkdirSync(path.join(data, 'logs'));
  });
  afterEach(() => rmSync(data, { recursive: true, force: true }));

  const startAndWait = (command: string, env?: Record<string, string>) =>
    bash(data, `start_bg minio bash -c '${command}'; pid="$(cat "$data/pids/minio.pid")"; while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done`, env);

  it('keeps a crashed run\'s log when the process is started again, with a line marking each start', () => {
    startAndWait('echo "first run: fatal error"; exit 3');
    startAndWait('echo "second run: up"');
    const lines = readFileSync(path.join(data, 'logs/minio.log'), 'utf8').trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^\{"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ","name":"stack-up","msg":"starting minio"\}$/),
      'first run: fatal error',
      expect.stringContaining('"msg":"starting minio"'),
      'second run: up',
    ]);
    for (const line of lines.filter((l) => l.startsWith('{'))) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('moves a log past NOMALY_LOG_MAX_BYTES to NAME.log.1 and starts a new one', () => {
    startAndWait('echo "an old run wrote a lot"', { NOMALY_LOG_MAX_BYTES: '10' });
    startAndWait('echo "the new run"', { NOMALY_LOG_MAX_BYTES: '10' });
    expect(readFileSync(path.join(data, 'logs/minio.log.1'), 'utf8')).toContain('an old run wrote a lot');
    const current = readFileSync(path.join(data, 'logs/minio.log'), 'utf8');
    expect(current).toContain('the new run');
    expect(current).not.toContain('an old run');
  });
});
