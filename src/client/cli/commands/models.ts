import { Option, type Command } from 'commander';
import { MODEL_STATUSES, type ModelInfo } from '../../../db/modelRegistry';
import type { ModelStatus } from '../../../db/entities';
import { DEFAULT_LIST_LIMIT, listLimit, listOffset } from '../options';
import { fixed, printResult } from '../output';
import { renderTable } from '../table';
import { withClient } from '../withClient';

function printModel(m: ModelInfo): void {
  const rows: Array<[string, string]> = [
    ['model', `${m.name}@${m.version}`],
    ['status', m.status],
    ['algorithm', m.algorithm],
    ['params', JSON.stringify(m.params)],
    ['features', `${m.featureColumns.length}: ${m.featureColumns.join(', ')}`],
    ['threshold', fixed(m.threshold)],
    m.datasetId
      ? ['dataset', `${m.datasetId} (sha256 ${m.datasetSha256})`]
      : ['source', `${String((m.source as { location?: string } | null)?.location ?? '?')} (snapshot sha256 ${m.datasetSha256})`],
    ['train rows', m.trainRows === null ? '-' : String(m.trainRows)],
    ['artifact', `${m.artifactKey} (sha256 ${m.artifactSha256 ?? '-'})`],
    ['code version', m.codeVersion ?? '-'],
    ['created', m.createdAt],
    ['trained', m.trainedAt ?? '-'],
    ['duration', m.durationMs === null ? '-' : `${(m.durationMs / 1000).toFixed(1)}s`],
  ];
  if (m.metrics.heldOutRocAuc !== undefined) {
    rows.push(['held-out ROC-AUC', fixed(m.metrics.heldOutRocAuc)]);
    rows.push(['held-out AP', fixed(m.metrics.heldOutAveragePrecision)]);
    rows.push(['held-out rows', `${m.metrics.heldOutRows} (${m.metrics.heldOutAnomalies} anomalies)`]);
  }
  if (m.error) rows.push(['error', m.error]);
  for (const [k, v] of rows) console.log(`${k.padEnd(17)} ${v}`);
}

/** `nomaly models list | show | promote | archive | delete`. */
export function registerModelCommands(program: Command): void {
  const models = program.command('models').description('the model registry: versions, status, lineage, promotion');
  models
    .command('list')
    .description('list model versions (newest first per name)')
    .option('--name <name>', 'only this model name')
    .addOption(new Option('--status <status>', 'only versions in this status').choices([...MODEL_STATUSES]))
    .option('--dataset <id>', 'only versions trained on this dataset (ds_…)')
    .option('--limit <n>', 'at most this many', listLimit, DEFAULT_LIST_LIMIT)
    .option('--offset <n>', 'skip this many first (the next page)', listOffset, 0)
    .option('--json', 'print JSON')
    .action(async (opts: { name?: string; status?: ModelStatus; dataset?: string; limit: number; offset: number; json?: boolean }) => {
      const list = await withClient((client) => client.reads.listModels({ name: opts.name, status: opts.status, dataset: opts.dataset }, { limit: opts.limit, offset: opts.offset }), { temporal: 'on-first-use' });
      printResult(opts.json, list, () => {
        if (list.length === 0) {
          console.log('(no models match: nomaly train --dataset ds_… --model NAME)');
          return;
        }
        const columns = [
          { header: 'model' },
          { header: 'status' },
          { header: 'algorithm' },
          { header: 'rows', align: 'right' as const },
          { header: 'ROC-AUC', align: 'right' as const },
          { header: 'AP', align: 'right' as const },
          { header: 'trained' },
        ];
        const rows = list.map((m) => [
          `${m.name}@${m.version}`,
          m.status,
          m.algorithm,
          m.trainRows === null ? '-' : String(m.trainRows),
          fixed(m.metrics.heldOutRocAuc),
          fixed(m.metrics.heldOutAveragePrecision),
          m.trainedAt ?? '-',
        ]);
        console.log(renderTable(columns, rows).join('\n'));
      });
    });
  models
    .command('show')
    .argument('<model>', 'NAME (its active version) or NAME@VERSION')
    .option('--json', 'print JSON')
    .description('show one version: parameters, features, threshold, data and code it came from, held-out metrics')
    .action(async (reference: string, opts: { json?: boolean }) => {
      const m = await withClient((client) => client.reads.showModel(reference), { temporal: 'on-first-use' });
      printResult(opts.json, m, () => printModel(m));
    });
  models
    .command('promote')
    .argument('<model>', 'NAME@VERSION')
    .option('--json', 'print JSON')
    .description('make a version the active one of its name (detection by NAME uses it); the previous active version becomes ready')
    .action(async (reference: string, opts: { json?: boolean }) => {
      const result = await withClient((client) => client.registryEdits.promote(reference), { temporal: 'on-first-use' });
      printResult(opts.json, result, () =>
        console.log(
          `${result.promoted.name}@${result.promoted.version} is active${result.previous !== null && result.previous !== result.promoted.version ? ` (was ${result.promoted.name}@${result.previous})` : ''}`,
        ),
      );
    });
  models
    .command('archive')
    .argument('<model>', 'NAME@VERSION')
    .option('--json', 'print JSON')
    .description('archive a version (kept, but never picked by NAME; the maintenance workflow may remove it after the retention age)')
    .action(async (reference: string, opts: { json?: boolean }) => {
      const m = await withClient((client) => client.registryEdits.archive(reference), { temporal: 'on-first-use' });
      printResult(opts.json, m, () => console.log(`${m.name}@${m.version} is archived`));
    });
  models
    .command('delete')
    .argument('<model>', 'NAME@VERSION, or NAME for every version')
    .option('--json', 'print JSON')
    .description('delete model versions: artifacts in MinIO and registry rows; refused for the active version alone (NAME deletes every version), one still training, or one a running job uses; finished jobs keep their results')
    .action(async (reference: string, opts: { json?: boolean }) => {
      // Deleting every version of a name asks Temporal which jobs still run; one version's delete needs only the registry.
      const wholeName = !reference.includes('@');
      const deleted = await withClient(
        async (client) => {
          if (wholeName) {
            const running = await client.runningJobsUsing({ model: reference });
            if (running.length > 0) throw new Error(`model ${reference} was not deleted: running jobs use it: ${running.join(', ')} (wait for them, or nomaly cancel JOB)`);
          }
          return client.registryEdits.deleteModel(reference);
        },
        { temporal: wholeName ? 'now' : 'on-first-use' },
      );
      printResult(opts.json, deleted, () => console.log(`deleted ${deleted.map((m) => `${m.name}@${m.version}`).join(', ')}`));
    });
}
