import { renderDetectionReport, type DetectionReportInput } from '../../../src/results/detectionReport';
import { summarizeScores } from '../../../src/results/scoreSummary';

/** The histogram's threshold label: drawn inside the 640 px chart wherever the threshold falls. */
function report(threshold: number): string {
  const scores = Float64Array.from({ length: 1000 }, (_, i) => 0.3 + (0.5 * i) / 999); // 0.3 … 0.8
  const input: DetectionReportInput = {
    jobId: 'job-1',
    model: 'm@1',
    datasetId: 'ds_1',
    rows: scores.length,
    anomalies: 1,
    anomalyRate: 0.001,
    threshold,
    durationMs: 1000,
    rowsPerSecond: 1000,
    scores: summarizeScores(scores),
    topAnomalies: [],
  };
  return renderDetectionReport(input);
}

function thresholdText(html: string): { x: number; anchor: string; text: string } {
  const match = /<text x="([\d.]+)" y="\d+" font-size="11"(?: text-anchor="(\w+)")?>(threshold [^<]+)<\/text>/.exec(html);
  if (!match) throw new Error('no threshold label');
  return { x: Number(match[1]), anchor: match[2] ?? 'start', text: match[3] };
}

/** The width the label could take at 11 px: 7 px a character is wider than system-ui's digits and letters. */
const extent = (label: { text: string }) => label.text.length * 7;
const CHART_WIDTH = 640;

describe('detection report: threshold label', () => {
  it('stays inside the chart when the threshold is near the highest score (it was cut off at the right edge)', () => {
    const label = thresholdText(report(0.7995));
    expect(label.text).toBe('threshold 0.7995');
    expect(label.anchor).toBe('end');
    expect(label.x).toBeLessThanOrEqual(CHART_WIDTH);
    expect(label.x - extent(label)).toBeGreaterThanOrEqual(0);
  });

  it('sits right of the line where there is room', () => {
    const label = thresholdText(report(0.35));
    expect(label.anchor).toBe('start');
    expect(label.x + extent(label)).toBeLessThanOrEqual(CHART_WIDTH);
  });
});

describe('detection report: the rule and the why', () => {
  const scores = Float64Array.from({ length: 1000 }, (_, i) => 0.3 + (0.5 * i) / 999);
  const base: DetectionReportInput = {
    jobId: 'job-2',
    model: 'm@1',
    datasetId: 'ds_1',
    rows: scores.length,
    anomalies: 2,
    anomalyRate: 0.002,
    threshold: 0.7,
    durationMs: 1000,
    rowsPerSecond: 1000,
    scores: summarizeScores(scores),
    topAnomalies: [
      {
        rowIndex: 999,
        rowId: 'txn-999',
        score: 0.8,
        pValue: 0.000123,
        explanation: [
          { feature: 'amount', value: 15230.5, contribution: 0.8, percentile: 99.9 },
          { feature: '<script>alert("x")</script>', value: 1, contribution: 0.2, percentile: 50 },
          { feature: 'latency_ms', value: 3, contribution: -0.05, percentile: null },
        ],
      },
      { rowIndex: 998, rowId: null, score: 0.79, pValue: 0.004, explanation: [{ feature: 'amount', value: 12, contribution: 0.4, percentile: 12.5 }] },
    ],
    flagging: { rule: { method: 'fdr', alpha: 0.01 }, ruleFrom: 'job', cutoff: 0.785, flagged: 2, candidates: 40, calibrationScores: 2000 },
  };

  it('says which rule flagged the rows, where it came from, its cutoff, the counts and the calibration scores', () => {
    const html = renderDetectionReport(base);
    expect(html).toContain(`<dt>flagged by</dt><dd>false-discovery rate ≤ 0.01 (conformal p-values, Benjamini–Hochberg over the whole job) <span class="from">(the job's own rule)</span></dd>`);
    expect(html).toContain('<dt>cutoff</dt><dd>rows scoring above 0.7850</dd>');
    expect(html).toContain('<dt>flagged</dt><dd>2 of 40 candidates</dd>');
    expect(html).toContain('p-values against 2,000 calibration scores');
    expect(html).not.toContain('<dt>threshold</dt>');
    // The histogram's line is the job's cutoff, not the model's threshold.
    expect(thresholdText(html.replace('>cutoff ', '>threshold ')).text).toBe('threshold 0.7850');
    const maxAlerts = renderDetectionReport({ ...base, flagging: { rule: { method: 'maxAlerts', n: 5 }, ruleFrom: 'model', cutoff: null, flagged: 0, candidates: 6, excludedByTie: 6 } });
    expect(maxAlerts).toContain("at most 5 alerts");
    expect(maxAlerts).toContain("(the model's rule)");
    expect(maxAlerts).toContain('<dt>cutoff</dt><dd>none: no row qualified</dd>');
    expect(maxAlerts).toContain('0 of 6 candidates; 6 left out by a tie at the boundary');
    expect(maxAlerts).not.toContain('calibration');
  });

  it('draws a contribution bar and a training-range bar per top feature, the marker at the percentile', () => {
    const html = renderDetectionReport(base);
    expect(html).toContain('<h2>Why these rows</h2>');
    expect(html.match(/<rect class="contribution"/g)).toHaveLength(4);
    // Three features have a percentile, one has none: three markers.
    expect(html.match(/<rect class="percentile"/g)).toHaveLength(3);
    const widths = [...html.matchAll(/<rect class="contribution" x="0" y="0" width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(widths).toEqual([160, 40, 10, 80]); // one scale: 0.8 is the full 160 px
    const marker = /<rect class="percentile" x="([\d.]+)"/.exec(html)!;
    expect(Number(marker[1]) + 1.5).toBeCloseTo(Math.min(160 - 1.5, 0.999 * 160), 1);
    expect(html).toContain('aria-label="training percentile p12.5"><rect x="0" y="3" width="160" height="6" fill="#d6eaf8"/><rect x="40" y="3" width="80" height="6" fill="#85c1e9"/><rect class="percentile" x="18.5"'); // 12.5% of 160 px, centred
    expect(html).toContain('no profile');
    expect(html).toContain('row 999 · id txn-999 · score 0.8000 · p-value 1.23e-4');
    expect(html).toContain('<th>p-value</th>');
    expect(html).toContain('<td>0.0040</td>');
    expect(html).toMatch(/fill="#95a5a6"/); // the negative contribution, in grey
  });

  it('escapes a hostile feature name and id: no markup gets through', () => {
    const hostile = renderDetectionReport({ ...base, topAnomalies: [{ ...base.topAnomalies[0], rowId: '"><img src=x onerror=alert(1)>' }] });
    expect(hostile).not.toContain('<script>');
    expect(hostile).not.toContain('<img');
    expect(hostile).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;');
  });

  it('names a source job’s location and window, its snapshot beside them', () => {
    const html = renderDetectionReport({ ...base, datasetId: 'snap_0123456789abcdef', source: { location: 'lake/events/dt=2026-12-03/', window: { start: '2026-12-03T00:00:00.000Z', end: '2026-12-04T00:00:00.000Z' } } });
    expect(html).toContain('<dt>source</dt><dd>lake/events/dt=2026-12-03/</dd>');
    expect(html).toContain('<dt>window</dt><dd>2026-12-03T00:00:00.000Z – 2026-12-04T00:00:00.000Z</dd>');
    expect(html).toContain('<dt>snapshot</dt><dd>snap_0123456789abcdef</dd>');
    expect(html).not.toContain('<dt>dataset</dt>');
  });

  it('renders a job from before thresholds and explanations as before: the threshold, no p-values, no why', () => {
    const old = renderDetectionReport({ ...base, flagging: undefined, topAnomalies: base.topAnomalies.map(({ rowIndex, rowId, score }) => ({ rowIndex, rowId, score })) });
    expect(old).toContain('<dt>threshold</dt><dd>0.7000</dd>');
    expect(thresholdText(old).text).toBe('threshold 0.7000');
    expect(old).not.toContain('flagged by');
    expect(old).not.toContain('p-value');
    expect(old).not.toContain('Why these rows');
    expect(old).toContain('<th>score</th></tr>');
  });
});
