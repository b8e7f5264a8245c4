import type { ScoreSummary } from './scoreSummary';

export interface DetectionReportInput {
  jobId: string;
  model: string;
  datasetId: string;
  rows: number;
  anomalies: number;
  anomalyRate: number;
  threshold: number;
  durationMs: number;
  rowsPerSecond: number;
  scores: ScoreSummary;
  topAnomalies: Array<{ rowIndex: number; rowId: string | null; score: number }>;
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
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

/** Score histogram with the anomaly threshold marked; bars at or past it are drawn in red. */
function histogramSvg(summary: ScoreSummary, threshold: number): string {
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
      ? `<line x1="${fmt(tx, 2)}" x2="${fmt(tx, 2)}" y1="${pad / 2}" y2="${h - pad}" stroke="#000" stroke-dasharray="4 3"/>${thresholdLabel(`threshold ${fmt(threshold)}`, tx, w)}`
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

/** A self-contained HTML page (no scripts, no external assets) for one detection job. */
export function renderDetectionReport(r: DetectionReportInput): string {
  const q = r.scores.quantiles;
  const rows = r.topAnomalies
    .map((a, i) => `<tr><td>${i + 1}</td><td>${a.rowIndex}</td><td>${escape(a.rowId ?? '')}</td><td>${fmt(a.score)}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Nomaly detection ${escape(r.jobId)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:720px}td,th{padding:2px 10px;text-align:right}th{border-bottom:1px solid #999}dt{font-weight:600}</style></head>
<body>
<h1>Detection job</h1>
<p><code>${escape(r.jobId)}</code></p>
<dl>
<dt>model</dt><dd>${escape(r.model)}</dd>
<dt>dataset</dt><dd>${escape(r.datasetId)}</dd>
<dt>rows scored</dt><dd>${r.rows.toLocaleString('en-US')}</dd>
<dt>anomalies</dt><dd>${r.anomalies.toLocaleString('en-US')} (${(100 * r.anomalyRate).toFixed(2)}%)</dd>
<dt>threshold</dt><dd>${fmt(r.threshold)}</dd>
<dt>duration</dt><dd>${(r.durationMs / 1000).toFixed(1)} s (${Math.round(r.rowsPerSecond).toLocaleString('en-US')} rows/s)</dd>
<dt>score quantiles</dt><dd>p50 ${fmt(q.p50)} · p90 ${fmt(q.p90)} · p95 ${fmt(q.p95)} · p99 ${fmt(q.p99)} · p99.9 ${fmt(q.p999)} · max ${fmt(r.scores.max)}</dd>
</dl>
<h2>Score distribution</h2>
${histogramSvg(r.scores, r.threshold)}
<h2>Top anomalies</h2>
${topAnomaliesSvg(r.topAnomalies)}
<table><thead><tr><th>rank</th><th>row</th><th>id</th><th>score</th></tr></thead><tbody>${rows}</tbody></table>
</body></html>
`;
}
