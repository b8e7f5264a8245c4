import { BigIntType, EntitySchema } from '@mikro-orm/core';
import { BackupSchema, RecoverySchema } from './backupEntities';
import type { ColumnProfile } from '../data/profile';
import type { ChunkFlagging, FeatureContribution, JobFlagging, ThresholdRule } from '../results/flagging';

/**
 * The platform's records. Schemas are declared with EntitySchema (no decorators), so the
 * same definitions load under tsc, ts-jest and the Temporal worker without reflect-metadata.
 */

export class Dataset {
  /** Content-addressed: `ds_` + the first 16 hex digits of the file's sha256. */
  id!: string;
  name!: string;
  sha256!: string;
  objectKey!: string;
  format!: string;
  sizeBytes!: number;
  rows!: number;
  columns!: string[];
  featureColumns!: string[];
  labelColumn?: string | null;
  idColumn?: string | null;
  /** Role, type, min/max/mean and null count of every column, from registration (null for datasets registered before profiles). */
  columnProfiles?: ColumnProfile[] | null;
  /** The uploaded file's sha256 when it was gzip-compressed (`sha256` is the decompressed file's); null otherwise. */
  sourceSha256?: string | null;
  createdAt: Date = new Date();
}

export const DatasetSchema = new EntitySchema<Dataset>({
  class: Dataset,
  tableName: 'dataset',
  properties: {
    id: { type: 'string', primary: true },
    name: { type: 'string' },
    sha256: { type: 'string', unique: true },
    objectKey: { type: 'string' },
    format: { type: 'string' },
    sizeBytes: { type: new BigIntType('number') },
    rows: { type: 'integer' },
    columns: { type: 'json' },
    featureColumns: { type: 'json' },
    labelColumn: { type: 'string', nullable: true },
    idColumn: { type: 'string', nullable: true },
    columnProfiles: { type: 'json', nullable: true },
    sourceSha256: { type: 'string', nullable: true },
    createdAt: { type: 'datetime' },
  },
});

export type ModelStatus = 'training' | 'ready' | 'active' | 'archived' | 'failed';

export class Model {
  id!: number;
  name!: string;
  version!: number;
  status: ModelStatus = 'training';
  algorithm!: string;
  /** The options as given at training, then the detector's resolved options once trained. */
  params!: Record<string, unknown>;
  featureColumns!: string[];
  threshold?: number | null;
  /** The rule its jobs flag with unless a job gives its own (src/api/threshold.ts); null: contamination. */
  thresholdRule?: ThresholdRule | null;
  /** The uploaded dataset it was trained on; null when trained on a source. */
  datasetId?: string | null;
  /** The dataset's sha256, or the pinned source snapshot's. */
  datasetSha256!: string;
  /** Trained on a source: the source, its window and where it was read. */
  source?: Record<string, unknown> | null;
  artifactKey!: string;
  artifactSha256?: string | null;
  trainRows?: number | null;
  metrics?: Record<string, number> | null;
  /** Natural key of the training run: a retried activity finds its own row instead of adding one. */
  trainingWorkflowId!: string;
  error?: string | null;
  /** package.json version + git commit of the code that trained it, e.g. 0.1.0+3f2c1ab. */
  codeVersion?: string | null;
  createdAt: Date = new Date();
  trainedAt?: Date | null;
  durationMs?: number | null;
}

export const ModelSchema = new EntitySchema<Model>({
  class: Model,
  tableName: 'model',
  uniques: [{ properties: ['name', 'version'] }],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    name: { type: 'string' },
    version: { type: 'integer' },
    status: { type: 'string' },
    algorithm: { type: 'string' },
    params: { type: 'json' },
    featureColumns: { type: 'json' },
    threshold: { type: 'double', nullable: true },
    thresholdRule: { type: 'json', nullable: true },
    datasetId: { type: 'string', nullable: true },
    datasetSha256: { type: 'string' },
    source: { type: 'json', nullable: true },
    artifactKey: { type: 'string' },
    artifactSha256: { type: 'string', nullable: true },
    trainRows: { type: 'integer', nullable: true },
    metrics: { type: 'json', nullable: true },
    trainingWorkflowId: { type: 'string', unique: true },
    error: { type: 'text', nullable: true },
    codeVersion: { type: 'string', nullable: true },
    createdAt: { type: 'datetime' },
    trainedAt: { type: 'datetime', nullable: true },
    durationMs: { type: 'integer', nullable: true },
  },
});

/** `skipped`: a source window already scored on the same data; `no-data`: a window whose source held no rows. */
export type DetectionJobStatus = 'running' | 'completed' | 'failed' | 'cancelled' | 'skipped' | 'no-data';

export class DetectionJob {
  /** The workflow id: one logical job, one row, however often its activities retry. */
  id!: string;
  modelId!: number;
  /** The uploaded dataset it scored; null for a job over a source (see `source`). */
  datasetId?: string | null;
  status: DetectionJobStatus = 'running';
  rows!: number;
  chunks = 0;
  rowsScored = 0;
  anomalies = 0;
  anomalyRate?: number | null;
  scoresPrefix!: string;
  /** Set when the job completes: score quantiles and histogram, rows/s, score file and report keys. */
  summary?: Record<string, unknown> | null;
  error?: string | null;
  startedAt: Date = new Date();
  finishedAt?: Date | null;
  durationMs?: number | null;
  /** Jobs over a source: sha256 of model version, source and window (src/sources/runKey.ts). */
  runKey?: string | null;
  /** Jobs over a source: the pinned snapshot's sha256 (its objects, ETags, sizes). */
  snapshotSha256?: string | null;
  /** Jobs over a source: the source, its window and the snapshot, as lineage. */
  source?: Record<string, unknown> | null;
  /** The rule the job flags with, resolved when it starts (its own, its model's or the default), and how many features each anomaly explains. */
  thresholdRule?: (ChunkFlagging & { ruleFrom: JobFlagging['ruleFrom'] }) | null;
}

export const DetectionJobSchema = new EntitySchema<DetectionJob>({
  class: DetectionJob,
  tableName: 'detection_job',
  properties: {
    id: { type: 'string', primary: true },
    modelId: { type: 'integer', nullable: true }, // null once maintenance removed the (old) model
    datasetId: { type: 'string', nullable: true },
    status: { type: 'string' },
    rows: { type: 'integer' },
    chunks: { type: 'integer' },
    rowsScored: { type: 'integer' },
    anomalies: { type: 'integer' },
    anomalyRate: { type: 'double', nullable: true },
    scoresPrefix: { type: 'string' },
    summary: { type: 'json', nullable: true },
    error: { type: 'text', nullable: true },
    startedAt: { type: 'datetime' },
    finishedAt: { type: 'datetime', nullable: true },
    durationMs: { type: 'integer', nullable: true },
    runKey: { type: 'string', length: 64, nullable: true },
    snapshotSha256: { type: 'string', length: 64, nullable: true },
    source: { type: 'json', nullable: true },
    thresholdRule: { type: 'json', nullable: true },
  },
});

export class Anomaly {
  id!: string;
  jobId!: string;
  rowIndex!: number;
  score!: number;
  rowId?: string | null;
  pValue?: number | null;
  explanation?: FeatureContribution[] | null;
}

export const AnomalySchema = new EntitySchema<Anomaly>({
  class: Anomaly,
  tableName: 'anomaly',
  uniques: [{ properties: ['jobId', 'rowIndex'] }],
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    jobId: { type: 'string' },
    rowIndex: { type: 'integer' },
    score: { type: 'double' },
    rowId: { type: 'string', nullable: true },
    pValue: { type: 'double', nullable: true },
    explanation: { type: 'json', nullable: true },
  },
});

export const ALL_ENTITIES = [DatasetSchema, ModelSchema, DetectionJobSchema, AnomalySchema, BackupSchema, RecoverySchema];
