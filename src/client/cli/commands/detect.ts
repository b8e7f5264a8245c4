import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { SourceRunOutcome } from '../../../api/results';
import type { DetectBatchInput, DetectionSummary, DetectProgress } from '../../nomalyClient';
import { followBackfill } from '../backfillReport';
import { detectionSummaryLines } from '../detectionSummaryText';
import { decimal, integer } from '../options';
import { printResult } from '../output';
import { renderDetectProgress, waitWithProgress } from '../progress';
import { withClient } from '../withClient';
import { addThresholdOptions, thresholdRuleOf, type ThresholdOptions } from '../thresholdOptions';

export interface DetectOptions extends ThresholdOptions {
  model: string;
  dataset?: string;
  source?: string;
  windowStart?: string;
  windowEnd?: string;
  from?: string;
  to?: string;
  period?: string;
  timeZone?: string;
  concurrencyWindows?: number;
  chunkRows?: number;
  concurrency?: number;
  alertAbove?: number;
  exportCsv?: boolean;
  explain?: number;
  sinkConnection?: string;
  sinkTable?: string;
  sinkRows?: string;
  wait?: boolean;
  json?: boolean;
}

/**
 * `nomaly detect`: score a dataset (a detectBatch job), one window of a source (the same, over
 * data where it lives), or a range of windows of a source (a detectBackfill); with --wait follow
 * it to its summary or its table of windows.
 */
export function registerDetectCommand(program: Command): void {
  const command = program
    .command('detect')
    .description('score every row of a dataset, or of a source over a window or a range of windows, with a model')
    .requiredOption('--model <name[@version]>', 'model name (its active version) or name@version')
    .option('--dataset <id>', 'dataset id (or --source)')
    .option('--source <file>', 'JSON file holding the source: {"kind": "objects", "connection", "bucket", "prefix": "…/dt={date}/", "format"} or {"kind": "postgres", "connection", "query"}')
    .option('--window-start <time>', 'with --source: the window to score, from (a date or an ISO time with a zone)')
    .option('--window-end <time>', 'with --source: the window to score, to (excluded)')
    .option('--from <time>', 'with --source: backfill every window from this date (or ISO time) …')
    .option('--to <time>', '… to this one (excluded), one job per window')
    .option('--period <day|hour>', 'with --source: the length of a window in a backfill (default day)')
    .option('--time-zone <zone>', 'with --source: the IANA zone days and {date} are counted in (default UTC)')
    .option('--concurrency-windows <n>', 'backfill: window jobs running at once (default 2, at most 16)', integer)
    .option('--chunk-rows <n>', 'rows per chunk (default: about 50 chunks of 50000-200000 rows)', integer)
    .option('--concurrency <n>', 'chunks in flight at once (default 4)', integer)
    .option('--alert-above <rate>', 'post an alert to NOMALY_ALERT_WEBHOOK_URL when the anomaly rate exceeds this share (0-1)', decimal)
    .option('--export-csv', 'also write every row\'s score as scores.csv (row, id, score, is_anomaly) next to scores.f64')
    .option('--explain <n>', 'top features stored with each anomaly (0-32, default 5; 0: none)', integer)
    .option('--sink-connection <name>', 'also upsert the results into a PostgreSQL table over this connection (its role must be able to write)')
    .option('--sink-table <name>', 'with --sink-connection: the table (name or schema.name), created when missing')
    .option('--sink-rows <anomalies|scores>', 'with --sink-connection: the anomalies (default) or every row\'s score');
  addThresholdOptions(command, 'this job')
    .option('--wait', 'show progress and print the result')
    .option('--json', 'print JSON')
    .action(async (opts: DetectOptions) => {
      checkCombination(opts);
      const flagging = { ...defined({ threshold: thresholdRuleOf(opts), explain: opts.explain }), ...sinkOf(opts) };
      if (opts.from !== undefined) {
        await withClient(async (client) => {
          const handle = await client.startBackfill({
            model: opts.model,
            source: readSourceFile(opts.source!),
            from: opts.from!,
            to: opts.to!,
            ...defined({ period: opts.period, timeZone: opts.timeZone, maxConcurrentWindows: opts.concurrencyWindows, chunkRows: opts.chunkRows, maxConcurrentChunks: opts.concurrency }),
            ...flagging,
          } as never);
          await followBackfill(handle, opts, client.uiUrl(handle.workflowId));
        });
        return;
      }
      const input: DetectBatchInput = {
        model: opts.model,
        ...(opts.source !== undefined
          ? {
              source: readSourceFile(opts.source),
              window: { start: opts.windowStart!, end: opts.windowEnd! },
              ...defined({ period: opts.period, timeZone: opts.timeZone }),
            }
          : { datasetId: opts.dataset }),
        chunkRows: opts.chunkRows,
        maxConcurrentChunks: opts.concurrency,
        alertAnomalyRateAbove: opts.alertAbove,
        ...(opts.exportCsv ? { exportCsv: true } : {}),
        ...flagging,
      } as DetectBatchInput;
      await withClient(async (client) => {
        const handle = await client.startDetection(input);
        if (!opts.wait) {
          printResult(opts.json, { workflowId: handle.workflowId, uiUrl: client.uiUrl(handle.workflowId) }, () =>
            console.log(`detection started: ${handle.workflowId}\n${client.uiUrl(handle.workflowId)}`),
          );
          return;
        }
        const result = await waitWithProgress<DetectionSummary | SourceRunOutcome>(handle, (p) => renderDetectProgress(p as DetectProgress));
        if (result.status !== 'completed') {
          // Nothing was scored in this window: say why, no result links.
          printResult(opts.json, result, () => console.log(sourceOutcomeLine(result)));
          return;
        }
        const links = await client.resultLinks(result);
        printResult(opts.json, { ...result, ...links }, () => console.log(detectionSummaryLines(result, { uiUrl: client.uiUrl(handle.workflowId), ...links }).join('\n')));
      });
    });
}

/** Options that only make sense together (or apart), checked before anything is read or started. */
export function checkCombination(opts: DetectOptions): void {
  const given = (names: Array<keyof DetectOptions>) => names.filter((n) => opts[n] !== undefined).map(flag);
  if ((opts.dataset === undefined) === (opts.source === undefined)) throw new Error('give one of --dataset (an uploaded dataset) and --source (a JSON file naming data where it lives)');
  if (opts.dataset !== undefined) {
    const sourceOnly = given(['windowStart', 'windowEnd', 'from', 'to', 'period', 'timeZone', 'concurrencyWindows']);
    if (sourceOnly.length) throw new Error(`${sourceOnly.join(', ')} apply to --source only (an uploaded dataset is scored whole)`);
    return;
  }
  const backfill = opts.from !== undefined || opts.to !== undefined;
  if (backfill) {
    if (opts.from === undefined || opts.to === undefined) throw new Error('--from and --to go together: the range of windows to backfill');
    const singleOnly = given(['windowStart', 'windowEnd', 'alertAbove', 'exportCsv']);
    if (singleOnly.length) throw new Error(`${singleOnly.join(', ')} apply to one window's job, not to a backfill (--from/--to)`);
    return;
  }
  if (opts.windowStart === undefined || opts.windowEnd === undefined) {
    throw new Error('--source needs a window: --window-start and --window-end (one job), or --from and --to (one job per window)');
  }
  if (opts.concurrencyWindows !== undefined) throw new Error('--concurrency-windows applies to a backfill (--from/--to) only');
}

/** The `sink` the --sink-* options name (checked with the rest of the input before the job starts). */
function sinkOf(opts: DetectOptions): { sink?: unknown } {
  if (opts.sinkConnection === undefined && opts.sinkTable === undefined && opts.sinkRows === undefined) return {};
  if (opts.sinkConnection === undefined || opts.sinkTable === undefined) throw new Error('--sink-connection and --sink-table go together (and --sink-rows needs both)');
  return { sink: { kind: 'postgres', connection: opts.sinkConnection, table: opts.sinkTable, ...defined({ rows: opts.sinkRows }) } };
}

function flag(name: string): string {
  return `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** The `source` object from its JSON file; its content is never quoted back (it names connections, and a mistaken one might hold a secret). */
export function readSourceFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`--source ${file}: not readable (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`--source ${file}: not valid JSON (expected one object such as {"kind": "objects", "connection": "lake", "bucket": "sales", "prefix": "orders/dt={date}/", "format": "parquet"})`);
  }
}

function defined<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function sourceOutcomeLine(outcome: SourceRunOutcome): string {
  const window = `${outcome.window.start} – ${outcome.window.end}`;
  const sink = outcome.sink ? `; its ${outcome.sink.written} ${outcome.sink.rows === 'scores' ? 'rows' : 'anomalies'} upserted into ${outcome.sink.connection}:${outcome.sink.table}` : '';
  return outcome.status === 'skipped'
    ? `detection job ${outcome.jobId} skipped: ${outcome.location} for ${window} was already scored by ${outcome.scoredBy} (${outcome.rows} rows, ${outcome.anomalies} anomalies)${sink}`
    : `detection job ${outcome.jobId}: no data in ${outcome.location} for ${window}`;
}
