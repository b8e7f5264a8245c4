import type { DetectionSummary } from '../nomalyClient';
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
    'top anomalies:',
    ...renderTable(
      [{ header: 'rank', align: 'right' }, { header: 'row', align: 'right' }, { header: 'id' }, { header: 'score', align: 'right' }],
      summary.topAnomalies.map((a, i) => [String(i + 1), String(a.rowIndex), a.rowId ?? '-', a.score.toFixed(4)]),
      '  ',
    ),
  ];
  if (summary.scoresCsvKey) lines.push(`scores csv:    ${summary.scoresBucket}/${summary.scoresCsvKey}`);
  lines.push(`report:        ${links.reportUrl}`);
  if (links.scoresCsvUrl) lines.push(`scores.csv:    ${links.scoresCsvUrl}`);
  if (links.scoresUrl) lines.push(`scores.f64:    ${links.scoresUrl}`);
  lines.push(`Temporal UI:   ${links.uiUrl}`);
  lines.push(`download:      nomaly results download ${summary.jobId} --format csv --out scores.csv`);
  return lines;
}
