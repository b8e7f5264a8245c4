/**
 * Scores one chunk's rows block by block with a durable cursor. Every SEGMENT_INTERVAL_MS or so,
 * the blocks scored since the last segment become durable: their anomalies are upserted first,
 * then their scores are written as one segment object, and only then does the cursor move past
 * them. The caller heartbeats the cursor between blocks (and stops there when cancelled), so a
 * retried attempt resumes after the last segment a heartbeat named: it never scores a durable
 * row again and never loses one.
 */
import { DatasetFormatError } from '../data/datasetError';
import type { ChunkBlock } from '../data/formats';
import type { AnomalyRow } from '../db/anomalies';
import type { Detector } from '../scoring/detector';
import { segmentScoresKey } from '../storage/keys';
import type { ObjectStore } from '../storage/objectStore';
import { scoreBytes, type ScoreChunkCursor } from './chunkCursor';
import type { ChunkFlagger } from './chunkFlagging';

/**
 * How often a running chunk makes its scored blocks durable as a segment. Heartbeats reach the
 * server about every 8 s (0.8 × the 10 s heartbeat timeout), so this keeps a retry's loss to
 * about one heartbeat interval, while a chunk that takes under 2 s writes no segment at all.
 */
const SEGMENT_INTERVAL_MS = 2000;

/** A row of the chunk its format cannot read, after the rows scored before its block were made durable. */
export class MalformedChunkRowError extends Error {
  constructor(
    readonly reason: DatasetFormatError,
    /** Rows of the chunk before the block with the bad row: scored, their anomalies and scores stored. */
    readonly rowsPersisted: number,
  ) {
    super(reason.message);
    this.name = 'MalformedChunkRowError';
  }
}

export interface ScoredChunk {
  jobId: string;
  chunkIndex: number;
  /** The dataset row of the chunk's first row. */
  firstRow: number;
  chunkRows: number;
  /** The results bucket, where segments go. */
  store: ObjectStore;
  bucket: string;
  detector: Detector;
  /** Picks the rows to store as anomalies (or candidates), with their p-values and top features. */
  flagger: ChunkFlagger;
  /** Stores anomalies (upserted on job and row, so a block done twice is stored once). */
  saveAnomalies: (rows: AnomalyRow[]) => Promise<void>;
  /** Counts scored rows (metrics). */
  onScored: (rows: number) => void;
}

export class ChunkScorer {
  /** The chunk's score file: the segments of earlier attempts go first (at the end), then every block this attempt scores. */
  readonly file: Float64Array;
  segmentsWritten = 0;
  /** Scored blocks not yet in a segment (the rows after cursor.rowsDone): their rows, anomalies and where they end. */
  private readonly pending: { blocks: number; rows: number; anomalies: number; nextByte: number | undefined };
  private lastSegmentAt = Date.now();
  /** Anomalies of scored blocks not yet in PostgreSQL: upserted in one go before their rows become durable. */
  private unsaved: AnomalyRow[] = [];

  constructor(
    private readonly chunk: ScoredChunk,
    /** Moves as segments become durable; the caller heartbeats it. */
    readonly cursor: ScoreChunkCursor,
  ) {
    this.file = new Float64Array(chunk.chunkRows);
    this.pending = { blocks: 0, rows: 0, anomalies: 0, nextByte: cursor.nextByte };
  }

  /**
   * Scores the blocks after the cursor into `file`, calling `betweenBlocks` after each block but
   * the last. Returns the rows now scored (from the chunk's start) and the anomalies among them.
   * A malformed row past the header stops it with a MalformedChunkRowError, after a last segment.
   */
  async scoreBlocks(blocks: AsyncGenerator<ChunkBlock>, betweenBlocks: () => Promise<void>): Promise<{ rows: number; anomalies: number }> {
    const { cursor, file, pending, chunk } = this;
    let scoredRows = cursor.rowsDone;
    let anomalies = cursor.anomalies;
    try {
      for (;;) {
        let next: IteratorResult<ChunkBlock>;
        try {
          next = await blocks.next();
        } catch (err) {
          if (err instanceof DatasetFormatError && err.line !== undefined && err.line > 1) {
            // Keep what was scored before the bad row: its anomalies are stored, its scores go to a segment.
            await this.writeSegment();
            throw new MalformedChunkRowError(err, scoredRows);
          }
          throw err;
        }
        if (next.done) break;
        const block = next.value;
        if (scoredRows + block.features.rows > chunk.chunkRows) break; // reported as a row count mismatch by the caller
        const scores = file.subarray(scoredRows, scoredRows + block.features.rows);
        chunk.detector.score(block.features, scores);
        chunk.onScored(scores.length);
        const found = chunk.flagger.collect(chunk.firstRow + scoredRows, scores, block, this.unsaved);
        scoredRows += scores.length;
        anomalies += found;
        // The last block goes straight into the chunk's score file.
        if (scoredRows === chunk.chunkRows) break;
        Object.assign(pending, { blocks: pending.blocks + 1, rows: pending.rows + scores.length, anomalies: pending.anomalies + found, nextByte: block.next });
        if (Date.now() - this.lastSegmentAt >= SEGMENT_INTERVAL_MS) await this.writeSegment();
        await betweenBlocks();
      }
    } finally {
      await blocks.return(undefined); // hands the chunk's read buffer back, also when the loop ended early
    }
    return { rows: scoredRows, anomalies };
  }

  /** Stores the anomalies found and not yet stored. */
  async saveAnomalies(): Promise<void> {
    await this.chunk.saveAnomalies(this.unsaved);
    this.unsaved = [];
  }

  /** Stores the pending blocks' anomalies, writes their scores as the next segment, then moves the cursor past them. */
  private async writeSegment(): Promise<void> {
    const { cursor, pending, chunk } = this;
    if (pending.blocks === 0) return;
    await this.saveAnomalies();
    const segment = this.file.subarray(cursor.rowsDone, cursor.rowsDone + pending.rows);
    await chunk.store.putBytes(chunk.bucket, segmentScoresKey(chunk.jobId, chunk.chunkIndex, cursor.blocksDone), scoreBytes(segment));
    this.segmentsWritten += 1;
    Object.assign(cursor, {
      blocksDone: cursor.blocksDone + pending.blocks,
      rowsDone: cursor.rowsDone + pending.rows,
      anomalies: cursor.anomalies + pending.anomalies,
      nextByte: pending.nextByte,
    });
    Object.assign(pending, { blocks: 0, rows: 0, anomalies: 0 });
    this.lastSegmentAt = Date.now();
  }
}
