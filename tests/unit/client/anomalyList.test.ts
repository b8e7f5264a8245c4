import { anomalyListLines, flaggingLine } from '../../../src/client/cli/commands/anomalies';
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
