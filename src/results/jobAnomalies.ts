/**
 * A completed detection job's anomalies as `nomaly anomalies` lists them: the highest scores
 * first, each with its p-value and top features, and the rule that flagged them (from the job's
 * summary; absent for a job from before threshold rules).
 */

import type { JobFlagging } from './flagging';
import { countJobAnomalies, topJobAnomalies, type TopAnomaly } from '../db/anomalies';
import type { Orm } from '../db/orm';
import { completedDetectionJob } from './jobScoresCsv';

export interface JobAnomalies {
  jobId: string;
  /** Rows the job scored. */
  rows: number;
  /** Anomalies the job stored; `anomalies` lists the first `top` of them. */
  total: number;
  flagging: JobFlagging | null;
  anomalies: TopAnomaly[];
}

/** Throws a JobResultsError naming the job when there is no such job or it has not completed. */
export async function readJobAnomalies(orm: Orm, jobId: string, top: number): Promise<JobAnomalies> {
  const job = await completedDetectionJob(orm, jobId, 'anomalies to list');
  const em = orm.em.fork();
  const summary = (job.summary ?? {}) as { flagging?: JobFlagging };
  return {
    jobId,
    rows: job.rows,
    total: await countJobAnomalies(em, jobId),
    flagging: summary.flagging ?? null,
    anomalies: await topJobAnomalies(em, jobId, top),
  };
}
