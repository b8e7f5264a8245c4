import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { BufferPool } from '../data/bufferPool';
import type { CsvIndex } from '../data/csvIndex';
import { DatasetMismatchError, type DatasetFormatError } from '../data/datasetError';
import { datasetFormat, type ChunkBlock, type ChunkReadCaches, type ChunkSpec } from '../data/formats';
import { csvShared } from '../data/formats/csv';
import { SNAPSHOT_FORMAT } from '../data/formats/names';
import { LruCache } from '../data/lruCache';
import { readDataset } from '../data/readDataset';
import type { CsvIndexRef } from '../data/rowIndexStore';
import { countRangeAnomalies, upsertAnomalies } from '../db/anomalies';
import { removeSegments, SCORE_BLOCK_ROWS, startCursor, usableCursor, writeChunkScores, type ScoreChunkCursor } from '../results/chunkCursor';
import { ChunkScorer, MalformedChunkRowError } from '../results/chunkScoring';
import { decodeModelFile, type ModelFile } from '../scoring/modelFile';
import { ChunkFlagger, FlaggingRuleError } from '../results/chunkFlagging';
import type { ChunkFlagging } from '../api/threshold';
import { chunkScoresKey } from '../storage/keys';
import type { ActivityDeps } from './deps';
import { failFastOnPermanent } from './failures';
import { datasetReader } from '../sources/datasetReader';
import { modelEncoder } from '../scoring/encoder';
import type { Detector } from '../scoring/detector';
import type { FeatureCellType } from '../data/cellValues';

export { SCORE_BLOCK_ROWS, type ScoreChunkCursor } from '../results/chunkCursor';

export interface ScoreChunkInput {
  jobId: string;
  chunkIndex: number;
  rowStart: number;
  rowEnd: number;
  /**
   * The chunk as planDatasetChunks listed it (rows [rowStart, rowEnd) and, opaque here, where
   * its format finds them): the chunk reads only its own bytes.
   */
  chunk?: ChunkSpec;
  /**
   * Runs started before planDatasetChunks: where a CSV chunk's rows sit (from planCsvChunks).
   * Such a run's chunk of another format reads the whole file, as it did.
   */
  csvRange?: { byteStart: number; byteEnd: number; headerEnd: number; index?: CsvIndexRef };
  datasetKey: string;
  datasetSha256: string;
  /** csv, jsonl or parquet: the name of the format module that reads the chunk. */
  datasetFormat: string;
  featureColumns: string[];
  idColumn: string | null;
  modelArtifactKey: string;
  modelSha256: string;
  /** The job's rule and explanations (absent in runs from before them: the model's threshold, nothing explained). */
  flagging?: ChunkFlagging;
}

export interface ScoreChunkResult {
  chunkIndex: number;
  rows: number;
  anomalies: number;
  scoresKey: string;
  /** Rows an earlier attempt had made durable, which this attempt took from its heartbeat instead of scoring again (0 on a fresh start). */
  resumedFromRow?: number;
  /** Rows this attempt scored itself. */
  rowsScoredThisAttempt?: number;
  attempt?: number;
}

/**
 * A row the chunk cannot read (wrong column count, a cell that is not a number): no retry can
 * fix it. The failure's details say where, and how many of the chunk's rows before it are kept.
 */
export interface MalformedRowDetails {
  chunkIndex: number;
  line?: number;
  column?: string;
  /** Rows of this chunk before the block with the bad row: scored, their anomalies and scores stored. */
  rowsPersisted: number;
}

export function createScoreChunkActivities({ orm, store, config, metrics, logger }: ActivityDeps) {
  const models = new LruCache<ModelFile>(config.scoring.modelCacheSize);
  const caches: ChunkReadCaches = {
    // Row indexes by their sha256 (about 100 KB for 10 million rows): every chunk of a job checks its bytes against one.
    indexes: new LruCache<CsvIndex>(16),
    // Header lines and Parquet footers by dataset: every chunk of a job needs the same one.
    heads: new LruCache<unknown>(16),
    // A chunk's bytes (tens of MB), one buffer per chunk running at once, reused by the next chunk.
    buffers: new BufferPool(config.scoring.maxConcurrentActivities),
  };
  const results = config.buckets.results;
  const storedDataset = datasetReader(config, store);

  /** The chunk's rows after those done, block by block, read by its format from the chunk's own bytes. */
  async function* chunkBlocks(input: ScoreChunkInput, spec: ChunkSpec, cursor: ScoreChunkCursor, cellTypes: CellTypes): AsyncGenerator<ChunkBlock> {
    const dataset = storedDataset(input.datasetKey, input.datasetSha256);
    yield* datasetFormat(input.datasetFormat).readChunk(dataset, spec, {
      columns: { featureColumns: input.featureColumns, idColumn: input.idColumn ?? undefined, ...cellTypes },
      blockRows: SCORE_BLOCK_ROWS,
      rowsDone: cursor.rowsDone,
      resumeAt: cursor.rowsDone > 0 ? cursor.nextByte : undefined,
    }, caches);
  }

  /** Runs started before planDatasetChunks, on a format other than CSV: the whole file is read, then the chunk's remaining rows are sliced into blocks. */
  async function* wholeFileBlocks(input: ScoreChunkInput, rowsDone: number, cellTypes: CellTypes): AsyncGenerator<ChunkBlock> {
    const table = await readDataset(await store.getVerifiedBytes(config.buckets.datasets, input.datasetKey, input.datasetSha256), input.datasetFormat, {
      featureColumns: input.featureColumns,
      ...cellTypes,
      idColumn: input.idColumn ?? undefined,
      rowStart: input.rowStart + rowsDone,
      rowEnd: input.rowEnd,
    });
    if (table.features.rows !== input.rowEnd - input.rowStart - rowsDone) {
      throw new DatasetMismatchError(`the dataset has ${table.totalRows} rows, fewer than the chunk's end ${input.rowEnd}`);
    }
    for (let start = 0; start < table.features.rows; start += SCORE_BLOCK_ROWS) {
      const end = Math.min(start + SCORE_BLOCK_ROWS, table.features.rows);
      yield { features: table.features.sliceRows(start, end), ids: table.ids?.slice(start, end) };
    }
  }

  /** The chunk's segments: in the results bucket, keyed by job, chunk and first block. */
  const dropSegments = (input: ScoreChunkInput) => removeSegments(store, results, input.jobId, input.chunkIndex);

  return {
    /**
     * Scores rows [rowStart, rowEnd), read by the chunk's format from its own bytes, block by
     * block with a heartbeat of the durable cursor after each (src/results/chunkScoring.ts). A
     * retried attempt resumes after the last segment its heartbeat names, so it never scores a
     * durable row again and never loses one. The chunk's score file is assembled from the
     * segments and this attempt's blocks in row order: exactly the chunk's rows. A block done
     * again after a lost heartbeat overwrites itself (same segment key, anomalies upserted on
     * (job, row)). A fast chunk writes no segment at all.
     */
    async scoreChunk(input: ScoreChunkInput): Promise<ScoreChunkResult> {
      return failFastOnPermanent(async () => {
        const context = Context.current();
        const { attempt, heartbeatDetails } = context.info;
        const chunkRows = input.rowEnd - input.rowStart;
        const scoresKey = chunkScoresKey(input.jobId, input.chunkIndex);

        if (attempt > 1) {
          // An earlier attempt may have written the chunk's score file and died before reporting.
          const written = await store.stat(results, scoresKey);
          if (written?.sha256 && written.size === chunkRows * 8) {
            await dropSegments(input);
            const anomalies = await countRangeAnomalies(orm.em.fork(), input.jobId, input.rowStart, input.rowEnd);
            return { chunkIndex: input.chunkIndex, rows: chunkRows, anomalies, scoresKey, resumedFromRow: chunkRows, rowsScoredThisAttempt: 0, attempt };
          }
        }
        const spec = chunkSpecOf(input);
        const resumed =
          attempt > 1
            ? await usableCursor(store, results, { jobId: input.jobId, chunkIndex: input.chunkIndex, chunkRows, range: spec, needsNextByte: input.csvRange !== undefined }, heartbeatDetails)
            : undefined;
        const cursor: ScoreChunkCursor = resumed ? { ...resumed.cursor, phase: 'loading' } : startCursor(input.chunkIndex, input.csvRange?.byteStart);
        const resumedFromRow = cursor.rowsDone;
        if (resumed) {
          logger.info({ jobId: input.jobId, chunkIndex: input.chunkIndex, attempt, resumedFromRow }, 'scoreChunk resumes from its last heartbeat');
        }
        context.heartbeat({ ...cursor });

        const model = await models.getOrLoad(input.modelSha256, async () =>
          decodeModelFile(await store.getVerifiedBytes(config.buckets.models, input.modelArtifactKey, input.modelSha256)),
        );
        const { detector } = model;
        let flagger: ChunkFlagger;
        try {
          flagger = new ChunkFlagger(model, input.featureColumns, input.flagging);
        } catch (err) {
          if (err instanceof FlaggingRuleError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidInput');
          throw err;
        }
        const cellTypes = cellTypesOf(detector, input.featureColumns);
        const blocks = spec ? chunkBlocks(input, spec, cursor, cellTypes) : wholeFileBlocks(input, cursor.rowsDone, cellTypes);
        const scorer = new ChunkScorer(
          {
            jobId: input.jobId, chunkIndex: input.chunkIndex, firstRow: input.rowStart, chunkRows, store, bucket: results, detector, flagger,
            saveAnomalies: (rows) => upsertAnomalies(orm.em.fork(), input.jobId, rows),
            onScored: (rows) => metrics.predictions.inc(rows),
          },
          cursor,
        );
        const stopTimer = metrics.modelLatency.startTimer();
        cursor.phase = 'scoring';
        // Score in blocks with a heartbeat between them: a slow detector (KNN, LOF) on a big
        // chunk must not look dead to Temporal, a cancelled job stops within a block, and a
        // retry resumes after the last segment a heartbeat named.
        const scored = await scorer
          .scoreBlocks(blocks, async () => {
            context.heartbeat({ ...cursor });
            await new Promise((resolve) => setImmediate(resolve)); // let the heartbeat go out
            // A cancelled job (or a timed-out attempt) stops here, between blocks: nothing after
            // this point writes anomalies the workflow has already stopped counting.
            if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
          })
          .catch((err: unknown) => {
            if (err instanceof DatasetMismatchError) throw ApplicationFailure.nonRetryable(`chunk ${input.chunkIndex}: ${err.message}`, 'DatasetMismatch');
            if (err instanceof MalformedChunkRowError) throw malformedRow(input, err.reason, err.rowsPersisted);
            throw err;
          });
        stopTimer();
        await scorer.saveAnomalies();
        if (scored.rows !== chunkRows) {
          throw ApplicationFailure.nonRetryable(`chunk ${input.chunkIndex}: scored ${scored.rows} rows, expected ${chunkRows}`, 'DatasetMismatch');
        }
        await writeChunkScores(store, results, { chunkIndex: input.chunkIndex, scoresKey, resumedFromRow }, resumed?.segments ?? [], scorer.file);
        // An earlier attempt may have left segments even when its cursor was of no use.
        if (attempt > 1 || scorer.segmentsWritten > 0) await dropSegments(input);
        return { chunkIndex: input.chunkIndex, rows: chunkRows, anomalies: scored.anomalies, scoresKey, resumedFromRow, rowsScoredThisAttempt: chunkRows - resumedFromRow, attempt };
      });
    },
  };
}

type CellTypes = { cellTypes?: Record<string, FeatureCellType> };

/**
 * How the model's columns are read: its encoder's column kinds (the model file is the one record
 * of them, loaded here anyway), or nothing for a model of numbers only.
 */
function cellTypesOf(detector: Detector, featureColumns: readonly string[]): CellTypes {
  const kinds = modelEncoder(detector)?.kinds();
  if (!kinds) return {};
  // fromEntries defines own properties: a column named __proto__ is a key like any other.
  const cellTypes: Record<string, FeatureCellType> = Object.fromEntries(kinds.flatMap((kind, c) => (kind !== 'number' ? [[featureColumns[c], kind] as const] : [])));
  return { cellTypes };
}

/** The chunk as its format reads it: the planned spec, or a run's CSV range from before planDatasetChunks. */
function chunkSpecOf(input: ScoreChunkInput): ChunkSpec | undefined {
  if (input.chunk) return input.chunk;
  const range = input.csvRange;
  return range && { rowStart: input.rowStart, rowEnd: input.rowEnd, from: range.byteStart, to: range.byteEnd, shared: csvShared(range.headerEnd, range.index) };
}

/** A malformed row: fail the job (no retry fixes the file), naming the line and the column. */
function malformedRow(input: ScoreChunkInput, err: DatasetFormatError, rowsPersisted: number): ApplicationFailure {
  const where = err.column !== undefined && !err.message.includes('column "') && err.line !== undefined
    ? err.message.replace(`line ${err.line}`, `line ${err.line}, column "${err.column}"`)
    : err.message;
  const details: MalformedRowDetails = { chunkIndex: input.chunkIndex, line: err.line, column: err.column, rowsPersisted };
  return ApplicationFailure.create({
    message: `malformed row in ${input.datasetFormat === SNAPSHOT_FORMAT ? 'source snapshot' : 'dataset'} ${input.datasetKey}: ${where} (chunk ${input.chunkIndex}, rows ${input.rowStart + 1}-${input.rowEnd}; the job stops and keeps only the rows scored before it, as partial results)`,
    type: 'MalformedRow',
    nonRetryable: true,
    details: [details],
  });
}
