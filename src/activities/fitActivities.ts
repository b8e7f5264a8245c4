import { datasetFormat } from '../data/formats';
import { SNAPSHOT_FORMAT } from '../data/formats/names';
import { snapshotRows } from '../data/formats/snapshotRows';
import { datasetReader } from '../sources/datasetReader';
import { isHeldOut, RowReservoir } from '../data/reservoir';
import { codeVersion } from '../config/codeVersion';
import { encodeModelFile, featureQuantilesOf } from '../scoring/modelFile';
import { averagePrecision, rocAuc } from '../scoring/metrics';
import { fitDetector, fitPipeline, getDetectorFactory } from '../scoring/registry';
import { checkNoMissing, countMissing, DEFAULT_MISSING_POLICY, Imputed, type MissingPolicy } from '../scoring/imputer';
import { Encoded, Encoder, type ColumnKind } from '../scoring/encoder';
import type { FeatureCellType } from '../data/cellValues';
import type { Detector } from '../scoring/detector';
import type { Matrix } from '../scoring/matrix';
import { heartbeat } from './heartbeat';
import type { ActivityDeps } from './deps';
import { failFastOnPermanent } from './failures';

export interface FitModelInput {
  datasetKey: string;
  datasetSha256: string;
  /** csv, jsonl or parquet (absent in histories from before formats: csv). */
  datasetFormat?: string;
  featureColumns: string[];
  labelColumn: string | null;
  /** Feature columns that are categories or timestamps (absent: all numbers, as in histories from before them). */
  cellTypes?: Record<string, FeatureCellType>;
  /** The zone timestamp features count hours and weekdays in (default UTC). */
  timeZone?: string;
  algorithm: string;
  /** The detector's options as the user gave them; the detector validates them. */
  params: Record<string, unknown>;
  standardize: 'none' | 'zscore' | 'robust';
  /** Missing feature values (default "median"); absent in histories from before missing values were read. */
  missing?: MissingPolicy;
  artifactKey: string;
  /** Seeds the reservoir sample and the held-out split. */
  seed?: number;
  /** Rows to fit on, sampled while streaming (default: the registry's trainingRows for the algorithm). */
  maxTrainRows?: number;
}

export interface FitModelResult {
  artifactSha256: string;
  artifactBytes: number;
  threshold: number;
  /** Rows the detector was fitted on (the reservoir sample). */
  trainRows: number;
  params: Record<string, number>;
  /**
   * With labels: heldOutRocAuc and heldOutAveragePrecision on the seeded held-out split (rows
   * the model never saw), heldOutRows and heldOutAnomalies. Also datasetRows, rowsPerSecond.
   */
  metrics: Record<string, number>;
  codeVersion: string;
}

/** Share of labelled rows held out for evaluation. */
export const HOLD_OUT_FRACTION = 0.2;
/**
 * Category texts kept while streaming, for the model's level names and displayed values: a
 * column of millions of distinct values must not hold them all. A level whose text came later
 * is named by its code.
 */
export const MAX_CATEGORY_TEXTS = 200_000;
/** At most this many held-out rows are scored (a seeded reservoir of them). */
export const MAX_EVAL_ROWS = 200_000;
/**
 * Share of the unlabelled rows held out of training as calibration rows: their scores, kept in
 * the model file, are what conformal p-values (the fdr threshold rule) count against.
 */
export const CALIBRATION_FRACTION = 0.2;
/**
 * At most this many calibration rows are kept (a seeded reservoir). The smallest p-value n
 * calibration scores allow is 1/(n+1), and Benjamini–Hochberg flags k of m rows only if
 * 1/(n+1) ≤ α·k/m: 50,000 let an fdr rule at α = 0.01 flag a share of 0.2% or more.
 */
export const MAX_CALIBRATION_ROWS = 50_000;

export function createFitActivities({ store, config }: ActivityDeps) {
  const storedDataset = datasetReader(config, store);
  /** The dataset streamed in batches, or a pinned source read chunk by chunk. */
  function trainingBatches(input: FitModelInput) {
    if (input.datasetFormat === SNAPSHOT_FORMAT) return snapshotRows(storedDataset(input.datasetKey, input.datasetSha256), input.featureColumns, input.cellTypes);
    const source = store.streamVerified(config.buckets.datasets, input.datasetKey, input.datasetSha256);
    const typed = input.cellTypes ? { cellTypes: input.cellTypes, withCategoryText: true } : {};
    return datasetFormat(input.datasetFormat ?? 'csv').batches(source, { featureColumns: input.featureColumns, labelColumn: input.labelColumn ?? undefined, ...typed });
  }
  return {
    /**
     * Streams the dataset once, keeping a seeded reservoir sample of training rows (and, when
     * the dataset has labels, of held-out rows), fits on the sample, evaluates on the held-out
     * rows and writes the artifact to a deterministic key. Same seed and data give the same bytes,
     * so a retry after a crash overwrites the object with identical content.
     */
    async fitModel(input: FitModelInput): Promise<FitModelResult> {
      return failFastOnPermanent(async () => {
        const seed = input.seed ?? 0;
        const capacity = input.maxTrainRows ?? getDetectorFactory(input.algorithm).trainingRows(input.params);
        const d = input.featureColumns.length;
        const train = new RowReservoir(capacity, d, seed);
        const heldOut = input.labelColumn ? new RowReservoir(MAX_EVAL_ROWS, d, seed + 1) : undefined;
        const calibration = new RowReservoir(MAX_CALIBRATION_ROWS, d, seed + 2);
        const started = Date.now();
        let rows = 0;
        let lastBeat = 0;
        const missing = input.missing ?? DEFAULT_MISSING_POLICY;
        // Over the whole dataset, not only the sample: a column missing anywhere gets an indicator.
        const missingSeen = new Float64Array(d);
        const kinds: ColumnKind[] = input.featureColumns.map((c) => (input.cellTypes && Object.hasOwn(input.cellTypes, c) ? input.cellTypes[c] : 'number'));
        const texts = new Map<number, string>();
        for await (const batch of trainingBatches(input)) {
          const batchTexts = (batch as { categoryText?: Map<number, string> }).categoryText;
          if (batchTexts) for (const [code, text] of batchTexts) if (texts.size < MAX_CATEGORY_TEXTS) texts.set(code, text);
          if (missing === 'reject') checkNoMissing(batch.features, input.featureColumns, (r) => `row ${batch.firstRow + r + 1}`);
          else countMissing(batch.features, missingSeen);
          const data = batch.features.data;
          const labels = batch.labels;
          for (let r = 0; r < batch.features.rows; r++) {
            const index = batch.firstRow + r;
            if (heldOut && labels && isHeldOut(index, seed, HOLD_OUT_FRACTION)) heldOut.offer(data, r, labels[r]);
            // With labels, calibration keeps to rows labelled normal: p-values then measure "unlike the normal rows".
            else if (isHeldOut(index, seed + 2, CALIBRATION_FRACTION) && !(labels && labels[r] !== 0)) calibration.offer(data, r, 0);
            else train.offer(data, r, labels ? labels[r] : 0);
          }
          rows += batch.features.rows;
          if (Date.now() - lastBeat > 5000) {
            lastBeat = Date.now();
            heartbeat({ phase: 'reading', rows });
          }
        }
        const readSeconds = (Date.now() - started) / 1000;
        heartbeat({ phase: 'fitting', rows });
        const X = train.rows();
        const fitOn = (M: Matrix): Detector =>
          input.standardize === 'none'
            ? fitDetector(input.algorithm, M, input.params)
            : fitPipeline(input.algorithm, M, { standardize: input.standardize, options: input.params });
        // Data without a missing value gets today's model, byte for byte: no imputation stage.
        const fitImputed = (M: Matrix, seen: Float64Array): Detector => (missing !== 'reject' && seen.some((n) => n > 0) ? Imputed.fitWith(M, missing, fitOn, seen) : fitOn(M));
        // encode → impute → detect: the encoder's timestamp features are missing where the timestamp is, for the imputer to fill.
        // Numbers only: no encoder, so the model is what it was before categories existed.
        const detector = Encoder.needed(kinds)
          ? Encoded.fitWith(X, { kinds, timeZone: input.timeZone, texts }, (encoded, encoder) => fitImputed(encoded, encoder.outputMissing(missingSeen)))
          : fitImputed(X, missingSeen);
        // Sorted, as conformal p-values take them; none when the data had too few rows to spare any.
        const calibrationScores = calibration.size > 0 ? detector.score(calibration.rows()).sort() : undefined;
        const artifact = encodeModelFile({ detector, calibrationScores, featureQuantiles: featureQuantilesOf(X) });
        const stored = await store.putBytes(config.buckets.models, input.artifactKey, artifact);
        const metrics: Record<string, number> = {
          datasetRows: rows,
          readRowsPerSecond: Math.round(rows / Math.max(readSeconds, 1e-3)),
          calibrationScores: calibration.size,
        };
        if (heldOut && heldOut.size > 0) {
          const labels = heldOut.sampleLabels();
          const positives = labels.reduce((n, v) => n + v, 0);
          metrics.heldOutRows = heldOut.size;
          metrics.heldOutAnomalies = positives;
          if (positives > 0 && positives < labels.length) {
            const scores = detector.score(heldOut.rows());
            metrics.heldOutRocAuc = rocAuc(labels, scores);
            metrics.heldOutAveragePrecision = averagePrecision(labels, scores);
          }
        }
        return {
          artifactSha256: stored.sha256,
          artifactBytes: stored.size,
          threshold: detector.threshold,
          trainRows: X.rows,
          params: { ...detector.params },
          metrics,
          codeVersion: codeVersion(),
        };
      });
    },
  };
}
