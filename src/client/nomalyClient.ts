import { open } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure, Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { DatasetSummary, DetectionSummary } from '../activities';
import { loadConfig, temporalConnectionOptions, type NomalyConfig } from '../config';
import { TASK_QUEUES } from '../config/taskQueues';
import { datasetKey } from '../storage/keys';
import { DatasetFormatError } from '../data/datasetError';
import { wrongFileSignature } from '../data/fileSignature';
import { formatFromFileName } from '../data/readDataset';
import { ObjectStore, sha256OfFile } from '../storage/objectStore';
import type { DetectProgress } from '../workflows/detectBatch';
import {
  validateDetectBatchInput,
  validateRegisterDatasetInput,
  validateTrainModelInput,
  type DetectBatchInput,
  type TrainModelInput,
} from '../workflows/inputs';
import { rootCauseMessage } from '../workflows/rootCause';
import type { TrainModelResult } from '../workflows/trainModel';
import { BackupStore } from '../backup/backupStore';
import type { BackupManifest } from '../backup/manifest';
import { validateBackupInput, validateDisasterRecoveryInput, type BackupInput, type DisasterRecoveryInput } from '../workflows/backupInputs';
import type { BackupResult } from '../workflows/backup';
import type { RecoveryProgress, RecoveryResult } from '../workflows/disasterRecovery';
import { SEARCH_ATTRIBUTES } from '../workflows/searchAttributes';
import { jobListQuery, type JobFilter } from './jobQuery';

export type { DatasetSummary, DetectionSummary, DetectBatchInput, DetectProgress, TrainModelInput, TrainModelResult };
export type { BackupInput, BackupManifest, BackupResult, DisasterRecoveryInput, RecoveryProgress, RecoveryResult };

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

/** How long a signed result link works: MinIO refuses more than 7 days. */
export const RESULT_LINK_DAYS = 7;

export interface ResultLinks {
  reportUrl: string;
  scoresUrl: string;
  scoresCsvUrl?: string;
}

/** A typed client for Nomaly's workflows: what the CLI uses, and what other programs can import. */
export class NomalyClient {
  private constructor(
    readonly config: NomalyConfig,
    readonly temporal: Client,
    private readonly connection: Connection,
    readonly store: ObjectStore,
  ) {}

  static async connect(config: NomalyConfig = loadConfig()): Promise<NomalyClient> {
    const connection = await Connection.connect(temporalConnectionOptions(config)).catch((err: Error) => {
      throw new Error(`Temporal does not answer at ${config.temporal.address} (${err.message}); start the stack or set TEMPORAL_ADDRESS`);
    });
    const temporal = new Client({ connection, namespace: config.temporal.namespace });
    return new NomalyClient(config, temporal, connection, ObjectStore.connect(config.minio));
  }

  async close(): Promise<void> {
    await this.connection.close();
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
    const format = refusedUnless(file, () => formatFromFileName(file));
    const { sha256, size } = await sha256OfFile(file);
    if (size === 0) throw uploadRefused(file, 'empty file (0 bytes)');
    if (size > this.config.datasets.maxBytes) {
      throw uploadRefused(file, `${size} bytes is over the dataset size limit of ${this.config.datasets.maxBytes} bytes (raise NOMALY_MAX_DATASET_BYTES to accept it)`);
    }
    const wrongSignature = wrongFileSignature(format, ...(await fileEnds(file, size)));
    if (wrongSignature) throw uploadRefused(file, wrongSignature);
    const bucket = this.config.buckets.datasets;
    const input = refusedUnless(file, () =>
      validateRegisterDatasetInput({ name: options.name ?? path.basename(file), objectKey: datasetKey(sha256, format), sha256, format }),
    );
    await this.store.ensureBuckets([bucket]);
    const existing = await this.store.stat(bucket, input.objectKey);
    const uploaded = !existing || existing.sha256 !== sha256;
    if (uploaded) await this.store.putFile(bucket, input.objectKey, file, { sha256, size });
    try {
      return await this.temporal.workflow.execute('registerDataset', {
        taskQueue: TASK_QUEUES.control,
        workflowId: `dataset-${sha256}`,
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        args: [input],
      });
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
    return this.temporal.workflow.start('trainModel', {
      taskQueue: TASK_QUEUES.control,
      workflowId: options.workflowId ?? `train-${input.modelName}-${uniqueSuffix()}`,
      args: [input],
    });
  }

  async startDetection(input: DetectBatchInput, options: { workflowId?: string } = {}): Promise<WorkflowHandle> {
    validateDetectBatchInput(input);
    return this.temporal.workflow.start('detectBatch', {
      taskQueue: TASK_QUEUES.control,
      workflowId: options.workflowId ?? `detect-${input.model.replace('@', '-v')}-${input.datasetId}-${uniqueSuffix()}`,
      args: [input],
    });
  }

  /** Starts a backup now (the nightly schedule starts the same workflow). */
  async startBackup(input: BackupInput = {}, options: { workflowId?: string } = {}): Promise<WorkflowHandle> {
    validateBackupInput(input);
    return this.temporal.workflow.start('backup', {
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
    return this.temporal.workflow.start('disasterRecovery', {
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

  /** Backups from their manifests in MinIO (the source of truth: this works with the database lost), newest first. */
  async listBackups(): Promise<BackupManifest[]> {
    const bs = new BackupStore(this.config, this.store);
    const manifests: BackupManifest[] = [];
    for (const id of (await bs.listBackupIds()).reverse()) {
      manifests.push(await bs.readManifest(id));
    }
    return manifests;
  }

  async showBackup(backupId: string): Promise<BackupManifest> {
    return new BackupStore(this.config, this.store).readManifest(backupId);
  }

  /** A link to a finished job's HTML report, valid for RESULT_LINK_DAYS (MinIO signs it; no login needed). */
  async reportUrl(summary: Pick<DetectionSummary, 'scoresBucket' | 'reportKey'>): Promise<string> {
    return this.signedUrl(summary.scoresBucket, summary.reportKey);
  }

  /**
   * Signed, time-limited links to a finished detection's results: the report, every row's score
   * (scores.f64) and, when the job exported it and it is still there, scores.csv.
   */
  async resultLinks(summary: Pick<DetectionSummary, 'scoresBucket' | 'reportKey' | 'scoresKey' | 'scoresCsvKey'>): Promise<ResultLinks> {
    const links: ResultLinks = {
      reportUrl: await this.signedUrl(summary.scoresBucket, summary.reportKey),
      scoresUrl: await this.signedUrl(summary.scoresBucket, summary.scoresKey),
    };
    if (summary.scoresCsvKey && (await this.store.stat(summary.scoresBucket, summary.scoresCsvKey))) {
      links.scoresCsvUrl = await this.signedUrl(summary.scoresBucket, summary.scoresCsvKey);
    }
    return links;
  }

  private signedUrl(bucket: string, key: string): Promise<string> {
    return this.store.client.presignedGetObject(bucket, key, RESULT_LINK_DAYS * 24 * 3600);
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

function uploadRefused(file: string, problem: string, type = 'DatasetRefused'): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`${file}: ${problem}`, type);
}

/** `check()`'s value; a refusal it throws (a bad extension, an invalid input) becomes an upload refusal. */
function refusedUnless<T>(file: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof DatasetFormatError) throw ApplicationFailure.nonRetryable(err.message, err.name);
    if (err instanceof ApplicationFailure && err.nonRetryable) throw uploadRefused(file, err.message, err.type ?? undefined);
    throw err;
  }
}

/** The innermost ApplicationFailure of a failed workflow, when no retry can fix it. */
function nonRetryableRoot(err: unknown): ApplicationFailure | undefined {
  let found: ApplicationFailure | undefined;
  for (let e = err as { cause?: unknown } | undefined; e && typeof e === 'object'; e = e.cause as typeof e) {
    if (e instanceof ApplicationFailure) found = e;
  }
  return found?.nonRetryable ? found : undefined;
}

/** A file's first and last four bytes: its format's signature. */
async function fileEnds(file: string, size: number): Promise<[Buffer, Buffer]> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(Math.min(4, size));
    const tail = Buffer.alloc(Math.min(4, size));
    await handle.read(head, 0, head.length, 0);
    await handle.read(tail, 0, tail.length, size - tail.length);
    return [head, tail];
  } finally {
    await handle.close();
  }
}

function uniqueSuffix(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}
