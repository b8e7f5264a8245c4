import { DATASET_FORMATS, formatFromFileName } from '../../../src/data/readDataset';
import type { DetectionSummary } from '../../../src/activities';
import { DATASET_FILE_HELP } from '../../../src/client/cli/commands/datasets';
import { detectionSummaryLines } from '../../../src/client/cli/detectionSummaryText';
import { formatMetric, renderTable } from '../../../src/client/cli/table';
import { scheduleListLines, selectSchedules } from '../../../src/client/cli/commands/schedules';

const summary: DetectionSummary = {
  jobId: 'detect-m-1',
  status: 'completed',
  model: 'm@1',
  datasetId: 'ds_1',
  rows: 2_000_000,
  anomalies: 3,
  anomalyRate: 1.5e-6,
  durationMs: 4000,
  rowsPerSecond: 500_000,
  scoresBucket: 'nomaly-results',
  scoresKey: 'jobs/detect-m-1/scores.f64',
  reportKey: 'jobs/detect-m-1/report.html',
  quantiles: { p50: 0.4, p90: 0.5, p95: 0.55, p99: 0.6, p999: 0.7 },
  topAnomalies: [
    { rowIndex: 1_234_567, rowId: 'txn-9', score: 0.91 },
    { rowIndex: 12, rowId: null, score: 0.9 },
    { rowIndex: 999_999, rowId: 'a-much-longer-id', score: 0.8 },
  ],
};

describe('CLI text', () => {
  it('keeps the top-anomalies columns aligned with 7-digit row numbers and long ids', () => {
    const lines = detectionSummaryLines(summary, { uiUrl: 'http://ui', reportUrl: 'http://report' });
    const table = lines.slice(lines.indexOf('top anomalies:') + 1, lines.indexOf('top anomalies:') + 5);
    expect(table).toHaveLength(4);
    // Right-aligned numbers end in the same column; the score column starts in the same column.
    const scoreEnd = table.map((l) => l.length);
    expect(new Set(scoreEnd).size).toBe(1);
    const rowEnd = table.map((line, i) => {
      const cell = i === 0 ? 'row' : String(summary.topAnomalies[i - 1].rowIndex);
      return line.indexOf(` ${cell} `) + 1 + cell.length;
    });
    expect(new Set(rowEnd).size).toBe(1);
    expect(table[1]).toMatch(/^\s+1\s+1234567\s+txn-9\s+0\.9100$/);
    expect(table[2]).toMatch(/^\s+2\s+12\s+-\s+0\.9000$/);
  });

  it('prints integer metrics as integers and fractions to 4 decimals (train printed 50000.0000)', () => {
    expect(formatMetric(50_000)).toBe('50000');
    expect(formatMetric(0)).toBe('0');
    expect(formatMetric(0.93456)).toBe('0.9346');
  });

  it('sizes every column to its widest cell', () => {
    expect(renderTable([{ header: 'n', align: 'right' }, { header: 'name' }], [['1234567', 'a'], ['1', 'bcdef']])).toEqual([
      '      n  name',
      '1234567  a',
      '      1  bcdef',
    ]);
  });

  it('says `datasets upload` takes every format the readers know, by the extensions they know', () => {
    expect(DATASET_FILE_HELP).not.toMatch(/^a CSV file/);
    const extensions = [...DATASET_FILE_HELP.matchAll(/\(((?:\.\w+(?:, )?)+)\)/g)].flatMap((m) => m[1].split(', '));
    expect(new Set(extensions.map((e) => formatFromFileName(`x${e}`)))).toEqual(new Set(DATASET_FORMATS));
  });

  it('says so when there are no schedules (an empty `schedules list` printed nothing)', () => {
    expect(scheduleListLines([])).toEqual([expect.stringMatching(/^no schedules \(nomaly schedules apply creates/)]);
    expect(scheduleListLines([{ id: 'nomaly-nightly-backup', workflowType: 'backup', paused: false, nextRun: '2026-12-05T02:30:00.000Z' }])).toEqual([
      'schedule               workflow  state   next run',
      'nomaly-nightly-backup  backup    active  2026-12-05T02:30:00.000Z',
    ]);
  });

  it('filters and pages schedules list (--paused, --workflow, --limit, --offset)', () => {
    const rows = ['a', 'b', 'c', 'd'].map((id, i) => ({ id, workflowType: i % 2 ? 'backup' : 'detectBatch', paused: i >= 2, nextRun: '-' }));
    expect(selectSchedules(rows, { limit: 2, offset: 1 }).map((r) => r.id)).toEqual(['b', 'c']);
    expect(selectSchedules(rows, { paused: true, limit: 50, offset: 0 }).map((r) => r.id)).toEqual(['c', 'd']);
    expect(selectSchedules(rows, { workflow: 'backup', limit: 50, offset: 0 }).map((r) => r.id)).toEqual(['b', 'd']);
    expect(selectSchedules(rows, { workflow: 'backup', limit: 50, offset: 2 })).toEqual([]);
  });
});
