/**
 * Writes a job's scores.csv next to its score file: streamed through a temporary file, never one
 * giant string. The same job always gives the same bytes at the same key.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { jobScoresCsvKey } from '../storage/keys';
import type { ObjectStore } from '../storage/objectStore';
import { scoresCsvPieces, writePiecesToFile, type ScoresCsvSource } from './scoresCsv';

export type ExportProgress = { phase: 'writing'; rows: number } | { phase: 'uploading'; bytes: number };

/** Rows per CSV piece (scoresCsvPieces' default): progress is reported once a piece. */
const ROWS_PER_PIECE = 8192;

export async function exportScoresCsv(
  store: ObjectStore,
  bucket: string,
  jobId: string,
  source: ScoresCsvSource,
  onProgress: (progress: ExportProgress) => void,
): Promise<{ scoresCsvKey: string; size: number }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nomaly-export-'));
  try {
    const file = path.join(dir, 'scores.csv');
    let rowsWritten = 0;
    const pieces = (async function* () {
      for await (const piece of scoresCsvPieces({ ...source, rowsPerPiece: ROWS_PER_PIECE })) {
        yield piece;
        rowsWritten += ROWS_PER_PIECE;
        onProgress({ phase: 'writing', rows: Math.min(rowsWritten, source.scores.length) });
      }
    })();
    const written = await writePiecesToFile(file, pieces);
    onProgress({ phase: 'uploading', bytes: written.size });
    const scoresCsvKey = jobScoresCsvKey(jobId);
    await store.putFilePublished(bucket, scoresCsvKey, file, written);
    return { scoresCsvKey, size: written.size };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
