/**
 * Worker processes for the benchmarks: the platform's control and scoring workers as the
 * benchmark compiled them (dist-scripts/src/workers), each with its own health port and log,
 * started and waited for until ready, stopped with SIGTERM (SIGKILL after 40 s).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { freePort } from '../../src/workers/freePorts';

/** The platform as compiled with the benchmarks: workers run from here. */
const builtSrc = path.resolve(__dirname, '../../src');

export interface WorkerProcess {
  kind: 'control' | 'scoring';
  name: string;
  child: ChildProcess;
  pid: number;
  port: number;
  logFile: string;
  exited: Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function httpOk(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.setTimeout(2000, () => {
      req.destroy();
      resolve(false);
    });
  });
}

/** `nodeArgs` reach the worker process only, e.g. ["--cpu-prof"] to profile it. */
export async function startWorker(kind: 'control' | 'scoring', name: string, env: NodeJS.ProcessEnv, logDir: string, nodeArgs: string[] = []): Promise<WorkerProcess> {
  const port = await freePort();
  mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...nodeArgs, path.join(builtSrc, `workers/${kind}.js`)], {
    env: { ...env, NOMALY_HTTP_PORT: String(port) },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let dead = false;
  void exited.then(() => (dead = true));
  const deadline = Date.now() + 180_000;
  while (!(await httpOk(`http://127.0.0.1:${port}/ready`))) {
    if (dead) throw new Error(`${name} exited before it was ready; last lines of ${logFile}:\n${tail(logFile)}`);
    if (Date.now() > deadline) throw new Error(`${name} was not ready within 180 s; see ${logFile}`);
    await sleep(250);
  }
  return { kind, name, child, pid: child.pid!, port, logFile, exited };
}

export async function stopWorker(worker: WorkerProcess): Promise<void> {
  if (worker.child.exitCode !== null || worker.child.signalCode !== null) return;
  worker.child.kill('SIGTERM');
  if (!(await Promise.race([worker.exited.then(() => true), sleep(40_000).then(() => false)]))) {
    worker.child.kill('SIGKILL');
    await worker.exited;
  }
}

/** Peak resident set (VmHWM) of a process, in bytes (Linux). */
export function peakRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) * 1024;
}

export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** CPU seconds (user + system) a process has used so far (Linux; clock ticks of 1/100 s). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * CPU seconds used so far by every running process whose program name (/proc/PID/stat's, at
 * most 15 characters, e.g. "minio-v0.0.0-20") starts with one of `programs` ("temporal",
 * "minio", "postgres"), summed per prefix: where a benchmark's machine time went besides the
 * workers. A process that ends between two readings drops out.
 */
export function cpuSecondsByProgram(programs: readonly string[]): Record<string, number> {
  const totals: Record<string, number> = Object.fromEntries(programs.map((name) => [name, 0]));
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const program = programs.find((prefix) => name.startsWith(prefix));
      if (program !== undefined) totals[program] += cpuSeconds(Number(entry));
    } catch {
      // gone since the listing
    }
  }
  return totals;
}
