import { anomalyListLines } from '../../../src/client/cli/commands/anomalies';
import { flaggingLine } from '../../../src/client/cli/flaggingText';
import type { DetectionSummary } from '../../../src/api/results';
import { detectionSummaryLines } from '../../../src/client/cli/detectionSummaryText';
import type { JobAnomalies } from '../../../src/client/readStore';

const listed: JobAnomalies = {
  jobId: 'detect-m-1',
  rows: 1_234_567,
  total: 57,
  flagging: { rule: { method: 'fdr', alpha: 0.01 }, ruleFrom: 'job', cutoff: 0.6843, flagged: 57, candidates: 311, calibrationScores: 2000 },
  anomalies: [
    { rowIndex: 1_234_000, rowId: 'txn-9', score: 0.91, pValue: 0.0001, explanation: [{ feature: 'amount', value: 15230.5, contribution: 0.83, percentile: 99.9 }] },
    { rowIndex: 12, rowId: null, score: 0.9, pValue: 0.02, explanation: null },
  ],
};

describe('nomaly anomalies text', () => {
  it('names the rule, its cutoff and counts, then the rows with their p-values', () => {
    const lines = anomalyListLines(listed, {});
    expect(lines[0]).toBe('detection job detect-m-1: 57 anomalies in 1,234,567 rows (the 2 highest scores shown; --top N for more)');
    expect(lines[1]).toBe(
      "flagged by: false-discovery rate ≤ 0.01 (conformal p-values, Benjamini–Hochberg over the whole job), the job's rule; cutoff score > 0.6843; 57 of 311 candidates; p-values against 2000 calibration scores",
    );
    expect(lines.slice(2)).toEqual(['rank      row  id      score  p-value', '   1  1234000  txn-9  0.9100  1.00e-4', '   2       12  -      0.9000   0.0200']);
  });

  it('adds each row\'s top features with --explain', () => {
    const lines = anomalyListLines(listed, { explain: true });
    expect(lines[2]).toMatch(/p-value  top features \(value, training percentile, contribution\)$/);
    expect(lines[3]).toMatch(/1\.00e-4  amount=15230\.5 \(p99\.9\) \+0\.83$/);
    expect(lines[4]).toMatch(/0\.0200  -$/);
  });

  it('says when a job predates threshold rules, when a tie left rows out and when none qualified', () => {
    expect(flaggingLine(null)).toMatch(/the model's threshold \(the job ran before threshold rules were recorded\)/);
    expect(flaggingLine({ rule: { method: 'maxAlerts', n: 5 }, ruleFrom: 'model', cutoff: null, flagged: 0, candidates: 6, excludedByTie: 6 })).toBe(
      "flagged by: at most 5 alerts (the highest scores; a tie at the boundary is left out whole), the model's rule; cutoff none (no row qualified); 0 of 6 candidates, 6 left out by a tie at the boundary",
    );
    expect(anomalyListLines({ ...listed, total: 0, anomalies: [], flagging: null }, {}).at(-1)).toBe('no anomalies');
  });
});

describe('detect --wait text', () => {
  it('names the rule and shows p-values for a job that records them', () => {
    const summary: DetectionSummary = {
      jobId: 'detect-m-2',
      status: 'completed',
      model: 'm@1',
      datasetId: 'ds_1',
      rows: 1000,
      anomalies: 2,
      anomalyRate: 0.002,
      durationMs: 1000,
      rowsPerSecond: 1000,
      scoresBucket: 'nomaly-results',
      scoresKey: 'jobs/detect-m-2/scores.f64',
      reportKey: 'jobs/detect-m-2/report.html',
      quantiles: { p50: 0.4, p90: 0.5, p95: 0.55, p99: 0.6, p999: 0.7 },
      topAnomalies: listed.anomalies,
      flagging: listed.flagging!,
    };
    const lines = detectionSummaryLines(summary, { uiUrl: 'http://ui', reportUrl: 'http://report' });
    expect(lines).toContain(flaggingLine(listed.flagging));
    const at = lines.indexOf('top anomalies: (why: nomaly anomalies detect-m-2 --explain)');
    expect(at).toBeGreaterThan(0);
    expect(lines.slice(at + 1, at + 4)).toEqual(['  rank      row  id      score  p-value', '     1  1234000  txn-9  0.9100  1.00e-4', '     2       12  -      0.9000   0.0200']);
  });
});
