/**
 * What the client reads from the platform's records without a workflow: the registry (models,
 * datasets, detection job counts, a job's anomalies) in PostgreSQL, results and backup manifests
 * in MinIO. Read-only: every change goes through a workflow (or, for the registry edits that have
 * none yet, registryEdits.ts).
 *
 * The shared result types and the backup catalogue are re-exported from here for the rest of the client.
 */
import { BackupStore } from '../backup/backupStore';
import type { BackupManifest } from '../backup/manifest';
import type { DatasetSummary, DetectionSummary } from '../api/results';
import type { NomalyConfig } from '../config';
import { ModelRegistry, type DatasetFilter, type DatasetInfo, type DetectionJobCounts, type ListPage, type ModelFilter, type ModelInfo } from '../db/modelRegistry';
import type { ObjectStore } from '../storage/objectStore';
import type { ClientDatabase } from './database';
import { downloadJobScores, type DownloadedResults } from './resultsDownload';
import { datasetReader } from '../sources/datasetReader';
import { readJobAnomalies, type JobAnomalies } from '../results/jobAnomalies';

export type { BackupManifest, DatasetSummary, DetectionSummary, JobAnomalies };

/** How long a signed result link works: MinIO refuses more than 7 days. */
export const RESULT_LINK_DAYS = 7;

export interface ResultLinks {
  reportUrl: string;
  scoresUrl: string;
  scoresCsvUrl?: string;
}

/** The catalog's last re-check of a backup. */
export interface BackupCheck {
  state: 'verified' | 'corrupt';
  at: string;
  problem: string | null;
}

export class ReadStore {
  constructor(
    private readonly config: NomalyConfig,
    private readonly store: ObjectStore,
    private readonly database: ClientDatabase,
  ) {}

  private async registry(): Promise<ModelRegistry> {
    return new ModelRegistry(await this.database.orm(), { store: this.store, buckets: this.config.buckets });
  }

  async listModels(filter: ModelFilter = {}, page: ListPage = {}): Promise<ModelInfo[]> {
    return (await this.registry()).listModels(filter, page);
  }

  /** NAME (its active version) or NAME@VERSION. */
  async showModel(reference: string): Promise<ModelInfo> {
    return (await this.registry()).showModel(reference);
  }

  async listDatasets(filter: DatasetFilter = {}, page: ListPage = {}): Promise<DatasetInfo[]> {
    return (await this.registry()).listDatasets(filter, page);
  }

  async showDataset(id: string): Promise<DatasetInfo> {
    return (await this.registry()).showDataset(id);
  }

  /** Rows, anomalies and duration of these detection jobs, from their records (live while they run). */
  async detectionJobCounts(jobIds: string[]): Promise<Map<string, DetectionJobCounts>> {
    return (await this.registry()).detectionJobCounts(jobIds);
  }

  /** Backups from their manifests in MinIO (the source of truth: this works with the database lost), newest first. */
  async listBackups(): Promise<BackupManifest[]> {
    const backups = new BackupStore(this.config, this.store);
    const manifests: BackupManifest[] = [];
    for (const id of (await backups.listBackupIds()).reverse()) {
      manifests.push(await backups.readManifest(id));
    }
    return manifests;
  }

  async showBackup(backupId: string): Promise<BackupManifest> {
    return new BackupStore(this.config, this.store).readManifest(backupId);
  }

  /**
   * The catalog's re-check results by backup id; null when the database does not answer (the
   * backup list itself comes from the manifests, which do not need it).
   */
  async backupChecks(): Promise<Map<string, BackupCheck> | null> {
    try {
      const rows = await (await this.database.orm()).em
        .fork()
        .getConnection()
        .execute<Array<{ id: string; last_checked_at: Date; check_state: BackupCheck['state']; check_problem: string | null }>>(
          'select id, last_checked_at, check_state, check_problem from backup where last_checked_at is not null',
        );
      return new Map(rows.map((r) => [r.id, { state: r.check_state, at: new Date(r.last_checked_at).toISOString(), problem: r.check_problem }]));
    } catch {
      return null;
    }
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

  /** A completed detection job's scores written to a local file (CSV or Parquet). */
  async downloadJobScores(jobId: string, options: { format: string; out?: string }): Promise<DownloadedResults> {
    // A job over a source reads its rows' keys from its snapshot, through this machine's connections.
    const snapshot = datasetReader(this.config, this.store);
    return downloadJobScores({ orm: await this.database.orm(), store: this.store, buckets: this.config.buckets, snapshot }, jobId, options);
  }

  /** A completed detection job's `top` highest-scoring anomalies with their p-values and explanations, and the rule that flagged them. */
  async jobAnomalies(jobId: string, top: number): Promise<JobAnomalies> {
    return readJobAnomalies(await this.database.orm(), jobId, top);
  }

  private signedUrl(bucket: string, key: string): Promise<string> {
    return this.store.client.presignedGetObject(bucket, key, RESULT_LINK_DAYS * 24 * 3600);
  }
}
