#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import type { WorkflowHandle } from '@temporalio/client';
import type { DetectionSummary } from '../activities';
import { failureMessage, NomalyClient, RESULT_LINK_DAYS } from './nomalyClient';
import { redactSecrets } from '../config/redaction';
import { ProgressLine, renderDetectProgress } from './progressBar';
import type { DetectProgress } from '../workflows/detectBatch';
import type { TrainModelResult } from '../workflows/trainModel';
import { ALGORITHMS } from '../workflows/inputs';
import { registerBackupCommands } from './backupCommands';
import { registerScheduleCommands } from './scheduleCommands';
import { registerDatasetCommands } from './datasetCommands';
import { registerModelCommands } from './modelCommands';
import { registerJobCommands } from './jobCommands';
import { registerResultCommands } from './resultCommands';
import { detectionSummaryLines } from './detectionSummaryText';
import { formatMetric } from './table';
import { DATASET_FILE_HELP } from './datasetCommands';

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('must be an integer');
  return n;
}

function decimal(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('must be a number');
  return n;
}

async function withClient<T>(work: (client: NomalyClient) => Promise<T>): Promise<T> {
  const client = await NomalyClient.connect();
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}

function print(json: boolean, value: unknown, human: () => void): void {
  if (json) console.log(JSON.stringify(value, null, 2));
  else human();
}

async function waitWithProgress<T>(client: NomalyClient, handle: WorkflowHandle, render: (p: unknown) => string): Promise<T> {
  const line = new ProgressLine();
  let finished = false;
  const result = handle.result().finally(() => {
    finished = true;
  });
  while (!finished) {
    const progress = await handle.query('progress').catch(() => undefined);
    if (progress) line.update(render(progress));
    await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, 500))]);
  }
  line.done();
  return result as Promise<T>;
}

const program = new Command('nomaly').description('Train anomaly detectors and run detection batch jobs on Temporal').showHelpAfterError();

const datasets = program.command('datasets').description('manage datasets');
datasets
  .command('upload')
  .argument('<file>', DATASET_FILE_HELP)
  .option('--name <name>', 'a display name (default: the file name)')
  .option('--json', 'print JSON')
  .description('upload a dataset to MinIO and register it (the same bytes always give the same dataset id)')
  .action(async (file: string, opts: { name?: string; json?: boolean }) => {
    const summary = await withClient((client) => client.uploadDataset(file, { name: opts.name }));
    print(!!opts.json, summary, () => {
      console.log(`dataset ${summary.id} (${summary.name}): ${summary.rows} rows, ${summary.featureColumns.length} feature columns`);
      if (summary.labelColumn) console.log(`label column: ${summary.labelColumn}`);
      if (summary.idColumn) console.log(`id column: ${summary.idColumn}`);
    });
  });

/** `--param nTrees=200 --param maxTrainRows=5000`: numeric detector options, JSON values allowed. */
function collectParam(value: string, previous: Record<string, unknown>): Record<string, unknown> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('expected NAME=VALUE, e.g. nTrees=200');
  const raw = value.slice(eq + 1);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = raw;
  }
  return { ...previous, [value.slice(0, eq)]: parsed };
}

program
  .command('train')
  .description('train a model on a dataset (Isolation Forest by default)')
  .requiredOption('--dataset <id>', 'dataset id (from `nomaly datasets upload`)')
  .requiredOption('--model <name>', 'model name; each training adds a version')
  .option('--algorithm <name>', `one of: ${ALGORITHMS.join(', ')} (default isolation-forest)`)
  .option('--contamination <fraction>', 'expected share of anomalies, sets the threshold (default 0.1)', decimal)
  .option('--param <name=value>', "an algorithm option, repeatable (e.g. nTrees=200, seed=1, nNeighbors=10)", collectParam, {})
  .option('--params <json>', 'all algorithm options as one JSON object (e.g. ensemble members)')
  .option('--standardize <kind>', 'fit a standardiser in front of the detector: zscore or robust')
  .option('--wait', 'wait for the model and print it')
  .option('--json', 'print JSON')
  .action(async (opts) => {
    await withClient(async (client) => {
      const params = { ...(opts.params ? parseJsonOption('--params', opts.params) : {}), ...opts.param };
      const handle = await client.startTraining({
        datasetId: opts.dataset,
        modelName: opts.model,
        algorithm: opts.algorithm,
        contamination: opts.contamination,
        standardize: opts.standardize,
        params,
      });
      if (!opts.wait) {
        print(!!opts.json, { workflowId: handle.workflowId, uiUrl: client.uiUrl(handle.workflowId) }, () =>
          console.log(`training started: ${handle.workflowId}\n${client.uiUrl(handle.workflowId)}`),
        );
        return;
      }
      const result = await waitWithProgress<TrainModelResult>(client, handle, (p) => `training: ${(p as { phase: string }).phase}`);
      print(!!opts.json, result, () => {
        console.log(`model ${result.modelName}@${result.version} (${result.algorithm}) is ${result.status}: ${result.trainRows} rows, threshold ${result.threshold.toFixed(4)}`);
        for (const [name, value] of Object.entries(result.metrics)) console.log(`  ${name}: ${formatMetric(value)}`);
        console.log(`Temporal UI: ${client.uiUrl(handle.workflowId)}`);
      });
    });
  });

function parseJsonOption(flag: string, text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value;
  } catch {
    // fall through to the error below
  }
  throw new InvalidArgumentError(`${flag} must be a JSON object, e.g. '{"nTrees": 200}'`);
}

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
        print(!!opts.json, { workflowId: handle.workflowId, uiUrl: client.uiUrl(handle.workflowId) }, () =>
          console.log(`detection started: ${handle.workflowId}\n${client.uiUrl(handle.workflowId)}`),
        );
        return;
      }
      const summary = await waitWithProgress<DetectionSummary>(client, handle, (p) => renderDetectProgress(p as DetectProgress));
      const links = await client.resultLinks(summary);
      print(!!opts.json, { ...summary, ...links }, () => console.log(detectionSummaryLines(summary, { uiUrl: client.uiUrl(handle.workflowId), ...links }).join('\n')));
    });
  });

program
  .command('cancel')
  .argument('<workflowId>', 'a running job id')
  .description('cancel a job: no new chunks start, and the job is recorded as cancelled with its partial counts')
  .action(async (workflowId: string) => {
    await withClient((client) => client.temporal.workflow.getHandle(workflowId).cancel());
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
    print(!!opts.json, status, () => {
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

registerDatasetCommands(program);
registerModelCommands(program);
registerJobCommands(program, withClient);
registerResultCommands(program);

registerBackupCommands(program);
registerScheduleCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(redactSecrets(`nomaly: ${failureMessage(err)}`));
  process.exit(1);
});
