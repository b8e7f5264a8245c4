import { jobRows, jobTableLines, shortDuration } from '../../../src/client/cli/jobTable';
import type { JobListing } from '../../../src/client/nomalyClient';
import type { DetectionJobCounts } from '../../../src/db/modelRegistry';

const now = Date.parse('2026-12-04T12:00:00Z');
const listing = (over: Partial<JobListing>): JobListing => ({
  workflowId: 'w',
  workflowType: 'detectBatch',
  status: 'COMPLETED',
  jobStatus: 'completed',
  model: 'fraud',
  dataset: 'ds_1',
  startTime: new Date(now - 600_000),
  closeTime: new Date(now - 540_000),
  uiUrl: 'http://ui/w',
  ...over,
});
const counts = (over: Partial<DetectionJobCounts>): DetectionJobCounts => ({
  id: 'w',
  status: 'completed',
  rows: 1_000_000,
  rowsScored: 1_000_000,
  anomalies: 2_500,
  anomalyRate: 0.0025,
  durationMs: 60_000,
  ...over,
});

describe('nomaly jobs table', () => {
  it('shows a finished detection\'s duration, rows, anomalies and anomaly rate', () => {
    const rows = jobRows([listing({ workflowId: 'detect-a' })], new Map([['detect-a', counts({ id: 'detect-a' })]]), now);
    expect(rows[0]).toMatchObject({ durationMs: 60_000, rows: 1_000_000, anomalies: 2_500, anomalyRate: 0.0025 });
    const [header, line] = jobTableLines(rows, now);
    expect(header).toMatch(/^started\s+type\s+status\s+duration\s+rows\s+anomalies\s+rate\s+model\s+id$/);
    expect(line).toMatch(/^10m ago\s+detectBatch\s+completed\s+60s\s+1,000,000\s+2,500\s+0\.25%\s+fraud\s+detect-a$/);
  });

  it('counts a running detection\'s rows scored so far and its time so far; other jobs get dashes', () => {
    const rows = jobRows(
      [
        listing({ workflowId: 'detect-b', status: 'RUNNING', jobStatus: 'running', closeTime: undefined }),
        listing({ workflowId: 'train-c', workflowType: 'trainModel' }),
      ],
      new Map([['detect-b', counts({ id: 'detect-b', status: 'running', rowsScored: 4000, anomalies: 10, anomalyRate: null })]]),
      now,
    );
    expect(rows[0]).toMatchObject({ durationMs: 600_000, rows: 4000, anomalies: 10, anomalyRate: 10 / 4000 });
    expect(rows[1]).toMatchObject({ rows: null, anomalies: null, anomalyRate: null });
    const lines = jobTableLines(rows, now);
    expect(lines[2]).toMatch(/trainModel\s+completed\s+60s\s+-\s+-\s+-\s+fraud\s+train-c$/);
    // Every line has the id column at the same place.
    expect(new Set(lines.slice(1).map((l, i) => l.indexOf(rows[i].workflowId))).size).toBe(1);
  });

  it('says durations in one unit', () => {
    expect([shortDuration(42_000), shortDuration(17 * 60_000), shortDuration(5 * 3_600_000), shortDuration(3 * 86_400_000)]).toEqual(['42s', '17m', '5h', '3d']);
  });
});
