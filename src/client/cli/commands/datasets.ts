import { Option, type Command } from 'commander';
import { DATASET_FORMATS } from '../../../data/readDataset';
import { DEFAULT_LIST_LIMIT, listLimit, listOffset } from '../options';
import { printResult } from '../output';
import { schemaLines } from '../datasetSchema';
import { renderTable } from '../table';
import { withClient } from '../withClient';

/** What `datasets upload` takes (the readers in src/data, chosen by the file's extension). */
export const DATASET_FILE_HELP =
  'a CSV (.csv), JSON lines (.jsonl, .ndjson) or Parquet (.parquet, .pq) file, chosen by its extension (.csv.gz and .jsonl.gz: gzip-compressed, stored decompressed); a CSV needs a header line; a "label" column (0/1) and an "id" column are recognised; column types are inferred (datasets show prints them)';

/** `nomaly datasets upload | list | show | delete`. */
export function registerDatasetCommands(program: Command): void {
  const datasets = program.command('datasets').description('manage datasets');
  datasets
    .command('upload')
    .argument('<file>', DATASET_FILE_HELP)
    .option('--name <name>', 'a display name (default: the file name)')
    .option('--json', 'print JSON')
    .description('upload a dataset to MinIO and register it (the same bytes always give the same dataset id)')
    .action(async (file: string, opts: { name?: string; json?: boolean }) => {
      const summary = await withClient((client) => client.uploadDataset(file, { name: opts.name }));
      printResult(opts.json, summary, () => {
        console.log(`dataset ${summary.id} (${summary.name}): ${summary.rows} rows, ${summary.featureColumns.length} feature columns`);
        if (summary.labelColumn) console.log(`label column: ${summary.labelColumn}`);
        if (summary.idColumn) console.log(`id column: ${summary.idColumn}`);
      });
    });
  datasets
    .command('list')
    .option('--name <text>', 'only datasets whose name contains this text (any case)')
    .addOption(new Option('--format <format>', 'only this format').choices([...DATASET_FORMATS]))
    .option('--limit <n>', 'at most this many', listLimit, DEFAULT_LIST_LIMIT)
    .option('--offset <n>', 'skip this many first (the next page)', listOffset, 0)
    .option('--json', 'print JSON')
    .description('list registered datasets, newest first')
    .action(async (opts: { name?: string; format?: string; limit: number; offset: number; json?: boolean }) => {
      const list = await withClient((client) => client.reads.listDatasets({ name: opts.name, format: opts.format }, { limit: opts.limit, offset: opts.offset }), { temporal: 'on-first-use' });
      printResult(opts.json, list, () => {
        if (list.length === 0) {
          console.log('no datasets match (nomaly datasets upload FILE adds one)');
          return;
        }
        const rows = list.map((d) => [d.id, d.format, String(d.rows), String(d.featureColumns.length), d.labelColumn ?? '-', d.name]);
        console.log(
          renderTable(
            [{ header: 'id' }, { header: 'format' }, { header: 'rows', align: 'right' }, { header: 'features', align: 'right' }, { header: 'label' }, { header: 'name' }],
            rows,
          ).join('\n'),
        );
      });
    });
  datasets
    .command('show')
    .argument('<id>', 'dataset id (ds_…)')
    .option('--json', 'print JSON')
    .description('show a dataset and its schema: every column with its type, role, null count, min, max, mean; categories with their cardinality and top values, timestamps with their range')
    .action(async (id: string, opts: { json?: boolean }) => {
      const d = await withClient((client) => client.reads.showDataset(id), { temporal: 'on-first-use' });
      printResult(opts.json, d, () => {
        console.log(`dataset ${d.id} (${d.name}): ${d.format}, ${d.sizeBytes} bytes, ${d.rows} rows, sha256 ${d.sha256}`);
        console.log(schemaLines(d.columnProfiles).join('\n'));
      });
    });
  datasets
    .command('delete')
    .argument('<id>', 'dataset id (ds_…)')
    .option('--with-jobs', 'also delete the finished detection jobs that scored it: their records, anomalies and result files')
    .option('--json', 'print JSON')
    .description('delete a dataset: its file in MinIO and its record; refused while a model version was trained on it or a job uses it')
    .action(async (id: string, opts: { withJobs?: boolean; json?: boolean }) => {
      const deleted = await withClient(async (client) => {
        const running = await client.runningJobsUsing({ dataset: id });
        if (running.length > 0) throw new Error(`dataset ${id} was not deleted: running jobs use it: ${running.join(', ')} (wait for them, or nomaly cancel JOB)`);
        return client.registryEdits.deleteDataset(id, { withJobs: opts.withJobs });
      });
      printResult(opts.json, deleted, () =>
        console.log(`deleted dataset ${id} (${deleted.dataset.name})${deleted.removedJobs.length > 0 ? ` and ${deleted.removedJobs.length} detection job(s) with their results` : ''}`),
      );
    });
}
