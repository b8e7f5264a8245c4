/**
 * Chunks as workflow code sees them. The policy itself (how many rows a chunk holds) lives in
 * src/data/chunkPolicy.ts and runs in the planning activity; this file only indexes the list
 * planning returned, plus the frozen sizing that jobs started before that activity existed
 * replay with (never change its numbers: recorded histories depend on them).
 */
import type { ChunkPlan } from '../data/chunkPolicy';
import type { ChunkList, ChunkSpec } from '../data/formats/chunks';

/** Chunk `index` of a planned list: its rows and, opaque to the workflow, where the format finds them. */
export function chunkAt(list: ChunkList, index: number): ChunkSpec {
  return { rowStart: list.rowBounds[index], rowEnd: list.rowBounds[index + 1], from: list.bounds[index], to: list.bounds[index + 1], shared: list.shared };
}

/** Frozen: the sizing of runs started before planning moved into an activity. */
const LEGACY = { targetChunks: 50, minChunkRows: 50_000, maxChunkRows: 200_000, maxChunksPerJob: 20_000 } as const;

/** Frozen: how a run started before the planning activity sized its chunks (replays only). */
export function legacyChunkPlan(rows: number, requestedChunkRows: number | null): ChunkPlan {
  const requested = requestedChunkRows ?? Math.min(LEGACY.maxChunkRows, Math.max(LEGACY.minChunkRows, Math.ceil(rows / LEGACY.targetChunks)));
  if (rows <= 0) return { chunkRows: requested, chunks: 0 };
  const chunkRows = Math.max(requested, Math.ceil(rows / LEGACY.maxChunksPerJob));
  return { chunkRows, chunks: Math.ceil(rows / chunkRows) };
}

export function legacyChunkRange(plan: ChunkPlan, rows: number, index: number): { rowStart: number; rowEnd: number } {
  const rowStart = index * plan.chunkRows;
  return { rowStart, rowEnd: Math.min(rows, rowStart + plan.chunkRows) };
}
