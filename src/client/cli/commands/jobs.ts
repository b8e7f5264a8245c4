import type { Command } from 'commander';
import type { DetectionJobCounts } from '../../../db/modelRegistry';
import { JOB_TYPES } from '../../jobQuery';
import { RESULT_LINK_DAYS, type DetectionSummary, type DetectProgress } from '../../nomalyClient';
import { jobRows, jobTableLines } from '../jobTable';
import { listLimit, listOffset } from '../options';
import { printResult } from '../output';
import { renderDetectProgress } from '../progress';
import { withClient } from '../withClient';

/** `nomaly cancel`, `nomaly status` and `nomaly jobs`: what runs, what ran, and how it ended. */
export function registerJobCommands(program: Command): void {
  program
    .command('cancel')
    .argument('<workflowId>', 'a running job id')
    .description('cancel a job: no new chunks start, and the job is recorded as cancelled with its partial counts')
    .action(async (workflowId: string) => {
      await withClient((client) => client.cancel(workflowId));
      console.log(`cancellation requested for ${workflowId}`);
    });

  program
    .command('status')
    .argument('<workflowId>', 'a job id printed by train or detect')
    .option('--json', 'print JSON')
    .description('show a job: running (with progress), completed (with result) or failed (with why)')
    .action(async (workflowId: string, opts: { json?: boolean }) => {
      const status = await withClient(async (client) => {
        const found = await client.status(workflowId);
        const result = found.result as Partial<DetectionSummary> | undefined;
        const links = result?.reportKey && result.scoresKey && result.scoresBucket ? await client.resultLinks(result as DetectionSummary) : undefined;
        return { ...found, ...links };
      });
      printResult(opts.json, status, () => {
        console.log(`${status.workflowType} ${status.workflowId}: ${status.status}`);
        if (status.progress) {
          const p = status.progress as DetectProgress;
          console.log(p.chunksTotal !== undefined ? renderDetectProgress(p) : JSON.stringify(p));
        }
        if (status.failure) console.log(`failure: ${status.failure}`);
        if (status.result) console.log(JSON.stringify(status.result, null, 2));
        const exported = (status.result as Partial<DetectionSummary> | undefined)?.scoresCsvKey;
        if (exported) console.log(`scores csv: ${(status.result as DetectionSummary).scoresBucket}/${exported}`);
        if (status.reportUrl) console.log(`report: ${status.reportUrl}`);
        if (status.scoresCsvUrl) console.log(`scores.csv: ${status.scoresCsvUrl}`);
        if (status.scoresUrl) console.log(`scores.f64: ${status.scoresUrl}`);
        if (status.reportUrl) console.log(`(signed links, valid for ${RESULT_LINK_DAYS} days; or: nomaly results download ${status.workflowId} --out scores.csv)`);
        console.log(`Temporal UI: ${status.uiUrl}`);
      });
    });
}

/** `nomaly jobs`: find the id of a job to pass to `status`, `cancel` or `restore retry`. */
export function registerJobListCommand(program: Command): void {
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
      const { jobs, counts } = await withClient(async (client) => {
        const jobs = await client.listJobs(filter, limit, offset);
        const detections = jobs.filter((j) => j.workflowType === 'detectBatch').map((j) => j.workflowId);
        const counts =
          detections.length === 0
            ? new Map<string, DetectionJobCounts>()
            : await client.reads.detectionJobCounts(detections).catch((err: Error) => {
                console.error(`nomaly: rows and anomalies not shown: the database does not answer (${err.message})`);
                return new Map<string, DetectionJobCounts>();
              });
        return { jobs, counts };
      });
      const now = Date.now();
      const rows = jobRows(jobs, counts, now);
      printResult(json, rows, () => {
        if (rows.length === 0) console.log(offset > 0 ? `no jobs match after the first ${offset}` : 'no jobs match');
        else console.log(jobTableLines(rows, now).join('\n'));
      });
    });
}
