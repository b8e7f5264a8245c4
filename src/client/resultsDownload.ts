import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { NomalyConfig } from '../config';
import { scoresCsvPieces, writePiecesToFile } from '../results/scoresCsv';
import { writeScoresParquet } from '../results/scoresParquet';
import type { StoredSnapshot } from '../data/formats/snapshot';
import type { Orm } from '../db/orm';
import { completedDetectionJob, JobResultsError, jobScoresCsvSource } from '../results/jobScoresCsv';
import { jobScoresCsvKey } from '../storage/keys';
import type { ObjectStore } from '../storage/objectStore';

export const RESULT_FORMATS = ['csv', 'parquet'] as const;

export interface DownloadedResults {
  jobId: string;
  file: string;
  format: string;
  size: number;
  sha256: string;
  /** `exported`: the job's own scores.csv; `built`: made here from scores.f64 and the dataset. */
  source: 'exported' | 'built';
}

/**
 * Writes a completed job's scores to a local file: the scores.csv the job exported when it has
 * one (checksum verified), else the same CSV built from its score file and dataset; Parquet is
 * always built. The file
 * appears only once complete (written beside it, then renamed).
 */
export async function downloadJobScores(
  deps: { orm: Orm; store: ObjectStore; buckets: NomalyConfig['buckets']; snapshot?: (key: string, sha256: string) => StoredSnapshot },
  jobId: string,
  options: { format: string; out?: string },
): Promise<DownloadedResults> {
  if (!RESULT_FORMATS.includes(options.format as never)) throw new JobResultsError(`--format ${options.format}: use ${RESULT_FORMATS.join(' or ')}`);
  const job = await completedDetectionJob(deps.orm, jobId);
  const file = options.out ?? `${jobId}-scores.${options.format}`;
  const partial = `${file}.partial`;
  try {
    if (options.format === 'parquet') {
      const written = await writeScoresParquet(partial, await jobScoresCsvSource(deps.orm, deps.store, deps.buckets, job, deps.snapshot));
      await rename(partial, file);
      return { jobId, file, format: 'parquet', ...written, source: 'built' };
    }
    const exportedKey = jobScoresCsvKey(jobId);
    const exported = await deps.store.stat(deps.buckets.results, exportedKey);
    if (exported?.sha256) {
      await pipeline(Readable.from(deps.store.streamVerified(deps.buckets.results, exportedKey, exported.sha256)), createWriteStream(partial));
      await rename(partial, file);
      return { jobId, file, format: 'csv', size: exported.size, sha256: exported.sha256, source: 'exported' };
    }
    const written = await writePiecesToFile(partial, scoresCsvPieces(await jobScoresCsvSource(deps.orm, deps.store, deps.buckets, job, deps.snapshot)));
    await rename(partial, file);
    return { jobId, file, format: 'csv', ...written, source: 'built' };
  } finally {
    await rm(partial, { force: true });
  }
}
