import { ApplicationFailure } from '@temporalio/common';
import { ConfigError } from '../config';
import type { SinkSpec } from '../api/sinkInput';
import type { SinkResult } from '../api/results';
import { DetectionJob, Model } from '../db/entities';
import { JobResultsError, jobAnomaliesIn, jobRowKeys, jobScoresFile } from '../results/jobScoresCsv';
import { scoresFileBatches } from '../results/scoresFile';
import { jobAnomalyRows, jobScoreRows, SINK_BATCH_ROWS } from '../sinks/jobSinkRows';
import { prepareSink, SinkTableError, writeSink, type SinkJob } from '../sinks/postgresSink';
import { connectionNamed, UnknownConnectionError } from '../sources/connections';
import { datasetReader } from '../sources/datasetReader';
import { SourceAuthError, SourceQueryError } from '../sources/postgresExtract';
import type { ActivityDeps } from './deps';
import { ACTIVITY_ERRORS, failFastOnPermanent, type PermanentErrors } from './failures';
import { heartbeat, withHeartbeat } from './heartbeat';

/** Errors no retry fixes: the sink's connection, its credentials, its table, the role's rights. */
const SINK_ERRORS: PermanentErrors = {
  named: [...ACTIVITY_ERRORS.named, UnknownConnectionError, SourceAuthError, SourceQueryError, SinkTableError, ConfigError],
};

export function createSinkActivities({ orm, store, config }: ActivityDeps) {
  const storedDataset = datasetReader(config, store);

  /** Every row of the job, streamed: its score file (checked against its sha256 as it is read), its anomalies, its rows' keys. */
  async function scoreRows(job: DetectionJob) {
    try {
      const file = await jobScoresFile(store, config.buckets, job);
      const ids = await jobRowKeys(orm, store, config.buckets, job, storedDataset);
      const scores = scoresFileBatches(store.streamVerified(file.bucket, file.key, file.sha256), SINK_BATCH_ROWS);
      return jobScoreRows({ scores, rows: job.rows, anomalies: jobAnomaliesIn(orm, job.id), ...(ids ? { ids } : {}) });
    } catch (err) {
      throw err instanceof JobResultsError ? ApplicationFailure.nonRetryable(err.message, 'NotFound') : err;
    }
  }

  return {
    /**
     * Before a job with a sink scores anything: the connection is known and a PostgreSQL one,
     * its credentials are accepted, the table exists (created when missing) with the sink's
     * columns, and the role may write it. Each a non-retryable error naming what to fix.
     */
    async checkSink(input: { sink: SinkSpec }): Promise<{ created: boolean }> {
      return failFastOnPermanent(() => prepareSink(connectionNamed(config, input.sink.connection, 'postgres'), input.sink), SINK_ERRORS);
    },

    /**
     * Upserts a completed job's anomalies (or every score) into its sink's table
     * (src/sinks/postgresSink.ts), after finalizing has made them final, and records what it
     * wrote in the job's summary. Heartbeats the rows written; a retry writes the same rows again
     * over themselves.
     */
    async sinkJobResults(input: { jobId: string; sink: SinkSpec }): Promise<SinkResult> {
      return failFastOnPermanent(() => withHeartbeat(async () => {
        heartbeat({ phase: 'sink', table: input.sink.table, written: 0 });
        const conn = connectionNamed(config, input.sink.connection, 'postgres');
        const em = orm.em.fork();
        const job = await em.findOneOrFail(DetectionJob, { id: input.jobId });
        if (job.status !== 'completed') throw ApplicationFailure.nonRetryable(`job ${job.id} is ${job.status}: only a completed job's rows go to its sink`, 'NotFound');
        const model = job.modelId === null || job.modelId === undefined ? null : await em.findOne(Model, { id: job.modelId });
        if (!model) throw ApplicationFailure.nonRetryable(`job ${job.id}: its model was removed, so its sink rows cannot name it`, 'NotFound');
        const lineage = job.source as { window?: { start: string; end: string } } | null | undefined;
        const sinkJob: SinkJob = {
          runKey: job.runKey ?? job.id,
          jobId: job.id,
          model: model.name,
          modelVersion: model.version,
          window: lineage?.window ?? null,
          scoredAt: job.finishedAt ?? new Date(),
        };
        const rows = input.sink.rows === 'scores' ? await scoreRows(job) : jobAnomalyRows(orm, job.id);
        const result = await writeSink(conn, input.sink, sinkJob, rows, (written) => heartbeat({ phase: 'sink', table: input.sink.table, written }));
        job.summary = { ...(job.summary ?? {}), sink: result };
        await em.flush();
        return result;
      }), SINK_ERRORS);
    },
  };
}
