import { InvalidArgumentError, type Command } from 'commander';
import { MAX_ALERTS_LIMIT } from '../../../api/threshold';
import { pValueText, readableExplanation } from '../../../results/explanationText';
import type { JobAnomalies } from '../../readStore';
import { flaggingLine } from '../flaggingText';
import { printResult } from '../output';
import { renderTable } from '../table';
import { withClient } from '../withClient';

export const DEFAULT_ANOMALIES_TOP = 20;

/** `--top N`: a whole number up to the most anomalies a job's rule may flag. */
function topCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_ALERTS_LIMIT) throw new InvalidArgumentError(`must be a whole number from 1 to ${MAX_ALERTS_LIMIT}`);
  return n;
}

/** What `nomaly anomalies` prints without --json. */
export function anomalyListLines(result: JobAnomalies, options: { explain?: boolean }): string[] {
  const shown = result.anomalies.length;
  const lines = [
    `detection job ${result.jobId}: ${result.total.toLocaleString('en-US')} anomalies in ${result.rows.toLocaleString('en-US')} rows${shown < result.total ? ` (the ${shown} highest scores shown; --top N for more)` : ''}`,
    flaggingLine(result.flagging),
  ];
  if (shown === 0) return [...lines, 'no anomalies'];
  const columns = [{ header: 'rank', align: 'right' as const }, { header: 'row', align: 'right' as const }, { header: 'id' }, { header: 'score', align: 'right' as const }, { header: 'p-value', align: 'right' as const }];
  if (options.explain) columns.push({ header: 'top features (value, training percentile, contribution)' });
  const rows = result.anomalies.map((a, i) => {
    const cells = [String(i + 1), String(a.rowIndex), a.rowId ?? '-', a.score.toFixed(4), pValueText(a.pValue)];
    if (options.explain) cells.push(readableExplanation(a.explanation));
    return cells;
  });
  return [...lines, ...renderTable(columns, rows)];
}

/** `nomaly anomalies JOB`: a finished detection job's anomalies, highest scores first, and why. */
export function registerAnomaliesCommand(program: Command): void {
  program
    .command('anomalies')
    .argument('<job>', 'a completed detection job id (nomaly jobs --type detectBatch)')
    .option('--top <n>', 'how many, highest scores first', topCount, DEFAULT_ANOMALIES_TOP)
    .option('--explain', "add each anomaly's top features: value, where it sits among the training rows (p99.9 = its 99.9th percentile) and its contribution to the score")
    .option('--json', 'print JSON (every row with its p-value and explanation)')
    .description("list a detection job's anomalies by score, with p-values and the rule that flagged them")
    .action(async (jobId: string, opts: { top: number; explain?: boolean; json?: boolean }) => {
      const result = await withClient((client) => client.reads.jobAnomalies(jobId, opts.top), { temporal: 'on-first-use' });
      printResult(opts.json, result, () => {
        for (const line of anomalyListLines(result, opts)) console.log(line);
      });
    });
}
