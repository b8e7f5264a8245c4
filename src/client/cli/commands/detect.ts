import type { Command } from 'commander';
import type { DetectionSummary, DetectProgress } from '../../nomalyClient';
import { detectionSummaryLines } from '../detectionSummaryText';
import { decimal, integer } from '../options';
import { printResult } from '../output';
import { renderDetectProgress, waitWithProgress } from '../progress';
import { withClient } from '../withClient';

/** `nomaly detect`: start a detectBatch workflow, and with --wait follow its chunks to the summary. */
export function registerDetectCommand(program: Command): void {
  program
    .command('detect')
    .description('score every row of a dataset with a model (a detection batch job)')
    .requiredOption('--model <name[@version]>', 'model name (its active version) or name@version')
    .requiredOption('--dataset <id>', 'dataset id')
    .option('--chunk-rows <n>', 'rows per chunk (default: about 50 chunks of 50000-200000 rows)', integer)
    .option('--concurrency <n>', 'chunks in flight at once (default 4)', integer)
    .option('--alert-above <rate>', 'post an alert to NOMALY_ALERT_WEBHOOK_URL when the anomaly rate exceeds this share (0-1)', decimal)
    .option('--export-csv', 'also write every row\'s score as scores.csv (row, id, score, is_anomaly) next to scores.f64')
    .option('--wait', 'show progress and print the result')
    .option('--json', 'print JSON')
    .action(async (opts) => {
      await withClient(async (client) => {
        const handle = await client.startDetection({
          model: opts.model,
          datasetId: opts.dataset,
          chunkRows: opts.chunkRows,
          maxConcurrentChunks: opts.concurrency,
          alertAnomalyRateAbove: opts.alertAbove,
          ...(opts.exportCsv ? { exportCsv: true } : {}),
        });
        if (!opts.wait) {
          printResult(opts.json, { workflowId: handle.workflowId, uiUrl: client.uiUrl(handle.workflowId) }, () =>
            console.log(`detection started: ${handle.workflowId}\n${client.uiUrl(handle.workflowId)}`),
          );
          return;
        }
        const summary = await waitWithProgress<DetectionSummary>(handle, (p) => renderDetectProgress(p as DetectProgress));
        const links = await client.resultLinks(summary);
        printResult(opts.json, { ...summary, ...links }, () => console.log(detectionSummaryLines(summary, { uiUrl: client.uiUrl(handle.workflowId), ...links }).join('\n')));
      });
    });
}
