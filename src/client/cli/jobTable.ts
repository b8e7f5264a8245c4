import type { DetectionJobCounts } from '../../db/modelRegistry';
import type { JobListing } from '../nomalyClient';
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
