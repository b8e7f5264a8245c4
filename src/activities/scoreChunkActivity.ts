import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { BufferPool } from '../data/bufferPool';
import type { CsvIndex } from '../data/csvIndex';
import { DatasetFormatError, DatasetMismatchError } from '../data/datasetError';
import { datasetFormat, type ChunkBlock, type ChunkReadCaches, type ChunkSpec } from '../data/formats';
import { csvShared } from '../data/formats/csv';
import { LruCache } from '../data/lruCache';
import { readDataset } from '../data/readDataset';
import { decodeModel } from '../scoring/codec';
import type { Detector } from '../scoring/detector';
import type { Matrix } from '../scoring/matrix';
import { chunkScoresKey, chunkSegmentsPrefix, segmentScoresKey } from '../storage/keys';
import type { CsvIndexRef } from '../data/rowIndexStore';
import type { ActivityDeps } from './deps';
import { failFastOnPermanent } from './failures';

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
 * The durable cursor every heartbeat of a chunk carries. Blocks [0, blocksDone) have their
 * scores in MinIO (in segment objects: runs of whole blocks, each keyed by its first block) and their
 * anomalies in PostgreSQL, so a retried attempt starts at row `rowsDone`, reading the CSV from
 * byte `nextByte`.
 */
export interface ScoreChunkCursor {
  phase: 'loading' | 'scoring';
  chunkIndex: number;
  blockRows: number;
  blocksDone: number;
  rowsDone: number;
  /** Where the first row not yet done starts, in the format's terms (CSV: its byte offset), when the format resumes by position. */
  nextByte?: number;
  /** Anomalies among the rows done. */
  anomalies: number;
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

/** Rows scored between heartbeats, and the unit a retried attempt resumes at. */
export const SCORE_BLOCK_ROWS = 8192;

/**
 * How often a running chunk makes its scored blocks durable as a segment. Heartbeats reach the
 * server about every 8 s (0.8 × the 10 s heartbeat timeout), so this keeps a retry's loss to
 * about one heartbeat interval, while a chunk that takes under 2 s writes no segment at all.
 */
const SEGMENT_INTERVAL_MS = 2000;

/** Rows per anomaly upsert statement: bounded so one statement stays small whatever the chunk size. */
const UPSERT_BATCH = 5000;

export function createScoreChunkActivities({ orm, store, config, metrics, logger }: ActivityDeps) {
  const models = new LruCache<Detector>(config.scoring.modelCacheSize);
  const caches: ChunkReadCaches = {
    // Row indexes by their sha256 (about 100 KB for 10 million rows): every chunk of a job checks its bytes against one.
    indexes: new LruCache<CsvIndex>(16),
    // Header lines and Parquet footers by dataset: every chunk of a job needs the same one.
    heads: new LruCache<unknown>(16),
    // A chunk's bytes (tens of MB), one buffer per chunk running at once, reused by the next chunk.
    buffers: new BufferPool(config.scoring.maxConcurrentActivities),
  };
  const results = config.buckets.results;

  /** The chunk's rows after those done, block by block, read by its format from the chunk's own bytes. */
  async function* chunkBlocks(input: ScoreChunkInput, spec: ChunkSpec, cursor: ScoreChunkCursor): AsyncGenerator<ChunkBlock> {
    const dataset = { store, bucket: config.buckets.datasets, key: input.datasetKey, sha256: input.datasetSha256 };
    yield* datasetFormat(input.datasetFormat).readChunk(dataset, spec, {
      columns: { featureColumns: input.featureColumns, idColumn: input.idColumn ?? undefined },
      blockRows: SCORE_BLOCK_ROWS,
      rowsDone: cursor.rowsDone,
      resumeAt: cursor.rowsDone > 0 ? cursor.nextByte : undefined,
    }, caches);
  }

  /** Runs started before planDatasetChunks, on a format other than CSV: the whole file is read, then the chunk's remaining rows are sliced into blocks. */
  async function* wholeFileBlocks(input: ScoreChunkInput, rowsDone: number): AsyncGenerator<ChunkBlock> {
    const table = await readDataset(await store.getVerifiedBytes(config.buckets.datasets, input.datasetKey, input.datasetSha256), input.datasetFormat, {
      featureColumns: input.featureColumns,
      idColumn: input.idColumn ?? undefined,
      rowStart: input.rowStart + rowsDone,
      rowEnd: input.rowEnd,
    });
    if (table.features.rows !== input.rowEnd - input.rowStart - rowsDone) {
      throw ApplicationFailure.nonRetryable(`chunk ${input.chunkIndex}: the dataset has ${table.totalRows} rows, fewer than the chunk's end ${input.rowEnd}`, 'DatasetMismatch');
    }
    for (let start = 0; start < table.features.rows; start += SCORE_BLOCK_ROWS) {
      const end = Math.min(start + SCORE_BLOCK_ROWS, table.features.rows);
      yield { features: table.features.sliceRows(start, end), ids: table.ids?.slice(start, end) };
    }
  }

  /**
   * The cursor a retried attempt may resume from, and the segments that hold its rows: a chain
   * from block 0, each segment keyed by its first block, up to the cursor. Whoever wrote a
   * segment (even an attempt that lost its heartbeat and ran on), the object at a block's key
   * holds the scores of the rows from that block on, so any unbroken chain is right.
   */
  async function usableCursor(input: ScoreChunkInput, details: unknown): Promise<{ cursor: ScoreChunkCursor; segments: Array<{ key: string; rows: number }> } | undefined> {
    const cursor = details as Partial<ScoreChunkCursor> | undefined;
    if (!cursor || cursor.chunkIndex !== input.chunkIndex || cursor.blockRows !== SCORE_BLOCK_ROWS) return undefined;
    const { blocksDone, rowsDone, anomalies, nextByte } = cursor;
    if (![blocksDone, rowsDone, anomalies].every(Number.isInteger) || blocksDone! <= 0) return undefined;
    if (rowsDone !== blocksDone! * SCORE_BLOCK_ROWS || rowsDone! >= input.rowEnd - input.rowStart) return undefined;
    const spec = chunkSpecOf(input);
    if (nextByte !== undefined && (!spec || !Number.isInteger(nextByte) || nextByte <= spec.from || nextByte > spec.to)) return undefined;
    if (input.csvRange && nextByte === undefined) return undefined;
    const present = new Set(await store.listKeys(results, chunkSegmentsPrefix(input.jobId, input.chunkIndex)));
    const segments: Array<{ key: string; rows: number }> = [];
    for (let block = 0; block < blocksDone!; ) {
      const key = segmentScoresKey(input.jobId, input.chunkIndex, block);
      const stored = present.has(key) ? await store.stat(results, key) : undefined;
      const blocks = stored ? stored.size / (SCORE_BLOCK_ROWS * 8) : 0;
      if (!stored?.sha256 || !Number.isInteger(blocks) || blocks <= 0) return undefined;
      segments.push({ key, rows: Math.min(blocks, blocksDone! - block) * SCORE_BLOCK_ROWS });
      block += blocks;
    }
    return { cursor: cursor as ScoreChunkCursor, segments };
  }

  async function removeSegments(input: ScoreChunkInput): Promise<void> {
    await store.removeMany(results, await store.listKeys(results, chunkSegmentsPrefix(input.jobId, input.chunkIndex)));
  }

  return {
    /**
     * Scores rows [rowStart, rowEnd), a CSV chunk read by byte range, block by block, with a
     * heartbeat after each block. Every SEGMENT_INTERVAL_MS or so, the blocks scored since the
     * last segment are written as one segment object (their anomalies are upserted in one
     * statement before that), and only then does the heartbeat's cursor move past them. A retried
     * attempt resumes after the last segment its heartbeat names (reading the CSV from that
     * byte on), so it never scores a durable row again and never loses one. The chunk's score
     * file is assembled from the segments and this attempt's blocks in row order: exactly the
     * chunk's rows. A block done again after a lost heartbeat overwrites itself (same segment
     * key, anomalies upserted on (job, row)). A fast chunk writes no segment at all.
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
            await removeSegments(input);
            const anomalies = await countAnomalies(orm, input);
            return { chunkIndex: input.chunkIndex, rows: chunkRows, anomalies, scoresKey, resumedFromRow: chunkRows, rowsScoredThisAttempt: 0, attempt };
          }
        }
        const resumed = attempt > 1 ? await usableCursor(input, heartbeatDetails) : undefined;
        const cursor: ScoreChunkCursor = resumed
          ? { ...resumed.cursor, phase: 'loading' }
          : { phase: 'loading', chunkIndex: input.chunkIndex, blockRows: SCORE_BLOCK_ROWS, blocksDone: 0, rowsDone: 0, nextByte: input.csvRange?.byteStart, anomalies: 0 };
        const spec = chunkSpecOf(input);
        const resumedFromRow = cursor.rowsDone;
        if (resumed) {
          logger.info({ jobId: input.jobId, chunkIndex: input.chunkIndex, attempt, resumedFromRow }, 'scoreChunk resumes from its last heartbeat');
        }
        context.heartbeat({ ...cursor });

        const detector = await models.getOrLoad(input.modelSha256, async () =>
          decodeModel(await store.getVerifiedBytes(config.buckets.models, input.modelArtifactKey, input.modelSha256)),
        );
        const blocks = spec ? chunkBlocks(input, spec, cursor) : wholeFileBlocks(input, cursor.rowsDone);
        // The chunk's score file: the segments of earlier attempts go first (at the end), then every block this attempt scores.
        const file = new Float64Array(chunkRows);
        // Scored blocks not yet in a segment (the rows after cursor.rowsDone): their rows, anomalies and where they end.
        const pending = { blocks: 0, rows: 0, anomalies: 0, nextByte: cursor.nextByte };
        let segmentsWritten = 0;
        let lastSegmentAt = Date.now();
        // Anomalies of scored blocks not yet in PostgreSQL: upserted in one go before their rows become durable.
        let unsaved: AnomalyRow[] = [];
        const saveAnomalies = async () => {
          await upsertAnomalies(orm, input.jobId, unsaved);
          unsaved = [];
        };
        /** Stores the pending blocks' anomalies, writes their scores as the next segment, then moves the cursor past them. */
        const writeSegment = async () => {
          if (pending.blocks === 0) return;
          await saveAnomalies();
          const segment = file.subarray(cursor.rowsDone, cursor.rowsDone + pending.rows);
          await store.putBytes(results, segmentScoresKey(input.jobId, input.chunkIndex, cursor.blocksDone), asBytes(segment));
          segmentsWritten += 1;
          Object.assign(cursor, {
            blocksDone: cursor.blocksDone + pending.blocks,
            rowsDone: cursor.rowsDone + pending.rows,
            anomalies: cursor.anomalies + pending.anomalies,
            nextByte: pending.nextByte,
          });
          Object.assign(pending, { blocks: 0, rows: 0, anomalies: 0 });
          lastSegmentAt = Date.now();
        };
        const stopTimer = metrics.modelLatency.startTimer();
        cursor.phase = 'scoring';
        // Score in blocks with a heartbeat between them: a slow detector (KNN, LOF) on a big
        // chunk must not look dead to Temporal, a cancelled job stops within a block, and a
        // retry resumes after the last segment a heartbeat named.
        let scoredRows = cursor.rowsDone;
        let anomalies = cursor.anomalies;
        try {
          for (;;) {
            let next: IteratorResult<ChunkBlock>;
            try {
              next = await blocks.next();
            } catch (err) {
              if (err instanceof DatasetMismatchError) throw ApplicationFailure.nonRetryable(`chunk ${input.chunkIndex}: ${err.message}`, 'DatasetMismatch');
              if (err instanceof DatasetFormatError && err.line !== undefined && err.line > 1) {
                // Keep what was scored before the bad row: its anomalies are stored, its scores go to a segment.
                await writeSegment();
                throw malformedRow(input, err, scoredRows);
              }
              throw err;
            }
            if (next.done) break;
            const block = next.value;
            if (scoredRows + block.features.rows > chunkRows) break; // reported as a row count mismatch below
            const scores = file.subarray(scoredRows, scoredRows + block.features.rows);
            detector.score(block.features, scores);
            metrics.predictions.inc(scores.length);
            const found = collectAnomalies(input.rowStart + scoredRows, detector.threshold, scores, block.ids, unsaved);
            scoredRows += scores.length;
            anomalies += found;
            // The last block goes straight into the chunk's score file below.
            if (scoredRows === chunkRows) break;
            Object.assign(pending, { blocks: pending.blocks + 1, rows: pending.rows + scores.length, anomalies: pending.anomalies + found, nextByte: block.next });
            if (Date.now() - lastSegmentAt >= SEGMENT_INTERVAL_MS) await writeSegment();
            context.heartbeat({ ...cursor });
            await new Promise((resolve) => setImmediate(resolve)); // let the heartbeat go out
            // A cancelled job (or a timed-out attempt) stops here, between blocks: nothing after
            // this point writes anomalies the workflow has already stopped counting.
            if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
          }
        } finally {
          await blocks.return(undefined); // hands the chunk's read buffer back, also when the loop ended early
        }
        stopTimer();
        await saveAnomalies();
        if (scoredRows !== chunkRows) {
          throw ApplicationFailure.nonRetryable(`chunk ${input.chunkIndex}: scored ${scoredRows} rows, expected ${chunkRows}`, 'DatasetMismatch');
        }

        // The earlier attempts' segments (verified) before this attempt's blocks.
        const fileBytes = Buffer.from(file.buffer);
        let offset = 0;
        for (const segment of resumed?.segments ?? []) {
          const bytes = await store.getVerifiedBytes(results, segment.key);
          if (bytes.length < segment.rows * 8) throw new Error(`chunk ${input.chunkIndex}: ${segment.key} holds ${bytes.length / 8} scores, fewer than ${segment.rows}`);
          bytes.copy(fileBytes, offset * 8, 0, segment.rows * 8);
          offset += segment.rows;
        }
        if (offset !== resumedFromRow) throw new Error(`chunk ${input.chunkIndex}: segments hold ${offset} rows, the cursor says ${resumedFromRow}`);
        await store.putBytes(results, scoresKey, asBytes(file));
        // An earlier attempt may have left segments even when its cursor was of no use.
        if (attempt > 1 || segmentsWritten > 0) await removeSegments(input);
        return {
          chunkIndex: input.chunkIndex,
          rows: chunkRows,
          anomalies,
          scoresKey,
          resumedFromRow,
          rowsScoredThisAttempt: chunkRows - resumedFromRow,
          attempt,
        };
      });
    },
  };
}

/** The chunk as its format reads it: the planned spec, or a run's CSV range from before planDatasetChunks. */
function chunkSpecOf(input: ScoreChunkInput): ChunkSpec | undefined {
  if (input.chunk) return input.chunk;
  const range = input.csvRange;
  return range && { rowStart: input.rowStart, rowEnd: input.rowEnd, from: range.byteStart, to: range.byteEnd, shared: csvShared(range.headerEnd, range.index) };
}

function asBytes(scores: Float64Array): Uint8Array {
  return new Uint8Array(scores.buffer, scores.byteOffset, scores.byteLength);
}

/** A malformed row: fail the job (no retry fixes the file), naming the line and the column. */
function malformedRow(input: ScoreChunkInput, err: DatasetFormatError, rowsPersisted: number): ApplicationFailure {
  const where = err.column !== undefined && !err.message.includes('column "') && err.line !== undefined
    ? err.message.replace(`line ${err.line}`, `line ${err.line}, column "${err.column}"`)
    : err.message;
  const details: MalformedRowDetails = { chunkIndex: input.chunkIndex, line: err.line, column: err.column, rowsPersisted };
  return ApplicationFailure.create({
    message: `malformed row in dataset ${input.datasetKey}: ${where} (chunk ${input.chunkIndex}, rows ${input.rowStart + 1}-${input.rowEnd}; the job stops and keeps only the rows scored before it, as partial results)`,
    type: 'MalformedRow',
    nonRetryable: true,
    details: [details],
  });
}

async function countAnomalies(orm: ActivityDeps['orm'], input: ScoreChunkInput): Promise<number> {
  const [{ count }] = await orm.em
    .fork()
    .getConnection()
    .execute<Array<{ count: string }>>('select count(*) as count from anomaly where job_id = ? and row_index >= ? and row_index < ?', [input.jobId, input.rowStart, input.rowEnd]);
  return Number(count);
}

interface AnomalyRow {
  row_index: number;
  score: number;
  row_id: string | null;
}

/** Adds the block's rows over the threshold to `into`; returns how many there were. */
function collectAnomalies(firstRow: number, threshold: number, scores: Float64Array, ids: string[] | undefined, into: AnomalyRow[]): number {
  const before = into.length;
  for (let i = 0; i < scores.length; i++) {
    if (scores[i] > threshold) into.push({ row_index: firstRow + i, score: scores[i], row_id: ids ? ids[i] : null });
  }
  return into.length - before;
}

/** Upserts on (job, row): rows stored by an earlier attempt are overwritten with the same values, never doubled. */
async function upsertAnomalies(orm: ActivityDeps['orm'], jobId: string, rows: AnomalyRow[]): Promise<void> {
  if (rows.length === 0) return;
  const connection = orm.em.fork().getConnection();
  for (let start = 0; start < rows.length; start += UPSERT_BATCH) {
    const batch = rows.slice(start, start + UPSERT_BATCH);
    await connection.execute(
      `insert into anomaly (job_id, row_index, score, row_id)
       select ?, r.row_index, r.score, r.row_id
       from json_to_recordset(?::json) as r(row_index integer, score double precision, row_id text)
       on conflict (job_id, row_index) do update set score = excluded.score, row_id = excluded.row_id`,
      [jobId, JSON.stringify(batch)],
    );
  }
}
