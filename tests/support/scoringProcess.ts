import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../src/workers/freePorts';

const root = path.resolve(__dirname, '../..');

export interface ScoringProcess {
  child: ChildProcess;
  port: number;
  exited: Promise<number | null>;
}

/** A real scoring worker process (the compiled dist/workers/scoring.js), as production runs it. */
export function startScoringProcess(env: Record<string, string> = {}): Promise<ScoringProcess> {
  return startWorkerProcess('scoring', env);
}

/** A real worker process of either kind (dist/workers/KIND.js), ready when its health port says so. */
export async function startWorkerProcess(kind: 'control' | 'scoring', env: Record<string, string> = {}): Promise<ScoringProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(root, `dist/workers/${kind}.js`)], {
    env: { ...process.env, NOMALY_HTTP_PORT: String(port), NOMALY_SCORING_CONCURRENCY: '2', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  for (let i = 0; i < 240; i++) {
    const ready = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.ok, () => false);
    if (ready) return { child, port, exited };
    if (child.exitCode !== null) throw new Error(`${kind} worker exited with ${child.exitCode}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${kind} worker did not become ready`);
}
