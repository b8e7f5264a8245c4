import type { WorkflowHandle } from '@temporalio/client';
import type { BackfillReport, BackfillWindowRow } from '../../workflows/detectBackfill';
import type { WindowPeriod } from '../../api/window';
import { printResult } from './output';
import { waitWithProgress } from './progress';
import { renderTable } from './table';

/** How `nomaly detect --from/--to` and `nomaly schedules backfill` show a backfill: progress, then a table of windows. */

/** One line while it runs, e.g. `windows 3/7 done: 2 scored, 1 skipped, 0 no data, 0 failed; running 2026-11-04, 2026-11-05`. */
export function renderBackfillProgress(report: BackfillReport): string {
  const t = report.totals;
  const finished = t.scored + t.skipped + t.noData + t.failed;
  const running = report.windows.filter((w) => w.status === 'running').map((w) => windowLabel(w.window, report.period, report.timeZone));
  return `windows ${finished}/${t.windows} done: ${t.scored} scored, ${t.skipped} skipped, ${t.noData} no data, ${t.failed} failed${running.length ? `; running ${running.join(', ')}` : ''}`;
}

/** A window as a person names it: its local date for a day, date and hour for an hour (in the backfill's zone). */
export function windowLabel(window: { start: string }, period: WindowPeriod, timeZone: string): string {
  const parts: Record<string, string> = {};
  const format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
  for (const part of format.formatToParts(new Date(window.start))) parts[part.type] = part.value;
  const date = `${parts.year}-${parts.month}-${parts.day}`;
  return period === 'day' ? date : `${date} ${parts.hour}:${parts.minute}`;
}

function statusText(row: BackfillWindowRow): string {
  switch (row.status) {
    case 'skipped':
      return row.scoredBy ? `skipped (scored by ${row.scoredBy})` : 'skipped';
    case 'no-data':
      return 'no data';
    case 'failed':
      return `failed: ${row.error ?? 'unknown error'}`;
    default:
      return row.status;
  }
}

/** The finished backfill: one line per window (rows and anomalies of a skipped window are the earlier job's), then the totals. */
export function backfillReportLines(report: BackfillReport): string[] {
  const t = report.totals;
  return [
    `backfill ${report.backfillId}: model ${report.model}, ${t.windows} ${report.period === 'day' ? 'days' : 'hours'} (${report.timeZone})`,
    ...renderTable(
      [{ header: 'window' }, { header: 'rows', align: 'right' }, { header: 'anomalies', align: 'right' }, { header: 'status' }],
      report.windows.map((w) => [windowLabel(w.window, report.period, report.timeZone), String(w.rows), String(w.anomalies), statusText(w)]),
    ),
    `total: ${t.scored} scored, ${t.skipped} skipped, ${t.noData} no data, ${t.failed} failed; ${t.rows} rows, ${t.anomalies} anomalies`,
  ];
}

/** Without --wait: the backfill's id; with it: progress on stderr, then the table (or the report as JSON). */
export async function followBackfill(handle: WorkflowHandle, opts: { wait?: boolean; json?: boolean }, uiUrl: string): Promise<void> {
  if (!opts.wait) {
    printResult(opts.json, { workflowId: handle.workflowId, uiUrl }, () => console.log(`backfill started: ${handle.workflowId}\n${uiUrl}`));
    return;
  }
  const report = await waitWithProgress<BackfillReport>(handle, (p) => renderBackfillProgress(p as BackfillReport));
  printResult(opts.json, report, () => console.log(backfillReportLines(report).join('\n')));
  // The table says which windows failed and why; the exit status tells a script that some did.
  if (report.totals.failed > 0) process.exitCode = 1;
}
