/**
 * The durable cursor of a chunk being scored, and the segments of its scores that back it. Every
 * heartbeat of a chunk carries the cursor; a retried attempt resumes from it when the segments it
 * names are all in the results bucket.
 */
import { chunkSegmentsPrefix, segmentScoresKey } from '../storage/keys';
import type { ObjectStore } from '../storage/objectStore';

/** Rows scored between heartbeats, and the unit a retried attempt resumes at. */
export const SCORE_BLOCK_ROWS = 8192;

/**
 * Blocks [0, blocksDone) have their scores in MinIO (in segment objects: runs of whole blocks,
 * each keyed by its first block) and their anomalies in PostgreSQL, so a retried attempt starts
 * at row `rowsDone`, reading the CSV from byte `nextByte`. Its shape is in recorded heartbeats.
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

/** A stored run of the chunk's first rows: the segment object and how many of its rows count. */
export interface ChunkSegment {
  key: string;
  rows: number;
}

/** The chunk a cursor is checked against. */
export interface CursorChunk {
  jobId: string;
  chunkIndex: number;
  chunkRows: number;
  /** The chunk's position range in its format's terms, when it has one. */
  range?: { from: number; to: number };
  /** The chunk can only resume by position (a CSV byte range from before planned chunks). */
  needsNextByte: boolean;
}

/** A fresh chunk's cursor: nothing done. */
export function startCursor(chunkIndex: number, nextByte: number | undefined): ScoreChunkCursor {
  return { phase: 'loading', chunkIndex, blockRows: SCORE_BLOCK_ROWS, blocksDone: 0, rowsDone: 0, nextByte, anomalies: 0 };
}

/**
 * The cursor a retried attempt may resume from, and the segments that hold its rows: a chain
 * from block 0, each segment keyed by its first block, up to the cursor. Whoever wrote a
 * segment (even an attempt that lost its heartbeat and ran on), the object at a block's key
 * holds the scores of the rows from that block on, so any unbroken chain is right.
 */
export async function usableCursor(
  store: ObjectStore,
  bucket: string,
  chunk: CursorChunk,
  details: unknown,
): Promise<{ cursor: ScoreChunkCursor; segments: ChunkSegment[] } | undefined> {
  const cursor = details as Partial<ScoreChunkCursor> | undefined;
  if (!cursor || cursor.chunkIndex !== chunk.chunkIndex || cursor.blockRows !== SCORE_BLOCK_ROWS) return undefined;
  const { blocksDone, rowsDone, anomalies, nextByte } = cursor;
  if (![blocksDone, rowsDone, anomalies].every(Number.isInteger) || blocksDone! <= 0) return undefined;
  if (rowsDone !== blocksDone! * SCORE_BLOCK_ROWS || rowsDone! >= chunk.chunkRows) return undefined;
  const range = chunk.range;
  if (nextByte !== undefined && (!range || !Number.isInteger(nextByte) || nextByte <= range.from || nextByte > range.to)) return undefined;
  if (chunk.needsNextByte && nextByte === undefined) return undefined;
  const present = new Set(await store.listKeys(bucket, chunkSegmentsPrefix(chunk.jobId, chunk.chunkIndex)));
  const segments: ChunkSegment[] = [];
  for (let block = 0; block < blocksDone!; ) {
    const key = segmentScoresKey(chunk.jobId, chunk.chunkIndex, block);
    const stored = present.has(key) ? await store.stat(bucket, key) : undefined;
    const blocks = stored ? stored.size / (SCORE_BLOCK_ROWS * 8) : 0;
    if (!stored?.sha256 || !Number.isInteger(blocks) || blocks <= 0) return undefined;
    segments.push({ key, rows: Math.min(blocks, blocksDone! - block) * SCORE_BLOCK_ROWS });
    block += blocks;
  }
  return { cursor: cursor as ScoreChunkCursor, segments };
}

/** Removes the chunk's segments (once its score file is written, or to start afresh). */
export async function removeSegments(store: ObjectStore, bucket: string, jobId: string, chunkIndex: number): Promise<void> {
  await store.removeMany(bucket, await store.listKeys(bucket, chunkSegmentsPrefix(jobId, chunkIndex)));
}

/** Scores as the bytes of a score object: Float64 little-endian, no copy. */
export function scoreBytes(scores: Float64Array): Uint8Array {
  return new Uint8Array(scores.buffer, scores.byteOffset, scores.byteLength);
}

/**
 * Writes the chunk's score file: the segments of earlier attempts (verified) first, over the
 * start of `file`, then the rows this attempt scored, already in `file`.
 */
export async function writeChunkScores(
  store: ObjectStore,
  bucket: string,
  chunk: { chunkIndex: number; scoresKey: string; resumedFromRow: number },
  segments: ChunkSegment[],
  file: Float64Array,
): Promise<void> {
  const fileBytes = Buffer.from(file.buffer);
  let offset = 0;
  for (const segment of segments) {
    const bytes = await store.getVerifiedBytes(bucket, segment.key);
    if (bytes.length < segment.rows * 8) throw new Error(`chunk ${chunk.chunkIndex}: ${segment.key} holds ${bytes.length / 8} scores, fewer than ${segment.rows}`);
    bytes.copy(fileBytes, offset * 8, 0, segment.rows * 8);
    offset += segment.rows;
  }
  if (offset !== chunk.resumedFromRow) throw new Error(`chunk ${chunk.chunkIndex}: segments hold ${offset} rows, the cursor says ${chunk.resumedFromRow}`);
  await store.putBytes(bucket, chunk.scoresKey, scoreBytes(file));
}
