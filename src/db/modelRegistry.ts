/**
 * The model registry and dataset catalogue as the CLI and client see them: list, show, promote,
 * archive. Promotion is one transaction under the same per-name advisory lock that training
 * takes to hand out versions, and a partial unique index (`status = 'active'`) makes a second
 * active version of one name impossible even for code that forgets the lock.
 */
import type { ColumnProfile } from '../data/profile';
import { Dataset, Model, type ModelStatus } from './entities';
import type { Orm } from './orm';

export interface ModelInfo {
  id: number;
  name: string;
  version: number;
  status: ModelStatus;
  algorithm: string;
  params: Record<string, unknown>;
  featureColumns: string[];
  threshold: number | null;
  datasetId: string;
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
    datasetId: m.datasetId,
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
  constructor(private readonly orm: Orm) {}

  async listModels(filter: { name?: string; status?: ModelStatus } = {}): Promise<ModelInfo[]> {
    const where: Record<string, unknown> = {};
    if (filter.name) where.name = filter.name;
    if (filter.status) where.status = filter.status;
    const rows = await this.orm.em.fork().find(Model, where, { orderBy: { name: 'asc', version: 'desc' } });
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
      await em.getConnection().execute('select pg_advisory_xact_lock(hashtext(?))', [`model:${name}`], 'all', em.getTransactionContext());
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
      await em.getConnection().execute('select pg_advisory_xact_lock(hashtext(?))', [`model:${name}`], 'all', em.getTransactionContext());
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

  async listDatasets(): Promise<DatasetInfo[]> {
    const rows = await this.orm.em.fork().find(Dataset, {}, { orderBy: { createdAt: 'desc' } });
    return rows.map(datasetInfo);
  }

  async showDataset(id: string): Promise<DatasetInfo> {
    const row = await this.orm.em.fork().findOne(Dataset, { id });
    if (!row) throw new RegistryError(`dataset ${id} does not exist (nomaly datasets list shows the datasets)`);
    return datasetInfo(row);
  }
}
