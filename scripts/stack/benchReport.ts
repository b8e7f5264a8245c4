/**
 * What every job benchmark's command line and report share: whole-number options, the
 * machine's load, the machine line, and writing `bench/NAME-last-run.md` (one latest report
 * per benchmark; history is in git).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../repoRoot';

/** `--name N` from the command line, a whole number ≥ 1 (underscores allowed), or the fallback. */
export function intOption(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]?.replace(/_/g, ''));
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a whole number`);
  return value;
}

export const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** The 1, 5 and 15 minute load averages. */
export const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** The report's machine line. */
export function machineLine(): string {
  return `${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}`;
}

/** The command as a user would type it, with this run's arguments. */
export function commandLine(script: string): string {
  const args = process.argv.slice(2);
  return `npm run ${script}${args.length ? ` -- ${args.join(' ')}` : ''}`;
}

/** Prints the report and writes it as bench/NAME-last-run.md. */
export function writeBenchReport(name: string, markdown: string, log: (message: string) => void): void {
  console.log(markdown);
  mkdirSync(path.join(repoRoot, 'bench'), { recursive: true });
  writeFileSync(path.join(repoRoot, `bench/${name}-last-run.md`), markdown);
  log(`wrote bench/${name}-last-run.md`);
}

/** Where benchmarks keep generated data between runs (BENCH_CACHE_DIR, else the platform's cache folder). */
export const benchCacheDir = (): string =>
  path.resolve(process.env.BENCH_CACHE_DIR ?? path.join(process.env.NOMALY_CACHE_DIR ?? path.join(os.homedir(), '.cache/nomaly'), 'detect-bench'));

/** `--profile DIR` from the command line: where scoring workers write CPU profiles, if asked. */
export function profileOption(): string | undefined {
  const at = process.argv.indexOf('--profile');
  return at >= 0 ? path.resolve(process.argv[at + 1]) : undefined;
}

/** The whole machine's busy and total CPU ticks so far (/proc/stat). */
export function cpuTicks(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - (f[4] ?? 0), total };
}
/** Average cores busy on the whole machine between two readings. */
export const coresBusy = (a: ReturnType<typeof cpuTicks>, b: ReturnType<typeof cpuTicks>) => (b.total > a.total ? ((b.busy - a.busy) / (b.total - a.total)) * os.cpus().length : 0);
