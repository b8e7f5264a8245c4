/**
 * What workflows return and carry, shared by the workflows, the activities that produce it and
 * the client that shows it. Types only.
 */
import type { DatasetInfo } from '../db/modelRegistry';
import type { TopAnomaly } from '../db/anomalies';
import type { ScoreSummary } from '../results/scoreSummary';
import type { ChunkFlagging, JobFlagging } from '../results/flagging';

export type { FeatureContribution } from '../results/flagging';

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
  /** How chunks store and explain anomalies; absent in runs from before thresholds (the model's threshold, no explanations). */
  flagging?: ChunkFlagging;
}

/** A job over a source that had nothing to score: its window's data was already scored, or there was none. */
export interface SourceRunOutcome {
  jobId: string;
  status: 'skipped' | 'no-data';
  model: string;
  window: { start: string; end: string };
  /** Where the source was read, with the window's values in it. */
  location: string;
  runKey: string;
  snapshotSha256: string;
  /** skipped: the rows and anomalies of the job that scored this snapshot; no-data: 0. */
  rows: number;
  anomalies: number;
  /** skipped: that job's id. */
  scoredBy?: string;
  /** skipped with a `sink`: that job's rows, upserted again (a no-op for rows already there). */
  sink?: SinkResult;
}

/** What a job over a source adds to its summary: which window, where, and the snapshot it scored. */
export interface SourceLineage {
  window: { start: string; end: string };
  location: string;
  runKey: string;
  snapshotSha256: string;
  objects: number;
}

export interface DetectionSummary {
  jobId: string;
  status: 'completed';
  /** Jobs over a source. */
  source?: SourceLineage;
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
  /** The rule that flagged the rows and its job-wide cutoff (absent in runs from before thresholds). */
  flagging?: JobFlagging;
  /** With a `sink`: the table the job's rows were upserted into. */
  sink?: SinkResult;
}

/** What a job's sink wrote: also kept in the job row's summary. */
export interface SinkResult {
  connection: string;
  table: string;
  rows: 'anomalies' | 'scores';
  /** Rows upserted on (run_key, row_key) by the last attempt: the job's anomalies, or all its rows. */
  written: number;
  /** Rows of the same run key from an earlier job (a window scored again) that this job's rows no longer hold, removed. */
  removed: number;
  /** The key the rows are upserted under: the run key of a job over a source, else the job's id. */
  runKey: string;
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
