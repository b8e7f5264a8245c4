/**
 * NomalyClient is the one route from the CLI (and any other program) to Nomaly's back ends:
 * actions and job state go through Temporal (every change starts, signals or cancels a workflow;
 * job status, progress and lists come from Temporal); registry and results reads go through one
 * read-only data module, readStore.ts (models, datasets and job counts from PostgreSQL; result
 * links, score downloads and backup manifests from MinIO); a dataset's bytes are uploaded to MinIO,
 * then the registerDataset workflow registers them. The registry edits that have no workflow yet
 * (promote, archive, delete) go through registryEdits.ts. The CLI reaches no back end but
 * through this class.
 */
import { Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { loadConfig, temporalConnectionOptions, type NomalyConfig } from '../config';
import { TASK_QUEUES } from '../config/taskQueues';
import { ObjectStore } from '../storage/objectStore';
import type { DetectProgress } from '../workflows/detectBatch';
import {
  validateDetectBatchInput,
  validateTrainModelInput,
  type DetectBatchInput,
  type TrainModelInput,
} from '../api/inputs';
import { rootCauseMessage } from '../api/rootCause';
import { validateDetectBackfillInput, type DetectBackfillInput } from '../api/backfillInput';
import type { BackfillReport } from '../workflows/detectBackfill';
import type { TrainModelResult } from '../workflows/trainModel';
import { validateBackupInput, validateDisasterRecoveryInput, type BackupInput, type DisasterRecoveryInput } from '../api/backupInputs';
import type { BackupResult } from '../workflows/backup';
import type { RecoveryProgress, RecoveryResult } from '../workflows/disasterRecovery';
import type { VerifyBackupsResult } from '../workflows/verifyBackups';
import { SEARCH_ATTRIBUTES } from '../api/searchAttributes';
import { ClientDatabase } from './database';
import { checkedUpload, nonRetryableRoot, uploadRefused } from './datasetUpload';
import { jobListQuery, type JobFilter } from './jobQuery';
import { ReadStore, RESULT_LINK_DAYS, type BackupManifest, type DatasetSummary, type DetectionSummary, type ResultLinks } from './readStore';
import { RegistryEdits } from './registryEdits';
import { startWorkflow } from './workflowStarts';
import { applySchedulesFile, listSchedules, scheduleBackfillInput, type ScheduleListing, type SchedulesFile } from './schedules';

export type { DatasetSummary, DetectionSummary, DetectBatchInput, DetectProgress, TrainModelInput, TrainModelResult };
export type { BackfillReport, DetectBackfillInput };
export type { BackupInput, BackupManifest, BackupResult, DisasterRecoveryInput, RecoveryProgress, RecoveryResult };
export { RESULT_LINK_DAYS, type ResultLinks };

/**
 * When the client connects to Temporal: `now` (the default) fails at once, naming the address,
 * when Temporal does not answer; `on-first-use` lets a command that only reads the registry run
 * with Temporal down.
 */
export type TemporalConnect = 'now' | 'on-first-use';

export interface JobStatus {
  workflowId: string;
  workflowType: string;
  status: string;
  startTime: Date;
  closeTime?: Date;
  progress?: unknown;
  result?: unknown;
  failure?: string;
  uiUrl: string;
}

/** One line of `nomaly jobs`: a workflow a person started, as Temporal's visibility sees it. */
export interface JobListing {
  workflowId: string;
  workflowType: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, CANCELLED, … */
  status: string;
  /** The workflow's own phase (NomalyJobStatus), e.g. awaiting-operator; null before it sets one. */
  jobStatus: string | null;
  model: string | null;
  dataset: string | null;
  startTime: Date;
  closeTime?: Date;
  uiUrl: string;
}

/** A typed client for Nomaly's workflows: what the CLI uses, and what other programs can import. */
export class NomalyClient {
  /** Registry and results reads (PostgreSQL and MinIO), read-only. */
  readonly reads: ReadStore;
  /** Registry changes no workflow makes yet: promote, archive, delete. */
  readonly registryEdits: RegistryEdits;

  private constructor(
    readonly config: NomalyConfig,
    readonly temporal: Client,
    private readonly connection: Connection,
    private readonly store: ObjectStore,
    private readonly database: ClientDatabase,
  ) {
    this.reads = new ReadStore(config, store, database);
    this.registryEdits = new RegistryEdits(config, store, database);
  }

  static async connect(config: NomalyConfig = loadConfig(), options: { temporal?: TemporalConnect } = {}): Promise<NomalyClient> {
    const connection =
      options.temporal === 'on-first-use'
        ? Connection.lazy(temporalConnectionOptions(config))
        : await Connection.connect(temporalConnectionOptions(config)).catch((err: Error) => {
            throw new Error(`Temporal does not answer at ${config.temporal.address} (${err.message}); start the stack or set TEMPORAL_ADDRESS`);
          });
    const temporal = new Client({ connection, namespace: config.temporal.namespace });
    return new NomalyClient(config, temporal, connection, ObjectStore.connect(config.minio), ClientDatabase.fromConfig(config));
  }

  async close(): Promise<void> {
    try {
      await this.database.close();
    } finally {
      await this.connection.close();
    }
  }

  uiUrl(workflowId: string): string {
    return `${this.config.temporal.uiUrl}/namespaces/${encodeURIComponent(this.config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  }

  /**
   * Checks what can be checked here (extension, emptiness, size, name, the file's signature)
   * before anything is uploaded, puts the file into MinIO under its content address, then
   * registers it through the `registerDataset` workflow, which validates the rest. The same bytes
   * always give the same dataset. Throws a non-retryable ApplicationFailure naming the file when
   * the dataset is refused (here or by the worker); a refused upload leaves nothing behind.
   */
  async uploadDataset(file: string, options: { name?: string } = {}): Promise<DatasetSummary> {
    const { input, sha256, size } = await checkedUpload(file, options.name, this.config.datasets.maxBytes);
    const bucket = this.config.buckets.datasets;
    await this.store.ensureBuckets([bucket]);
    const existing = await this.store.stat(bucket, input.objectKey);
    const uploaded = !existing || existing.sha256 !== sha256;
    if (uploaded) await this.store.putFile(bucket, input.objectKey, file, { sha256, size });
    try {
      const registration = await startWorkflow(this.temporal, 'registerDataset', {
        taskQueue: TASK_QUEUES.control,
        workflowId: `dataset-${sha256}`,
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        args: [input],
      });
      return await registration.result();
    } catch (err) {
      const refusal = err instanceof WorkflowFailedError ? nonRetryableRoot(err) : undefined;
      if (!refusal) throw new Error(`${file}: ${failureMessage(err)}`, { cause: err });
      // The worker removes what it refuses; this covers a refusal before its activity ran (the
      // workflow's own input check). The refusal is the news: a failed removal must not hide it.
      if (uploaded) await this.store.remove(bucket, input.objectKey).catch(() => undefined);
      throw uploadRefused(file, refusal.message, refusal.type ?? undefined);
    }
  }

  async startTraining(input: TrainModelInput, options: { workflowId?: string } = {}): Promise<WorkflowHandle> {
    validateTrainModelInput(input);
    return startWorkflow(this.temporal, 'trainModel', {
      taskQueue: TASK_QUEUES.control,
      workflowId: options.workflowId ?? `train-${input.modelName}-${uniqueSuffix()}`,
      args: [input],
    });
  }

  async startDetection(input: DetectBatchInput, options: { workflowId?: string } = {}): Promise<WorkflowHandle> {
    validateDetectBatchInput(input);
    return startWorkflow(this.temporal, 'detectBatch', {
      taskQueue: TASK_QUEUES.control,
      workflowId: options.workflowId ?? `detect-${input.model.replace('@', '-v')}-${input.datasetId ?? `source-${input.window?.start.slice(0, 10) ?? 'scheduled'}`}-${uniqueSuffix()}`,
      args: [input],
    });
  }

  /**
   * Scores a source over a range of past windows: one detectBatch job per window (the
   * detectBackfill workflow; its `progress` query and its result are a BackfillReport).
   */
  async startBackfill(input: DetectBackfillInput, options: { workflowId?: string } = {}): Promise<WorkflowHandle> {
    validateDetectBackfillInput(input);
    return startWorkflow(this.temporal, 'detectBackfill', {
      taskQueue: TASK_QUEUES.control,
      workflowId: options.workflowId ?? `backfill-${input.model.replace('@', '-v')}-${uniqueSuffix()}`,
      args: [input],
    });
  }

  /**
   * A backfill of a detection schedule over a source: its model, source, period and zone, over
   * [from, to). Refused, naming the schedule, unless the schedule starts a detectBatch over a source.
   */
  async startScheduleBackfill(
    scheduleId: string,
    range: Pick<DetectBackfillInput, 'from' | 'to' | 'maxConcurrentWindows'>,
    options: { workflowId?: string } = {},
  ): Promise<WorkflowHandle> {
    const description = await this.temporal.schedule.getHandle(scheduleId).describe();
    const input = scheduleBackfillInput(scheduleId, description.action, range);
    return this.startBackfill(input, { workflowId: options.workflowId ?? `backfill-${scheduleId}-${uniqueSuffix()}` });
  }

  /** Starts a backup now (the nightly schedule starts the same workflow). */
  async startBackup(input: BackupInput = {}, options: { workflowId?: string } = {}): Promise<WorkflowHandle> {
    validateBackupInput(input);
    return startWorkflow(this.temporal, 'backup', {
      taskQueue: TASK_QUEUES.control,
      workflowId: options.workflowId ?? `backup-manual-${uniqueSuffix()}`,
      args: [input],
    });
  }

  /**
   * Starts a disaster recovery. With a workflow id, starting again returns the running one, and
   * a failed one can be started afresh (ALLOW_DUPLICATE_FAILED_ONLY + USE_EXISTING).
   */
  async startRecovery(input: DisasterRecoveryInput, options: { workflowId?: string } = {}): Promise<WorkflowHandle> {
    validateDisasterRecoveryInput(input);
    return startWorkflow(this.temporal, 'disasterRecovery', {
      taskQueue: TASK_QUEUES.control,
      workflowId: options.workflowId ?? `recovery-${input.scope}-${uniqueSuffix()}`,
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      workflowIdConflictPolicy: 'USE_EXISTING',
      args: [input],
    });
  }

  /** For a recovery waiting in `awaiting-operator`: start over from the failed step. */
  async retryRecovery(workflowId: string): Promise<void> {
    await this.temporal.workflow.getHandle(workflowId).signal('retry');
  }

  async abortRecovery(workflowId: string): Promise<void> {
    await this.temporal.workflow.getHandle(workflowId).signal('abort');
  }

  /** Backups from their manifests in MinIO (works with the database lost), newest first. */
  async listBackups(): Promise<BackupManifest[]> {
    return this.reads.listBackups();
  }

  async showBackup(backupId: string): Promise<BackupManifest> {
    return this.reads.showBackup(backupId);
  }

  /** Re-reads every object of a backup and re-checks its sha256 (the verifyBackups workflow, which records the result). */
  async verifyBackup(backupId: string): Promise<VerifyBackupsResult> {
    return startWorkflow(this.temporal, 'verifyBackups', {
      taskQueue: TASK_QUEUES.control,
      workflowId: `backup-verify-${backupId}-${Date.now().toString(36)}`,
      args: [{ backupId }],
    })
      .then((handle) => handle.result())
      .catch((err: unknown) => {
        throw new Error(failureMessage(err));
      });
  }

  /** A link to a finished job's HTML report, valid for RESULT_LINK_DAYS (MinIO signs it; no login needed). */
  async reportUrl(summary: Pick<DetectionSummary, 'scoresBucket' | 'reportKey'>): Promise<string> {
    return this.reads.reportUrl(summary);
  }

  /** Signed, time-limited links to a finished detection's results (see ReadStore.resultLinks). */
  async resultLinks(summary: Pick<DetectionSummary, 'scoresBucket' | 'reportKey' | 'scoresKey' | 'scoresCsvKey'>): Promise<ResultLinks> {
    return this.reads.resultLinks(summary);
  }

  /** Asks a running job to stop: no new chunks start, and it is recorded as cancelled. */
  async cancel(workflowId: string): Promise<void> {
    await this.temporal.workflow.getHandle(workflowId).cancel();
  }

  async progress<T = DetectProgress>(workflowId: string): Promise<T> {
    return this.temporal.workflow.getHandle(workflowId).query<T>('progress');
  }

  /**
   * Recent jobs from Temporal's visibility store, in its order (running jobs first, then the most
   * recently closed); it lags a start or a close by a moment. A job that continued as new shows once, as its current run.
   * `offset` skips that many matching jobs first (the next page).
   */
  async listJobs(filter: JobFilter = {}, limit = 20, offset = 0): Promise<JobListing[]> {
    const jobs: JobListing[] = [];
    let skipped = 0;
    for await (const run of this.temporal.workflow.list({ query: jobListQuery(filter), pageSize: Math.min((limit + offset) * 2, 1000) })) {
      if (run.status.name === 'CONTINUED_AS_NEW') continue;
      if (skipped < offset) {
        skipped++;
        continue;
      }
      const attributes = run.typedSearchAttributes;
      jobs.push({
        workflowId: run.workflowId,
        workflowType: run.type,
        status: run.status.name,
        jobStatus: attributes.get(SEARCH_ATTRIBUTES.jobStatus) ?? null,
        model: attributes.get(SEARCH_ATTRIBUTES.model) ?? null,
        dataset: attributes.get(SEARCH_ATTRIBUTES.dataset) ?? null,
        startTime: run.startTime,
        closeTime: run.closeTime,
        uiUrl: this.uiUrl(run.workflowId),
      });
      if (jobs.length >= limit) break;
    }
    return jobs;
  }

  /**
   * Running workflows that name this dataset or model (NomalyDataset / NomalyModel), as Temporal
   * sees them: a training or detection that has not written its record yet still counts.
   */
  async runningJobsUsing(filter: { dataset?: string; model?: string }): Promise<string[]> {
    return (await this.listJobs(filter, 1000)).filter((j) => j.status === 'RUNNING').map((j) => `${j.workflowType} ${j.workflowId}`);
  }

  /** Creates or updates the schedules of a schedules file (see schedules.ts). */
  applySchedules(file: SchedulesFile): ReturnType<typeof applySchedulesFile> {
    return applySchedulesFile(this.temporal, file);
  }

  listSchedules(): Promise<ScheduleListing[]> {
    return listSchedules(this.temporal);
  }

  /** Runs a schedule now (its overlap policy still applies). */
  async triggerSchedule(id: string): Promise<void> {
    await this.temporal.schedule.getHandle(id).trigger();
  }

  async pauseSchedule(id: string, note?: string): Promise<void> {
    await this.temporal.schedule.getHandle(id).pause(note);
  }

  async unpauseSchedule(id: string, note?: string): Promise<void> {
    await this.temporal.schedule.getHandle(id).unpause(note);
  }

  /** Runs the schedule for every time it would have run in [start, end), overlap allowed. */
  async backfillSchedule(id: string, start: Date, end: Date): Promise<void> {
    await this.temporal.schedule.getHandle(id).backfill({ start, end, overlap: 'ALLOW_ALL' });
  }

  async status(workflowId: string): Promise<JobStatus> {
    const handle = this.temporal.workflow.getHandle(workflowId);
    const description = await handle.describe();
    const status: JobStatus = {
      workflowId,
      workflowType: description.type,
      status: description.status.name,
      startTime: description.startTime,
      closeTime: description.closeTime,
      uiUrl: this.uiUrl(workflowId),
    };
    if (description.status.name === 'RUNNING') {
      status.progress = await handle.query('progress').catch(() => undefined);
    } else if (description.status.name === 'COMPLETED') {
      status.result = await handle.result();
    } else {
      status.failure = await handle.result().then(
        () => undefined,
        (err: Error) => failureMessage(err),
      );
    }
    return status;
  }
}

/** The innermost cause is the message a user can act on (e.g. the bad input field). */
export const failureMessage = rootCauseMessage;

function uniqueSuffix(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}
