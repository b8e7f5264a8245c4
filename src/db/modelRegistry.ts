/**
 * The model registry and dataset catalogue as the CLI and client see them: list, show, promote,
 * archive, delete. Promotion is one transaction under the same per-name advisory lock that training
 * takes to hand out versions, and a partial unique index (`status = 'active'`) makes a second
 * active version of one name impossible even for code that forgets the lock.
 */
import path from 'node:path';
import { cellTypesOf, type ColumnProfile } from '../data/profile';
import type { FeatureCellType } from '../data/cellValues';
import { jobScoresKey } from '../storage/keys';
import type { NomalyConfig } from '../config';
import type { ObjectStore } from '../storage/objectStore';
import { Dataset, DetectionJob, Model, type ModelStatus } from './entities';
import type { Orm } from './orm';
import { lockDataset, lockModelName } from './locks';

/** Every model status, for filters; a Record so the compiler notices a status added to ModelStatus. */
const STATUS_SET: Record<ModelStatus, true> = { training: true, ready: true, active: true, archived: true, failed: true };
export const MODEL_STATUSES = Object.keys(STATUS_SET) as ModelStatus[];

/** A page of a list: at most `limit` rows after skipping `offset`. */
export interface ListPage {
  limit?: number;
  offset?: number;
}

export interface ModelFilter {
  name?: string;
  status?: ModelStatus;
  /** Versions trained on this dataset. */
  dataset?: string;
}

export interface DatasetFilter {
  /** Datasets whose name contains this text (any case). */
  name?: string;
  format?: string;
}

/** A detection job's counts as its record holds them (live while it runs). */
export interface DetectionJobCounts {
  id: string;
  status: string;
  rows: number;
  rowsScored: number;
  anomalies: number;
  anomalyRate: number | null;
  durationMs: number | null;
}

/** Where deletions remove the objects of what they delete. */
export interface RegistryStorage {
  store: ObjectStore;
  buckets: NomalyConfig['buckets'];
}

export interface ModelInfo {
  id: number;
  name: string;
  version: number;
  status: ModelStatus;
  algorithm: string;
  params: Record<string, unknown>;
  featureColumns: string[];
  threshold: number | null;
  /** null when trained on a source (see `source`). */
  datasetId: string | null;
  /** Trained on a source: the source, its window and where it was read. */
  source: Record<string, unknown> | null;
  datasetSha256: string;
  artifactKey: string;
  artifactSha256: string | null;
  codeVersion: string | null;
  trainRows: number | null;
  metrics: Record<string, number>;
  trainingWorkflowId: string;
  error: string | null;
  createdAt: string;
  trainedAt: string | null;
  durationMs: number | null;
}

export interface DatasetInfo {
  id: string;
  name: string;
  sha256: string;
  format: string;
  sizeBytes: number;
  rows: number;
  columns: string[];
  featureColumns: string[];
  labelColumn: string | null;
  idColumn: string | null;
  columnProfiles: ColumnProfile[];
  /** The features that are categories or timestamps (from the profile; none for a dataset registered before types). */
  cellTypes: Record<string, FeatureCellType>;
  /** The uploaded file's sha256 when it was gzip-compressed and stored decompressed. */
  sourceSha256: string | null;
  createdAt: string;
}

export class RegistryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistryError';
  }
}

function iso(date: Date | null | undefined): string | null {
  return date ? new Date(date).toISOString() : null;
}

export function modelInfo(m: Model): ModelInfo {
  return {
    id: m.id,
    name: m.name,
    version: m.version,
    status: m.status,
    algorithm: m.algorithm,
    params: m.params,
    featureColumns: m.featureColumns,
    threshold: m.threshold ?? null,
    datasetId: m.datasetId ?? null,
    source: m.source ?? null,
    datasetSha256: m.datasetSha256,
    artifactKey: m.artifactKey,
    artifactSha256: m.artifactSha256 ?? null,
    codeVersion: m.codeVersion ?? null,
    trainRows: m.trainRows ?? null,
    metrics: m.metrics ?? {},
    trainingWorkflowId: m.trainingWorkflowId,
    error: m.error ?? null,
    createdAt: iso(m.createdAt)!,
    trainedAt: iso(m.trainedAt),
    durationMs: m.durationMs ?? null,
  };
}

export function datasetInfo(d: Dataset): DatasetInfo {
  return {
    id: d.id,
    name: d.name,
    sha256: d.sha256,
    format: d.format,
    sizeBytes: Number(d.sizeBytes),
    rows: d.rows,
    columns: d.columns,
    featureColumns: d.featureColumns,
    labelColumn: d.labelColumn ?? null,
    idColumn: d.idColumn ?? null,
    columnProfiles: d.columnProfiles ?? [],
    cellTypes: cellTypesOf(d.columnProfiles ?? []),
    sourceSha256: d.sourceSha256 ?? null,
    createdAt: iso(d.createdAt)!,
  };
}

/** `NAME@VERSION` → [name, version]; `NAME` → [name, undefined]. */
export function parseModelReference(reference: string): [string, number | undefined] {
  const match = /^([a-z0-9][a-z0-9_.-]{0,99})(?:@([1-9][0-9]*))?$/i.exec(reference);
  if (!match) throw new RegistryError(`"${reference}" is not a model reference (use NAME or NAME@VERSION)`);
  return [match[1], match[2] === undefined ? undefined : Number(match[2])];
}

export class ModelRegistry {
  constructor(
    private readonly orm: Orm,
    /** Needed by the deletions only: they remove objects as well as rows. */
    private readonly storage?: RegistryStorage,
  ) {}

  async listModels(filter: ModelFilter = {}, page: ListPage = {}): Promise<ModelInfo[]> {
    const where: Record<string, unknown> = {};
    if (filter.name) where.name = filter.name;
    if (filter.status) where.status = filter.status;
    if (filter.dataset) where.datasetId = filter.dataset;
    const rows = await this.orm.em.fork().find(Model, where, { orderBy: { name: 'asc', version: 'desc' }, limit: page.limit, offset: page.offset });
    return rows.map(modelInfo);
  }

  /** `NAME` shows the active version (else the newest); `NAME@VERSION` that version. */
  async showModel(reference: string): Promise<ModelInfo> {
    const [name, version] = parseModelReference(reference);
    const em = this.orm.em.fork();
    const model =
      version !== undefined
        ? await em.findOne(Model, { name, version })
        : ((await em.findOne(Model, { name, status: 'active' })) ?? (await em.findOne(Model, { name }, { orderBy: { version: 'desc' } })));
    if (!model) throw new RegistryError(`model ${reference} does not exist (nomaly models list shows the models)`);
    return modelInfo(model);
  }

  /**
   * Makes NAME@VERSION the one active version of NAME; the previously active one becomes ready.
   * Atomic: concurrent promotions of one name serialise on the name's lock, and every reader
   * sees exactly one active version before and after.
   */
  async promote(reference: string): Promise<{ promoted: ModelInfo; previous: number | null }> {
    const [name, version] = parseModelReference(reference);
    if (version === undefined) throw new RegistryError(`promote needs a version: ${name}@VERSION`);
    return this.orm.em.fork().transactional(async (em) => {
      await lockModelName(em, name);
      const target = await em.findOne(Model, { name, version });
      if (!target) throw new RegistryError(`model ${reference} does not exist`);
      if (target.status === 'training' || target.status === 'failed') {
        throw new RegistryError(`model ${reference} is ${target.status}; only a trained version (ready or archived) can be promoted`);
      }
      const current = await em.findOne(Model, { name, status: 'active' });
      if (current && current.id === target.id) return { promoted: modelInfo(target), previous: version };
      // Demote first and flush, so the partial unique index never sees two active rows.
      if (current) {
        await em.nativeUpdate(Model, { id: current.id }, { status: 'ready' });
      }
      await em.nativeUpdate(Model, { id: target.id }, { status: 'active' });
      target.status = 'active';
      return { promoted: modelInfo(target), previous: current?.version ?? null };
    });
  }

  /** Archives a version: kept, but no longer picked by NAME. The active version cannot be archived; promote another first. */
  async archive(reference: string): Promise<ModelInfo> {
    const [name, version] = parseModelReference(reference);
    if (version === undefined) throw new RegistryError(`archive needs a version: ${name}@VERSION`);
    return this.orm.em.fork().transactional(async (em) => {
      await lockModelName(em, name);
      const target = await em.findOne(Model, { name, version });
      if (!target) throw new RegistryError(`model ${reference} does not exist`);
      if (target.status === 'active') {
        throw new RegistryError(`model ${reference} is the active version of "${name}"; promote another version first (nomaly models promote ${name}@N)`);
      }
      if (target.status === 'training') throw new RegistryError(`model ${reference} is still training`);
      await em.nativeUpdate(Model, { id: target.id }, { status: 'archived' });
      target.status = 'archived';
      return modelInfo(target);
    });
  }

  async listDatasets(filter: DatasetFilter = {}, page: ListPage = {}): Promise<DatasetInfo[]> {
    const where: Record<string, unknown> = {};
    if (filter.name) where.name = { $ilike: `%${filter.name.replace(/[\\%_]/g, (c) => `\\${c}`)}%` };
    if (filter.format) where.format = filter.format;
    const rows = await this.orm.em.fork().find(Dataset, where, { orderBy: { createdAt: 'desc', id: 'asc' }, limit: page.limit, offset: page.offset });
    return rows.map(datasetInfo);
  }

  /** The records of these detection jobs (ids of `nomaly jobs`), by id; jobs without one are left out. */
  async detectionJobCounts(ids: string[]): Promise<Map<string, DetectionJobCounts>> {
    if (ids.length === 0) return new Map();
    const rows = await this.orm.em.fork().find(DetectionJob, { id: { $in: ids } });
    return new Map(
      rows.map((j) => [
        j.id,
        { id: j.id, status: j.status, rows: j.rows, rowsScored: j.rowsScored, anomalies: j.anomalies, anomalyRate: j.anomalyRate ?? null, durationMs: j.durationMs ?? null },
      ]),
    );
  }

  /**
   * Deletes NAME@VERSION, or every version of NAME: rows and artifacts. Refuses, naming the
   * version and why, the active version alone (detection by NAME would silently move to another;
   * deleting NAME removes the name with it), a version still training, and one a running
   * detection job scores with. Finished jobs keep their results (their model becomes null).
   * Under the name's lock, like promotion, in one transaction that commits only
   * after the artifacts are gone.
   */
  async deleteModel(reference: string): Promise<ModelInfo[]> {
    const storage = this.requireStorage();
    const [name, version] = parseModelReference(reference);
    return this.orm.em.fork().transactional(async (em) => {
      await lockModelName(em, name);
      const targets = await em.find(Model, version === undefined ? { name } : { name, version }, { orderBy: { version: 'asc' } });
      if (targets.length === 0) throw new RegistryError(`model ${reference} does not exist (nomaly models list shows the models)`);
      const refusals: string[] = [];
      for (const m of targets) {
        // Only one version of several: NAME would silently switch to another. The whole name may go.
        if (m.status === 'active' && version !== undefined) refusals.push(`${m.name}@${m.version} is the active version (detection by "${m.name}" uses it): promote another version first (nomaly models promote ${m.name}@N)`);
        if (m.status === 'training') refusals.push(`${m.name}@${m.version} is still training (workflow ${m.trainingWorkflowId})`);
      }
      const running = await em.find(DetectionJob, { modelId: { $in: targets.map((m) => m.id) }, status: 'running' }, { orderBy: { id: 'asc' } });
      for (const job of running) {
        const m = targets.find((t) => t.id === job.modelId)!;
        refusals.push(`${m.name}@${m.version} is scoring in running job ${job.id} (wait for it, or nomaly cancel ${job.id})`);
      }
      if (refusals.length > 0) throw new RegistryError(`model ${reference} was not deleted: ${refusals.join('; ')}`);
      // Rows first (uncommitted: a job starting on them now waits on their locks, then finds them
      // gone), artifacts next; if removing an artifact fails, the rows come back and a retry finishes.
      await em.nativeDelete(Model, { id: { $in: targets.map((m) => m.id) } });
      await storage.store.removeMany(storage.buckets.models, targets.map((m) => m.artifactKey));
      return targets.map(modelInfo);
    });
  }

  /**
   * Deletes a dataset: its row and its objects (the file and what was derived from it, such as a
   * CSV's row index). A model's lineage and a detection job's record point at their dataset, so
   * it refuses while any model version was trained on it (naming them) or any job scores or
   * scored it, unless `withJobs`: then finished jobs go too, with their anomalies and result
   * files. A running job always stops it.
   */
  async deleteDataset(id: string, options: { withJobs?: boolean } = {}): Promise<{ dataset: DatasetInfo; removedJobs: string[] }> {
    const storage = this.requireStorage();
    return this.orm.em.fork().transactional(async (em) => {
      await lockDataset(em, id);
      const dataset = await em.findOne(Dataset, { id });
      if (!dataset) throw new RegistryError(`dataset ${id} does not exist (nomaly datasets list shows the datasets)`);
      const refusals: string[] = [];
      const models = await em.find(Model, { datasetId: id }, { orderBy: { name: 'asc', version: 'asc' } });
      if (models.length > 0) {
        const named = models.map((m) => `${m.name}@${m.version} (${m.status})`).join(', ');
        refusals.push(`model versions were trained on it: ${named}; delete them first (nomaly models delete NAME@VERSION)`);
      }
      const jobs = await em.find(DetectionJob, { datasetId: id }, { orderBy: { id: 'asc' } });
      const running = jobs.filter((j) => j.status === 'running');
      if (running.length > 0) refusals.push(`running detection jobs use it: ${running.map((j) => j.id).join(', ')} (wait for them, or nomaly cancel JOB)`);
      else if (jobs.length > 0 && !options.withJobs) {
        refusals.push(`${jobs.length} finished detection job(s) scored it (e.g. ${jobs[0].id}); add --with-jobs to delete their records and results too`);
      }
      if (refusals.length > 0) throw new RegistryError(`dataset ${id} was not deleted: ${refusals.join('; ')}`);
      // Rows first, uncommitted: a job that starts on this dataset meanwhile fails on the foreign
      // key instead of finding its file gone; if removing an object fails, the rows come back.
      if (jobs.length > 0) await em.nativeDelete(DetectionJob, { id: { $in: jobs.map((j) => j.id) } });
      await em.nativeDelete(Dataset, { id });
      for (const job of jobs) {
        await storage.store.removeMany(storage.buckets.results, await storage.store.listKeys(storage.buckets.results, `${path.posix.dirname(jobScoresKey(job.id))}/`));
      }
      // The file and every object derived from it share its content-addressed key as a prefix.
      const derived = await storage.store.listKeys(storage.buckets.datasets, dataset.objectKey.replace(/\.[^./]+$/, ''));
      await storage.store.removeMany(storage.buckets.datasets, [...new Set([dataset.objectKey, ...derived])]);
      return { dataset: datasetInfo(dataset), removedJobs: jobs.map((j) => j.id) };
    });
  }

  private requireStorage(): RegistryStorage {
    if (!this.storage) throw new Error('ModelRegistry: deleting needs the object store (new ModelRegistry(orm, { store, buckets }))');
    return this.storage;
  }

  async showDataset(id: string): Promise<DatasetInfo> {
    const row = await this.orm.em.fork().findOne(Dataset, { id });
    if (!row) throw new RegistryError(`dataset ${id} does not exist (nomaly datasets list shows the datasets)`);
    return datasetInfo(row);
  }
}
