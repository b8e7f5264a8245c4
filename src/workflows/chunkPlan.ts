/**
 * Splits `rows` into contiguous row ranges. The chunk size grows when needed so that a job has
 * at most `maxChunks` chunks, which bounds the chunk offsets the job carries from run to run
 * (each run itself starts at most `chunksPerRun` chunks, about six history events each).
 */
export interface ChunkPlan {
  chunkRows: number;
  chunks: number;
}

export function planChunks(rows: number, requestedChunkRows: number, maxChunks: number): ChunkPlan {
  if (rows <= 0) return { chunkRows: requestedChunkRows, chunks: 0 };
  const chunkRows = Math.max(requestedChunkRows, Math.ceil(rows / maxChunks));
  return { chunkRows, chunks: Math.ceil(rows / chunkRows) };
}

export function chunkRange(plan: ChunkPlan, rows: number, index: number): { rowStart: number; rowEnd: number } {
  const rowStart = index * plan.chunkRows;
  return { rowStart, rowEnd: Math.min(rows, rowStart + plan.chunkRows) };
}
