import type { Command } from 'commander';
import { applySchedulesFile, readSchedulesFile } from '../../schedules';
import { DEFAULT_LIST_LIMIT, listLimit, listOffset } from '../options';
import { renderTable } from '../table';
import { withClient } from '../withClient';

export interface ScheduleRow {
  id: string;
  workflowType: string;
  paused: boolean;
  nextRun: string;
}

/** The schedules `schedules list` shows: those matching its filters, one page of them. */
export function selectSchedules(rows: ScheduleRow[], opts: { paused?: boolean; workflow?: string; limit: number; offset: number }): ScheduleRow[] {
  const matching = rows.filter((r) => (!opts.paused || r.paused) && (opts.workflow === undefined || r.workflowType === opts.workflow));
  return matching.slice(opts.offset, opts.offset + opts.limit);
}

/** `schedules list` as text: a table, or a sentence saying there are none and how to make them. */
export function scheduleListLines(rows: ScheduleRow[]): string[] {
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
    .option('--file <file>', 'JSON: {"backup": {...}, "backupVerify": {...}, "detections": [{"id", "hour", "minute", "input": {"model", "datasetId"}}]}')
    .action(async (opts: { file?: string }) => {
      const file = readSchedulesFile(opts.file);
      for (const r of await withClient((client) => applySchedulesFile(client.temporal, file))) {
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
      const rows = await withClient(async (client) => {
        const found: ScheduleRow[] = [];
        for await (const s of client.temporal.schedule.list()) {
          found.push({
            id: s.scheduleId,
            workflowType: s.action?.type === 'startWorkflow' ? s.action.workflowType : '-',
            paused: s.state.paused,
            nextRun: s.info.nextActionTimes[0]?.toISOString() ?? '-',
          });
        }
        return found;
      });
      console.log(scheduleListLines(selectSchedules(rows, opts)).join('\n'));
    });

  schedules
    .command('trigger')
    .argument('<id>')
    .description('run a schedule now (its overlap policy still applies)')
    .action(async (id: string) => {
      await withClient((client) => client.temporal.schedule.getHandle(id).trigger());
      console.log(`triggered ${id}`);
    });

  for (const [name, pause] of [['pause', true], ['unpause', false]] as const) {
    schedules
      .command(name)
      .argument('<id>')
      .option('--note <text>', 'why, shown in the UI')
      .description(`${name} a schedule`)
      .action(async (id: string, opts: { note?: string }) => {
        await withClient((client) => (pause ? client.temporal.schedule.getHandle(id).pause(opts.note) : client.temporal.schedule.getHandle(id).unpause(opts.note)));
        console.log(`${id} ${pause ? 'paused' : 'unpaused'}`);
      });
  }

  schedules
    .command('backfill')
    .argument('<id>')
    .requiredOption('--from <time>', 'ISO time, e.g. 2026-11-01T00:00:00Z')
    .requiredOption('--to <time>', 'ISO time')
    .description('run the schedule for every time it would have run in [from, to) (overlap: allow all)')
    .action(async (id: string, opts: { from: string; to: string }) => {
      const start = new Date(opts.from);
      const end = new Date(opts.to);
      if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || end <= start) throw new Error('--from and --to must be ISO times with from < to');
      await withClient((client) => client.temporal.schedule.getHandle(id).backfill({ start, end, overlap: 'ALLOW_ALL' }));
      console.log(`backfill of ${id} from ${start.toISOString()} to ${end.toISOString()} requested`);
    });
}
