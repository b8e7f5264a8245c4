import type { Command } from 'commander';
import type { DetectionJobCounts } from '../db/modelRegistry';
import { JOB_TYPES } from './jobQuery';
import { listLimit, listOffset } from './listOptions';
import type { JobListing, NomalyClient } from './nomalyClient';
import { withRegistry } from './registryCli';
import { renderTable } from './table';

/** A job as `nomaly jobs` shows it: Temporal's listing, its duration, and a detection's counts from its record. */
export interface JobRow extends JobListing {
  durationMs: number;
  rows: number | null;
  anomalies: number | null;
  anomalyRate: number | null;
}

function age(job: JobListing, now: number): string {
  return `${shortDuration(now - job.startTime.getTime())} ago`;
}

/** 42s, 17m, 5h, 3d: the one unit a glance needs. */
export function shortDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}

/**
 * While a job runs, its own phase says more (e.g. awaiting-operator); once it has closed,
 * Temporal's status is the truth (a terminated job never got to update its own).
 */
function shownStatus(job: JobListing): string {
  if (job.status === 'RUNNING') return job.jobStatus ?? 'running';
  return job.status.toLowerCase().replace(/_/g, '-');
}

/** Duration from Temporal (running: so far); rows and anomalies from a detection's record (rows scored so far until it completes). */
export function jobRows(jobs: JobListing[], counts: Map<string, DetectionJobCounts>, now: number): JobRow[] {
  return jobs.map((job) => {
    const c = counts.get(job.workflowId);
    const rows = c ? (c.status === 'completed' ? c.rows : c.rowsScored) : null;
    return {
      ...job,
      durationMs: (job.closeTime?.getTime() ?? now) - job.startTime.getTime(),
      rows,
      anomalies: c ? c.anomalies : null,
      anomalyRate: c ? (c.anomalyRate ?? (rows ? c.anomalies / rows : null)) : null,
    };
  });
}

export function jobTableLines(rows: JobRow[], now: number): string[] {
  return renderTable(
    [
      { header: 'started' },
      { header: 'type' },
      { header: 'status' },
      { header: 'duration', align: 'right' },
      { header: 'rows', align: 'right' },
      { header: 'anomalies', align: 'right' },
      { header: 'rate', align: 'right' },
      { header: 'model' },
      { header: 'id' },
    ],
    rows.map((job) => [
      age(job, now),
      job.workflowType,
      shownStatus(job),
      shortDuration(job.durationMs),
      job.rows === null ? '-' : job.rows.toLocaleString('en-US'),
      job.anomalies === null ? '-' : job.anomalies.toLocaleString('en-US'),
      job.anomalyRate === null ? '-' : `${(job.anomalyRate * 100).toFixed(2)}%`,
      job.model ?? '-',
      job.workflowId,
    ]),
  );
}

/** `nomaly jobs`: find the id of a job to pass to `status`, `cancel` or `restore retry`. */
export function registerJobCommands(program: Command, withClient: <T>(work: (client: NomalyClient) => Promise<T>) => Promise<T>): void {
  program
    .command('jobs')
    .description('list recent jobs (trainings, detections, backups, recoveries, …): running ones first, then the most recently closed; detections with their rows, anomalies and anomaly rate')
    .option('--type <type>', `only this workflow: ${JOB_TYPES.join(', ')}`)
    .option('--model <name>', 'only jobs of this model (name or name@version)')
    .option('--dataset <id>', 'only jobs on this dataset (ds_…)')
    .option('--status <status>', "only jobs whose own status (NomalyJobStatus) is this: running, completed, failed, cancelled, awaiting-operator, …")
    .option('--limit <n>', 'at most this many', listLimit, 20)
    .option('--offset <n>', 'skip this many first (the next page)', listOffset, 0)
    .option('--json', 'print JSON')
    .action(async (opts: { type?: string; model?: string; dataset?: string; status?: string; limit: number; offset: number; json?: boolean }) => {
      const { limit, offset, json, ...filter } = opts;
      const jobs = await withClient((client) => client.listJobs(filter, limit, offset));
      const detections = jobs.filter((j) => j.workflowType === 'detectBatch').map((j) => j.workflowId);
      const counts =
        detections.length === 0
          ? new Map<string, DetectionJobCounts>()
          : await withRegistry((r) => r.detectionJobCounts(detections)).catch((err: Error) => {
              console.error(`nomaly: rows and anomalies not shown: the database does not answer (${err.message})`);
              return new Map<string, DetectionJobCounts>();
            });
      const now = Date.now();
      const rows = jobRows(jobs, counts, now);
      if (json) {
        console.log(JSON.stringify(rows, null, 2));
        return;
      }
      if (rows.length === 0) {
        console.log(offset > 0 ? `no jobs match after the first ${offset}` : 'no jobs match');
        return;
      }
      console.log(jobTableLines(rows, now).join('\n'));
    });
}
