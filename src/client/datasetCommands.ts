import type { Command } from 'commander';
import { fixed, printJsonOr, withRegistry } from './registryCli';

/** What `datasets upload` takes (the readers in src/data, chosen by the file's extension). */
export const DATASET_FILE_HELP =
  'a CSV (.csv), JSON lines (.jsonl, .ndjson) or Parquet (.parquet, .pq) file, chosen by its extension; a CSV needs a header line; a "label" column (0/1) and an "id" column are recognised';

/** Adds `list` and `show` to `nomaly datasets` (created by the CLI with `upload`). */
export function registerDatasetCommands(program: Command): void {
  const datasets = program.commands.find((c) => c.name() === 'datasets') ?? program.command('datasets').description('manage datasets');
  datasets
    .command('list')
    .option('--json', 'print JSON')
    .description('list registered datasets, newest first')
    .action(async (opts: { json?: boolean }) => {
      const list = await withRegistry((r) => r.listDatasets());
      printJsonOr(opts.json, list, () => {
        console.log('id                   format   rows        features  label   name');
        for (const d of list) {
          console.log(`${d.id.padEnd(20)} ${d.format.padEnd(8)} ${String(d.rows).padEnd(11)} ${String(d.featureColumns.length).padEnd(9)} ${(d.labelColumn ?? '-').padEnd(7)} ${d.name}`);
        }
      });
    });
  datasets
    .command('show')
    .argument('<id>', 'dataset id (ds_…)')
    .option('--json', 'print JSON')
    .description('show a dataset: format, size, rows and every column with its role, min, max, mean and null count')
    .action(async (id: string, opts: { json?: boolean }) => {
      const d = await withRegistry((r) => r.showDataset(id));
      printJsonOr(opts.json, d, () => {
        console.log(`dataset ${d.id} (${d.name}): ${d.format}, ${d.sizeBytes} bytes, ${d.rows} rows, sha256 ${d.sha256}`);
        console.log('column                 role     min          max          mean         nulls');
        for (const c of d.columnProfiles) {
          console.log(`${c.name.padEnd(22)} ${c.role.padEnd(8)} ${fixed(c.min).padEnd(12)} ${fixed(c.max).padEnd(12)} ${fixed(c.mean).padEnd(12)} ${c.nullCount}`);
        }
      });
    });
}
