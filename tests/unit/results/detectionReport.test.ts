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
