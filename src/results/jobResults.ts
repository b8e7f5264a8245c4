import { decodeScoresFile, encodeScoresHeader } from './scoresFile';
import { renderDetectionReport, type DetectionReportInput } from './detectionReport';
import { summarizeScores, type ScoreSummary } from './scoreSummary';
import { jobReportKey, jobScoresKey, scoresPrefix } from '../storage/keys';
import type { ObjectStore } from '../storage/objectStore';

export interface JobResultFiles {
  scoresKey: string;
  reportKey: string;
  scores: ScoreSummary;
}

/**
 * Joins a job's chunk score files into one score file, then removes the chunks. Safe to run
 * again after a crash: once the joined file exists it is the source, and chunk removal is idempotent.
 */
export async function assembleJobScores(store: ObjectStore, bucket: string, jobId: string, rows: number, chunks: number): Promise<Float64Array> {
  const key = jobScoresKey(jobId);
  const existing = await store.stat(bucket, key);
  let scores: Float64Array;
  if (existing?.sha256) {
    scores = decodeScoresFile(await store.getVerifiedBytes(bucket, key, existing.sha256));
  } else {
    const parts = (await store.listKeys(bucket, scoresPrefix(jobId))).sort();
    if (parts.length !== chunks) throw new Error(`job ${jobId}: found ${parts.length} chunk score files, expected ${chunks}`);
    const file = Buffer.alloc(16 + rows * 8);
    encodeScoresHeader(rows).copy(file, 0);
    let offset = 16;
    // Fetched a few at a time (a big job has hundreds of chunks), joined in chunk order.
    const fetched = await inParallel(parts, PARALLEL_REQUESTS, (part) => store.getVerifiedBytes(bucket, part));
    for (const bytes of fetched) {
      if (offset + bytes.length > file.length) throw new Error(`job ${jobId}: chunk score files hold more than ${rows} rows`);
      bytes.copy(file, offset);
      offset += bytes.length;
    }
    if (offset !== file.length) throw new Error(`job ${jobId}: chunk score files hold ${(offset - 16) / 8} rows, expected ${rows}`);
    await store.putBytes(bucket, key, file);
    // The file is ours and its body 8-byte aligned: a view instead of decodeScoresFile's copy.
    scores = new Float64Array(file.buffer, file.byteOffset + 16, rows);
  }
  await store.removeMany(bucket, await store.listKeys(bucket, scoresPrefix(jobId)));
  return scores;
}

/** Object-store requests in flight at once while joining a job's chunk files. */
const PARALLEL_REQUESTS = 8;

/** Maps items through `work` with at most `limit` calls at once; results in item order. */
async function inParallel<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** Writes the job's HTML report next to its scores. */
export async function writeJobReport(store: ObjectStore, bucket: string, report: DetectionReportInput): Promise<string> {
  const key = jobReportKey(report.jobId);
  await store.putBytes(bucket, key, Buffer.from(renderDetectionReport(report), 'utf8'), 'text/html; charset=utf-8');
  return key;
}

export { summarizeScores };

/** A finished job's duration and rates; a job finalized again keeps its first finish time. */
export function jobRates(job: { rows: number; startedAt: Date; finishedAt?: Date | null }, anomalies: number) {
  const finishedAt = job.finishedAt ?? new Date();
  const durationMs = finishedAt.getTime() - job.startedAt.getTime();
  const anomalyRate = job.rows > 0 ? anomalies / job.rows : 0;
  const rowsPerSecond = durationMs > 0 ? (job.rows * 1000) / durationMs : 0;
  return { finishedAt, durationMs, anomalyRate, rowsPerSecond };
}
