/**
 * How big a detection job's chunks are: the one place the chunking policy lives. It runs in the
 * planning activity (never in workflow code), so a new default changes new jobs only and every
 * recorded history replays as it ran.
 */
export const CHUNK_POLICY = {
  /** Without chunkRows in the input a job aims at this many chunks, each of minChunkRows to maxChunkRows rows. */
  targetChunks: 50,
  minChunkRows: 50_000,
  maxChunkRows: 200_000,
  /** Bounds the chunk list a job carries from run to run (two numbers per chunk). */
  maxChunksPerJob: 20_000,
} as const;

export interface ChunkPlan {
  chunkRows: number;
  chunks: number;
}

/**
 * Rows per chunk when the input names none. Every chunk costs tens of milliseconds of CPU in the
 * Temporal server and the workers (schedule, start, complete, a score file), which big chunks
 * pay less often; a small job still gets enough chunks to spread over the scoring workers.
 */
export function defaultChunkRows(rows: number): number {
  const { targetChunks, minChunkRows, maxChunkRows } = CHUNK_POLICY;
  return Math.min(maxChunkRows, Math.max(minChunkRows, Math.ceil(rows / targetChunks)));
}

/**
 * Splits `rows` into contiguous row ranges. The chunk size grows when needed so that a job has
 * at most `maxChunks` chunks, which bounds the chunk list the job carries from run to run.
 */
export function planChunks(rows: number, requestedChunkRows: number, maxChunks: number): ChunkPlan {
  if (rows <= 0) return { chunkRows: requestedChunkRows, chunks: 0 };
  const chunkRows = Math.max(requestedChunkRows, Math.ceil(rows / maxChunks));
  return { chunkRows, chunks: Math.ceil(rows / chunkRows) };
}

export function chunkRange(plan: ChunkPlan, rows: number, index: number): { rowStart: number; rowEnd: number } {
  const rowStart = index * plan.chunkRows;
  return { rowStart, rowEnd: Math.min(rows, rowStart + plan.chunkRows) };
}

/** The rows a chunk of this job aims at: the input's size (or the default), grown to respect the cap. */
export function chunkRowsFor(rows: number, requested: number | null): number {
  return planChunks(rows, requested ?? defaultChunkRows(rows), CHUNK_POLICY.maxChunksPerJob).chunkRows;
}
