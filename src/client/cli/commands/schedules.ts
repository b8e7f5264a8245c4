import type { Command } from 'commander';
import { readSchedulesFile, type ScheduleListing } from '../../schedules';
import { followBackfill } from '../backfillReport';
import { DEFAULT_LIST_LIMIT, integer, listLimit, listOffset } from '../options';
import { renderTable } from '../table';
import { withClient } from '../withClient';

/** The schedules `schedules list` shows: those matching its filters, one page of them. */
export function selectSchedules(rows: ScheduleListing[], opts: { paused?: boolean; workflow?: string; limit: number; offset: number }): ScheduleListing[] {
  const matching = rows.filter((r) => (!opts.paused || r.paused) && (opts.workflow === undefined || r.workflowType === opts.workflow));
  return matching.slice(opts.offset, opts.offset + opts.limit);
}

/** `schedules list` as text: a table, or a sentence saying there are none and how to make them. */
export function scheduleListLines(rows: ScheduleListing[]): string[] {
  if (rows.length === 0) return ['no schedules (nomaly schedules apply creates the nightly backup; --file adds nightly detections)'];
  return renderTable(
    [{ header: 'schedule' }, { header: 'workflow' }, { header: 'state' }, { header: 'next run' }],
    rows.map((r) => [r.id, r.workflowType, r.paused ? 'paused' : 'active', r.nextRun]),
  );
}

/** `nomaly schedules apply | list | trigger | pause | unpause | backfill`: the Temporal Schedule API. */
export function registerScheduleCommands(program: Command): void {
  const schedules = program.command('schedules').description('nightly jobs as Temporal Schedules');

  schedules
    .command('apply')
    .description('create or update the schedules in a config file (without one: the nightly backup at 02:30 UTC and the backup re-check at 04:00 UTC)')
    .option('--file <file>', 'JSON: {"backup": {...}, "backupVerify": {...}, "detections": [{"id", "hour", "minute", "input": {"model", "datasetId" or "source"}}]}')
    .action(async (opts: { file?: string }) => {
      const file = readSchedulesFile(opts.file);
      for (const r of await withClient((client) => client.applySchedules(file))) {
        console.log(`schedule ${r.id} ${r.what}: ${r.when}, overlap skip`);
      }
    });

  schedules
    .command('list')
    .description('every schedule with its state and next run')
    .option('--paused', 'only paused schedules')
    .option('--workflow <type>', 'only schedules that start this workflow (e.g. backup, detectBatch)')
    .option('--limit <n>', 'at most this many', listLimit, DEFAULT_LIST_LIMIT)
    .option('--offset <n>', 'skip this many first', listOffset, 0)
    .action(async (opts: { paused?: boolean; workflow?: string; limit: number; offset: number }) => {
      const rows = await withClient((client) => client.listSchedules());
      console.log(scheduleListLines(selectSchedules(rows, opts)).join('\n'));
    });

  schedules
    .command('trigger')
    .argument('<id>')
    .description('run a schedule now (its overlap policy still applies)')
    .action(async (id: string) => {
      await withClient((client) => client.triggerSchedule(id));
      console.log(`triggered ${id}`);
    });

  for (const [name, pause] of [['pause', true], ['unpause', false]] as const) {
    schedules
      .command(name)
      .argument('<id>')
      .option('--note <text>', 'why, shown in the UI')
      .description(`${name} a schedule`)
      .action(async (id: string, opts: { note?: string }) => {
        await withClient((client) => (pause ? client.pauseSchedule(id, opts.note) : client.unpauseSchedule(id, opts.note)));
        console.log(`${id} ${pause ? 'paused' : 'unpaused'}`);
      });
  }

  schedules
    .command('backfill')
    .argument('<id>')
    .requiredOption('--from <time>', 'a date (YYYY-MM-DD, in the schedule\'s zone) or an ISO time with a zone, e.g. 2026-11-01')
    .requiredOption('--to <time>', 'the end of the range, excluded')
    .option('--concurrency-windows <n>', 'detection over a source: window jobs running at once (default 2, at most 16)', integer)
    .option('--wait', 'detection over a source: show progress and print the table of windows')
    .option('--json', 'print JSON')
    .description(
      'a detection schedule over a source: score every window of [from, to) with its model, source, period and zone (one job per window, already scored windows skipped); any other schedule: run it for every time it would have run in [from, to)',
    )
    .action(async (id: string, opts: { from: string; to: string; concurrencyWindows?: number; wait?: boolean; json?: boolean }) => {
      await withClient(async (client) => {
        const action = (await client.temporal.schedule.getHandle(id).describe()).action;
        if (action.workflowType === 'detectBatch') {
          const handle = await client.startScheduleBackfill(id, { from: opts.from, to: opts.to, ...(opts.concurrencyWindows !== undefined ? { maxConcurrentWindows: opts.concurrencyWindows } : {}) });
          await followBackfill(handle, opts, client.uiUrl(handle.workflowId));
          return;
        }
        // Backups and other workflows have no windows: Temporal replays the schedule's times.
        const start = new Date(opts.from);
        const end = new Date(opts.to);
        if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || end <= start) throw new Error('--from and --to must be ISO times with from < to');
        await client.backfillSchedule(id, start, end);
        console.log(`backfill of ${id} from ${start.toISOString()} to ${end.toISOString()} requested`);
      });
    });
}
