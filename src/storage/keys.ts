/** Deterministic object keys: the same logical thing always lands at the same key, so retries overwrite, never add. */

export function datasetKey(sha256: string, format: string): string {
  return `sha256/${sha256.slice(0, 2)}/${sha256}.${format}`;
}

export function modelArtifactKey(modelName: string, version: number): string {
  return `${modelName}/v${version}.nmly`;
}

export function scoresPrefix(jobId: string): string {
  return `jobs/${jobId}/scores/`;
}

export function chunkScoresKey(jobId: string, chunkIndex: number): string {
  return `${scoresPrefix(jobId)}chunk-${String(chunkIndex).padStart(6, '0')}.f64`;
}

/**
 * Where a running chunk keeps the scores it has made durable, in segments (runs of whole blocks):
 * a retried attempt resumes after the last segment its heartbeat names. Removed
 * once the chunk's score file is written.
 */
export function chunkSegmentsPrefix(jobId: string, chunkIndex: number): string {
  return `jobs/${jobId}/partial/chunk-${String(chunkIndex).padStart(6, '0')}/`;
}

/** A segment is keyed by its first block (8,192 rows each, from the chunk's first row). */
export function segmentScoresKey(jobId: string, chunkIndex: number, firstBlock: number): string {
  return `${chunkSegmentsPrefix(jobId, chunkIndex)}from-block-${String(firstBlock).padStart(6, '0')}.f64`;
}

/** All of a job's scores in row order (see src/results/scoresFile.ts), assembled from its chunks. */
export function jobScoresKey(jobId: string): string {
  return `jobs/${jobId}/scores.f64`;
}

/** The optional CSV export of a job's scores (row, id, score, is_anomaly), next to scores.f64. */
export function jobScoresCsvKey(jobId: string): string {
  return `jobs/${jobId}/scores.csv`;
}

export function jobReportKey(jobId: string): string {
  return `jobs/${jobId}/report.html`;
}

/** A CSV dataset's row index (src/data/csvIndex.ts), next to the dataset it describes. */
export function csvIndexKey(datasetSha256: string): string {
  return `${datasetKey(datasetSha256, 'csv')}.index`;
}

/** A pinned source's snapshot (src/data/formats/snapshot.ts), content-addressed like datasets. */
export function sourceSnapshotKey(sha256: string): string {
  return `sources/snapshots/${sha256.slice(0, 2)}/${sha256}.json`;
}

/** A snapshot's chunk list for one chunk size: planning the same job again finds the same one. */
export function sourcePlanKey(snapshotSha256: string, chunkRows: number, shape?: 'grouped'): string {
  // A plan of another shape never overwrites the one an older run's chunks still read.
  return `sources/plans/${snapshotSha256.slice(0, 2)}/${snapshotSha256}-${chunkRows}${shape ? `-${shape}` : ''}.json`;
}

/** A PostgreSQL source's extract (Parquet), content-addressed. */
export function sourceExtractKey(sha256: string): string {
  return `sources/extracts/${sha256.slice(0, 2)}/${sha256}.parquet`;
}
