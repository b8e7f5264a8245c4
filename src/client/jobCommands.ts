import { InvalidArgumentError, type Command } from 'commander';
import { JOB_TYPES } from './jobQuery';
import type { JobListing, NomalyClient } from './nomalyClient';

function limit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InvalidArgumentError('must be a whole number from 1 to 1000');
  return n;
}

function age(job: JobListing, now: number): string {
  const seconds = Math.max(0, Math.round((now - job.startTime.getTime()) / 1000));
  if (seconds < 120) return `${seconds}s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m ago`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h ago`;
  return `${Math.round(seconds / 86_400)}d ago`;
}

/**
 * While a job runs, its own phase says more (e.g. awaiting-operator); once it has closed,
 * Temporal's status is the truth (a terminated job never got to update its own).
 */
function shownStatus(job: JobListing): string {
  if (job.status === 'RUNNING') return job.jobStatus ?? 'running';
  return job.status.toLowerCase().replace(/_/g, '-');
}

/** `nomaly jobs`: find the id of a job to pass to `status`, `cancel` or `restore retry`. */
export function registerJobCommands(program: Command, withClient: <T>(work: (client: NomalyClient) => Promise<T>) => Promise<T>): void {
  program
    .command('jobs')
    .description('list recent jobs (trainings, detections, backups, recoveries, …): running ones first, then the most recently closed')
    .option('--type <type>', `only this workflow: ${JOB_TYPES.join(', ')}`)
    .option('--model <name>', 'only jobs of this model (name or name@version)')
    .option('--dataset <id>', 'only jobs on this dataset (ds_…)')
    .option('--status <status>', "only jobs whose own status (NomalyJobStatus) is this: running, completed, failed, cancelled, awaiting-operator, …")
    .option('--limit <n>', 'at most this many', limit, 20)
    .option('--json', 'print JSON')
    .action(async (opts: { type?: string; model?: string; dataset?: string; status?: string; limit: number; json?: boolean }) => {
      const { limit: max, json, ...filter } = opts;
      const jobs = await withClient((client) => client.listJobs(filter, max));
      if (json) {
        console.log(JSON.stringify(jobs, null, 2));
        return;
      }
      if (jobs.length === 0) {
        console.log('no jobs match');
        return;
      }
      const now = Date.now();
      console.log(`${'started'.padEnd(9)} ${'type'.padEnd(16)} ${'status'.padEnd(18)} ${'model'.padEnd(16)} id`);
      for (const job of jobs) {
        const status = shownStatus(job).padEnd(18);
        console.log(`${age(job, now).padEnd(9)} ${job.workflowType.padEnd(16)} ${status} ${(job.model ?? '-').padEnd(16)} ${job.workflowId}`);
      }
    });
}
