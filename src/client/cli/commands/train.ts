import type { Command } from 'commander';
import { ALGORITHMS } from '../../../api/inputs';
import type { TrainModelResult } from '../../nomalyClient';
import { collectColumns, collectColumnType, collectParam, decimal, parseJsonOption } from '../options';
import { SCHEMA_TYPES } from '../../../api/featureChoice';
import { printResult } from '../output';
import { waitWithProgress } from '../progress';
import { formatMetric } from '../table';
import { addThresholdOptions, thresholdRuleOf } from '../thresholdOptions';
import { withClient } from '../withClient';

/** `nomaly train`: start a trainModel workflow, and with --wait follow it to the model. */
export function registerTrainCommand(program: Command): void {
  const command = program
    .command('train')
    .description('train a model on a dataset (Isolation Forest by default)')
    .requiredOption('--dataset <id>', 'dataset id (from `nomaly datasets upload`)')
    .requiredOption('--model <name>', 'model name; each training adds a version')
    .option('--algorithm <name>', `one of: ${ALGORITHMS.join(', ')} (default isolation-forest)`)
    .option('--contamination <fraction>', 'expected share of anomalies, sets the threshold (default 0.1)', decimal)
    .option('--param <name=value>', "an algorithm option, repeatable (e.g. nTrees=200, seed=1, nNeighbors=10)", collectParam, {})
    .option('--params <json>', 'all algorithm options as one JSON object (e.g. ensemble members)')
    .option('--standardize <kind>', 'fit a standardiser in front of the detector: zscore or robust')
    .option('--missing <policy>', 'missing feature values: median (impute + an indicator column, the default), zero, or reject')
    .option('--features <columns>', 'the columns to learn from, comma-separated (default: every typed column but the label and the id)', collectColumns)
    .option('--exclude <columns>', 'columns not to learn from, comma-separated', collectColumns)
    .option('--column-type <column=type>', `a column's type over the inferred one, repeatable: ${SCHEMA_TYPES.join(', ')} (e.g. country=category, note=exclude)`, collectColumnType)
    .option('--timestamps <policy>', 'timestamp columns: cyclic (hour of day and weekday, the default) or exclude')
    .option('--time-zone <zone>', 'the IANA zone timestamp features count hours and weekdays in (default UTC)');
  addThresholdOptions(command, "the model's jobs (a job may give its own)")
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
          threshold: thresholdRuleOf(opts),
          missing: opts.missing,
          features: opts.features,
          exclude: opts.exclude,
          schema: opts.columnType,
          timestamps: opts.timestamps,
          timeZone: opts.timeZone,
        });
        if (!opts.wait) {
          printResult(opts.json, { workflowId: handle.workflowId, uiUrl: client.uiUrl(handle.workflowId) }, () =>
            console.log(`training started: ${handle.workflowId}\n${client.uiUrl(handle.workflowId)}`),
          );
          return;
        }
        const result = await waitWithProgress<TrainModelResult>(handle, (p) => `training: ${(p as { phase: string }).phase}`);
        printResult(opts.json, result, () => {
          console.log(`model ${result.modelName}@${result.version} (${result.algorithm}) is ${result.status}: ${result.trainRows} rows, threshold ${result.threshold.toFixed(4)}`);
          for (const [name, value] of Object.entries(result.metrics)) console.log(`  ${name}: ${formatMetric(value)}`);
          console.log(`Temporal UI: ${client.uiUrl(handle.workflowId)}`);
        });
      });
    });
}
