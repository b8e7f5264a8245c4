import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');

export interface ScoringProcess {
  child: ChildProcess;
  port: number;
  exited: Promise<number | null>;
}

/** A real scoring worker process (the compiled dist/workers/scoring.js), as production runs it. */
export async function startScoringProcess(env: Record<string, string> = {}): Promise<ScoringProcess> {
  const port = await new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = server.address() as net.AddressInfo;
      server.close(() => resolve(free));
    });
  });
  const child = spawn(process.execPath, [path.join(root, 'dist/workers/scoring.js')], {
    env: { ...process.env, NOMALY_HTTP_PORT: String(port), NOMALY_SCORING_CONCURRENCY: '2', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  for (let i = 0; i < 240; i++) {
    const ready = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.ok, () => false);
    if (ready) return { child, port, exited };
    if (child.exitCode !== null) throw new Error(`scoring worker exited with ${child.exitCode}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('scoring worker did not become ready');
}
