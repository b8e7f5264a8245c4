import type { DetectionSummary } from '../nomalyClient';
import { pValueText } from '../../results/explanationText';
import { flaggingLine } from './flaggingText';
import { renderTable } from './table';

/** Links printed beside a finished detection: the Temporal UI, and signed (time-limited) result links. */
export interface DetectionLinks {
  uiUrl: string;
  reportUrl: string;
  scoresUrl?: string;
  scoresCsvUrl?: string;
}

/** What `nomaly detect --wait` prints for a finished job. */
export function detectionSummaryLines(summary: DetectionSummary, links: DetectionLinks): string[] {
  const q = summary.quantiles;
  const lines = [
    `detection job ${summary.jobId} completed: model ${summary.model}, dataset ${summary.datasetId}`,
    `rows scored:   ${summary.rows.toLocaleString('en-US')}`,
    `anomalies:     ${summary.anomalies.toLocaleString('en-US')}`,
    `anomaly rate:  ${(summary.anomalyRate * 100).toFixed(2)}%`,
    `duration:      ${(summary.durationMs / 1000).toFixed(1)}s (${Math.round(summary.rowsPerSecond).toLocaleString('en-US')} rows/s)`,
    `scores:        p50 ${q.p50.toFixed(4)}  p95 ${q.p95.toFixed(4)}  p99 ${q.p99.toFixed(4)}  (all rows: ${summary.scoresBucket}/${summary.scoresKey})`,
  ];
  // The rule and the p-values only for jobs that record them: an older job prints as it did.
  if (summary.flagging) lines.push(flaggingLine(summary.flagging));
  const withP = summary.topAnomalies.some((a) => a.pValue !== undefined && a.pValue !== null);
  const columns = [{ header: 'rank', align: 'right' as const }, { header: 'row', align: 'right' as const }, { header: 'id' }, { header: 'score', align: 'right' as const }];
  if (withP) columns.push({ header: 'p-value', align: 'right' });
  lines.push(
    `top anomalies:${summary.flagging ? ` (why: nomaly anomalies ${summary.jobId} --explain)` : ''}`,
    ...renderTable(
      columns,
      summary.topAnomalies.map((a, i) => [String(i + 1), String(a.rowIndex), a.rowId ?? '-', a.score.toFixed(4), ...(withP ? [pValueText(a.pValue)] : [])]),
      '  ',
    ),
  );
  if (summary.scoresCsvKey) lines.push(`scores csv:    ${summary.scoresBucket}/${summary.scoresCsvKey}`);
  if (summary.sink) lines.push(`sink:          ${summary.sink.connection}:${summary.sink.table}, ${summary.sink.written} ${summary.sink.rows === 'scores' ? 'rows' : 'anomalies'} upserted${summary.sink.removed ? `, ${summary.sink.removed} of an earlier run removed` : ''}`);
  lines.push(`report:        ${links.reportUrl}`);
  if (links.scoresCsvUrl) lines.push(`scores.csv:    ${links.scoresCsvUrl}`);
  if (links.scoresUrl) lines.push(`scores.f64:    ${links.scoresUrl}`);
  lines.push(`Temporal UI:   ${links.uiUrl}`);
  lines.push(`download:      nomaly results download ${summary.jobId} --format csv --out scores.csv`);
  return lines;
}
