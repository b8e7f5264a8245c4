import { describeThreshold, type JobFlagging } from './flagging';
import type { TopAnomaly } from '../db/anomalies';
import { pValueText } from './explanationText';
import { escapeHtml as escape, explanationsHtml } from './reportExplanations';
import type { ScoreSummary } from './scoreSummary';

export interface DetectionReportInput {
  jobId: string;
  model: string;
  datasetId: string;
  /** A job over a source: where it read and which window (its dataset id is the snapshot's). */
  source?: { location: string; window: { start: string; end: string } };
  rows: number;
  anomalies: number;
  anomalyRate: number;
  /** The model's threshold: the histogram's line for a job from before thresholds (no `flagging`). */
  threshold: number;
  durationMs: number;
  rowsPerSecond: number;
  scores: ScoreSummary;
  /** With pValue and explanation from jobs that keep them. */
  topAnomalies: TopAnomaly[];
  /** The rule that flagged the rows and its job-wide cutoff; absent for a job from before thresholds. */
  flagging?: JobFlagging;
}

const fmt = (n: number, digits = 4) => (Number.isFinite(n) ? n.toFixed(digits) : String(n));

/** Widest an 11 px system-ui character gets (digits, letters of "threshold"), to keep a label inside the chart. */
const LABEL_CHAR_WIDTH = 7;

/**
 * The threshold's label beside its line: to the right, or to the left when the threshold is
 * near the highest score and a label on the right would run past the chart's edge.
 */
function thresholdLabel(text: string, x: number, chartWidth: number): string {
  const fitsRight = x + 4 + text.length * LABEL_CHAR_WIDTH <= chartWidth;
  return fitsRight
    ? `<text x="${fmt(x + 4, 2)}" y="30" font-size="11">${text}</text>`
    : `<text x="${fmt(x - 4, 2)}" y="30" font-size="11" text-anchor="end">${text}</text>`;
}

/**
 * Score histogram with the line rows were flagged above (the model's threshold, or the job's
 * cutoff) marked; bars reaching past it are drawn in red. An infinite line (no cutoff) is not drawn.
 */
function histogramSvg(summary: ScoreSummary, threshold: number, lineName: string): string {
  const { start, width, counts } = summary.histogram;
  const w = 640;
  const h = 200;
  const pad = 30;
  const peak = Math.max(1, ...counts);
  const barWidth = (w - 2 * pad) / Math.max(1, counts.length);
  const bars = counts
    .map((count, i) => {
      // Log scale: the anomalous tail is a handful of rows beside thousands of inliers.
      const height = count === 0 ? 0 : ((h - 2 * pad) * Math.log1p(count)) / Math.log1p(peak);
      const past = start + (i + 1) * width > threshold;
      return `<rect x="${fmt(pad + i * barWidth, 2)}" y="${fmt(h - pad - height, 2)}" width="${fmt(Math.max(1, barWidth - 1), 2)}" height="${fmt(height, 2)}" fill="${past ? '#c0392b' : '#2e86c1'}"><title>${fmt(start + i * width)}–${fmt(start + (i + 1) * width)}: ${count} rows</title></rect>`;
    })
    .join('');
  const span = width * counts.length || 1;
  const tx = pad + ((threshold - start) / span) * (w - 2 * pad);
  const marker =
    threshold >= start && threshold <= start + span
      ? `<line x1="${fmt(tx, 2)}" x2="${fmt(tx, 2)}" y1="${pad / 2}" y2="${h - pad}" stroke="#000" stroke-dasharray="4 3"/>${thresholdLabel(`${lineName} ${fmt(threshold)}`, tx, w)}`
      : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" role="img" aria-label="score histogram">${bars}${marker}<text x="${pad}" y="${h - 8}" font-size="11">${fmt(start)}</text><text x="${w - pad}" y="${h - 8}" font-size="11" text-anchor="end">${fmt(start + span)}</text></svg>`;
}

function topAnomaliesSvg(top: DetectionReportInput['topAnomalies']): string {
  if (top.length === 0) return '<p>No anomalies.</p>';
  const w = 640;
  const rowHeight = 18;
  const h = top.length * rowHeight + 10;
  const max = Math.max(...top.map((a) => a.score)) || 1;
  const bars = top
    .map((a, i) => {
      const label = escape(a.rowId ?? `row ${a.rowIndex}`);
      const length = ((w - 220) * a.score) / max;
      return `<text x="0" y="${i * rowHeight + 13}" font-size="11">${label}</text><rect x="140" y="${i * rowHeight + 3}" width="${fmt(length, 2)}" height="${rowHeight - 6}" fill="#c0392b"/><text x="${fmt(145 + length, 2)}" y="${i * rowHeight + 13}" font-size="11">${fmt(a.score)}</text>`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" role="img" aria-label="top anomalies">${bars}</svg>`;
}

const RULE_FROM: Record<JobFlagging['ruleFrom'], string> = {
  job: "the job's own rule",
  model: "the model's rule",
  default: 'the default rule',
};

/** The cutoff in words: a number, or why there is none. */
function cutoffText(f: JobFlagging): string {
  if (f.cutoff !== null) return `rows scoring above ${fmt(f.cutoff)}`;
  return f.flagged === 0 ? 'none: no row qualified' : 'none: every row qualified';
}

/** Which rule flagged the rows, its cutoff and counts: the lines a person checks the flags against. */
function flaggingRows(f: JobFlagging): string {
  const tie = f.excludedByTie ? `; ${f.excludedByTie.toLocaleString('en-US')} left out by a tie at the boundary` : '';
  const rows = [
    `<dt>flagged by</dt><dd>${escape(describeThreshold(f.rule))} <span class="from">(${RULE_FROM[f.ruleFrom]})</span></dd>`,
    `<dt>cutoff</dt><dd>${cutoffText(f)}</dd>`,
    `<dt>flagged</dt><dd>${f.flagged.toLocaleString('en-US')} of ${f.candidates.toLocaleString('en-US')} candidates${tie}</dd>`,
  ];
  if (f.calibrationScores !== undefined) rows.push(`<dt>calibration</dt><dd>p-values against ${f.calibrationScores.toLocaleString('en-US')} calibration scores held out of training</dd>`);
  return rows.join('\n');
}

/** The histogram's line: the job's cutoff (±∞ when none: nothing or everything past it), else the model's threshold. */
function flaggedAbove(r: DetectionReportInput): { value: number; name: string } {
  if (!r.flagging) return { value: r.threshold, name: 'threshold' };
  const value = r.flagging.cutoff ?? (r.flagging.flagged === 0 ? Infinity : -Infinity);
  return { value, name: 'cutoff' };
}

/** A self-contained HTML page (no scripts, no external assets) for one detection job. */
export function renderDetectionReport(r: DetectionReportInput): string {
  const q = r.scores.quantiles;
  // A p-value column only for jobs that keep them: an older job's report reads as it did.
  const withP = r.topAnomalies.some((a) => a.pValue !== undefined && a.pValue !== null);
  const rows = r.topAnomalies
    .map((a, i) => `<tr><td>${i + 1}</td><td>${a.rowIndex}</td><td>${escape(a.rowId ?? '')}</td><td>${fmt(a.score)}</td>${withP ? `<td>${pValueText(a.pValue)}</td>` : ''}</tr>`)
    .join('');
  const line = flaggedAbove(r);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Nomaly detection ${escape(r.jobId)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:720px}td,th{padding:2px 10px;text-align:right}th{border-bottom:1px solid #999}dt{font-weight:600}
table.why td{padding:1px 6px;vertical-align:middle}table.why .name{text-align:left;font-family:ui-monospace,monospace;white-space:nowrap;max-width:16em;overflow:hidden;text-overflow:ellipsis}table.why td:nth-child(2){white-space:nowrap}table.why th.anomaly{text-align:left;border-bottom:none;padding-top:1em}table.why td:last-child{white-space:nowrap}svg.bar{display:block}.from,.note{color:#555}.note{font-size:12px}</style></head>
<body>
<h1>Detection job</h1>
<p><code>${escape(r.jobId)}</code></p>
<dl>
<dt>model</dt><dd>${escape(r.model)}</dd>
${r.source ? `<dt>source</dt><dd>${escape(r.source.location)}</dd>
<dt>window</dt><dd>${escape(r.source.window.start)} – ${escape(r.source.window.end)}</dd>
<dt>snapshot</dt><dd>${escape(r.datasetId)}</dd>` : `<dt>dataset</dt><dd>${escape(r.datasetId)}</dd>`}
<dt>rows scored</dt><dd>${r.rows.toLocaleString('en-US')}</dd>
<dt>anomalies</dt><dd>${r.anomalies.toLocaleString('en-US')} (${(100 * r.anomalyRate).toFixed(2)}%)</dd>
${r.flagging ? flaggingRows(r.flagging) : `<dt>threshold</dt><dd>${fmt(r.threshold)}</dd>`}
<dt>duration</dt><dd>${(r.durationMs / 1000).toFixed(1)} s (${Math.round(r.rowsPerSecond).toLocaleString('en-US')} rows/s)</dd>
<dt>score quantiles</dt><dd>p50 ${fmt(q.p50)} · p90 ${fmt(q.p90)} · p95 ${fmt(q.p95)} · p99 ${fmt(q.p99)} · p99.9 ${fmt(q.p999)} · max ${fmt(r.scores.max)}</dd>
</dl>
<h2>Score distribution</h2>
${histogramSvg(r.scores, line.value, line.name)}
<h2>Top anomalies</h2>
${topAnomaliesSvg(r.topAnomalies)}
<table><thead><tr><th>rank</th><th>row</th><th>id</th><th>score</th>${withP ? '<th>p-value</th>' : ''}</tr></thead><tbody>${rows}</tbody></table>
${explanationsHtml(r.topAnomalies)}
</body></html>
`;
}
