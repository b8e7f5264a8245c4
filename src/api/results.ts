/**
 * What workflows return and carry, shared by the workflows, the activities that produce it and
 * the client that shows it. Types only.
 */
import type { DatasetInfo } from '../db/modelRegistry';
import type { TopAnomaly } from '../db/anomalies';
import type { ScoreSummary } from '../results/scoreSummary';

export interface DetectionPlan {
  jobId: string;
  modelId: number;
  modelName: string;
  modelVersion: number;
  modelArtifactKey: string;
  modelSha256: string;
  datasetId: string;
  datasetKey: string;
  datasetSha256: string;
  featureColumns: string[];
  idColumn: string | null;
  format: string;
  rows: number;
}

export interface DetectionSummary {
  jobId: string;
  status: 'completed';
  model: string;
  datasetId: string;
  rows: number;
  anomalies: number;
  anomalyRate: number;
  durationMs: number;
  rowsPerSecond: number;
  /** Every row's score (src/results/scoresFile.ts) and the HTML report, in the results bucket. */
  scoresBucket: string;
  scoresKey: string;
  /** With `exportCsv`: every row's score as CSV (src/results/scoresCsv.ts), in the results bucket. */
  scoresCsvKey?: string;
  reportKey: string;
  quantiles: ScoreSummary['quantiles'];
  topAnomalies: TopAnomaly[];
}

/**
 * What registration returns and `nomaly datasets upload` prints: bounded whatever the file's
 * width, because it travels through the workflow's history. The full column list and every
 * column's profile stay in PostgreSQL (`nomaly datasets show`).
 */
export type DatasetSummary = Omit<DatasetInfo, 'columns' | 'columnProfiles'> & {
  /** Columns in the file: features, plus the label and id columns when it has them. */
  columnCount: number;
};

export interface DetectionAlert {
  jobId: string;
  model: string;
  datasetId: string;
  rows: number;
  anomalies: number;
  anomalyRate: number;
  alertAnomalyRateAbove: number;
  report: string;
}
