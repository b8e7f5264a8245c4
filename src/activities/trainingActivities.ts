import type { ThresholdRule } from '../api/threshold';
import type { SchemaType, TimestampPolicy } from '../api/featureChoice';
import { resolveFeatures } from '../api/featureResolution';
import type { FeatureCellType } from '../data/cellValues';
import type { EntityManager } from '@mikro-orm/postgresql';
import { SNAPSHOT_FORMAT } from '../data/formats/names';
import { Dataset, Model } from '../db/entities';
import type { PinnedSource } from '../sources/pinSource';
import { modelArtifactKey } from '../storage/keys';
import type { ActivityDeps } from './deps';
import { notFound } from './failures';
import { lockModelName } from '../db/locks';

export interface CreateModelVersionInput {
  trainingWorkflowId: string;
  modelName: string;
  /** An uploaded dataset, or (instead) a source pinned for the training window. */
  datasetId?: string;
  snapshot?: { pinned: PinnedSource; lineage: Record<string, unknown> };
  algorithm: string;
  params: Record<string, unknown>;
  featureColumns?: string[];
  /** The rest of trainModel's column choice (src/api/featureChoice.ts), each only when given. */
  exclude?: string[];
  schema?: Record<string, SchemaType>;
  timestamps?: TimestampPolicy;
  /** The rule the model's jobs flag with unless a job gives its own; absent: contamination. */
  thresholdRule?: ThresholdRule;
}

export interface ModelVersionPlan {
  modelId: number;
  version: number;
  artifactKey: string;
  datasetKey: string;
  datasetSha256: string;
  datasetFormat: string;
  featureColumns: string[];
  labelColumn: string | null;
  /** The feature columns that are not numbers, and how they are read; absent when all are numbers. */
  cellTypes?: Record<string, FeatureCellType>;
}

export interface CompleteModelVersionInput {
  modelId: number;
  artifactSha256: string;
  threshold: number;
  trainRows: number;
  params: Record<string, number>;
  metrics: Record<string, number>;
  durationMs: number;
  /** package.json version + git commit of the code that fitted the model. */
  codeVersion?: string;
}

/** What a model is trained on, uploaded dataset or pinned source alike. */
async function trainingData(em: EntityManager, input: CreateModelVersionInput) {
  if (input.snapshot) {
    const { pinned, lineage } = input.snapshot;
    // The source's id column (its spec is the lineage's) is never a feature, as a dataset's is not.
    const idColumn = (lineage.source as { idColumn?: string } | undefined)?.idColumn ?? null;
    return {
      id: null,
      location: pinned.location,
      columns: pinned.columns,
      featureColumns: pinned.columns.filter((c) => c !== idColumn),
      idColumn,
      columnProfiles: null,
      columnTypes: pinned.columnTypes ?? null,
      sha256: pinned.snapshotSha256,
      objectKey: pinned.snapshotKey,
      format: SNAPSHOT_FORMAT as string,
      labelColumn: null,
    };
  }
  const dataset = await em.findOne(Dataset, { id: input.datasetId });
  if (!dataset) throw notFound(`dataset "${input.datasetId}" does not exist (nomaly datasets upload FILE prints its id)`);
  return { ...dataset, location: dataset.id, labelColumn: dataset.labelColumn ?? null };
}

export function createTrainingActivities({ orm }: ActivityDeps) {
  return {
    /**
     * Reserves the next version of a model name. Keyed by the training workflow id, so a retry
     * after a crash returns the version it already reserved instead of taking another.
     */
    async createModelVersion(input: CreateModelVersionInput): Promise<ModelVersionPlan> {
      return orm.em.fork().transactional(async (em) => {
        const dataset = await trainingData(em, input);
        // The columns and how to read them, from the dataset's profile and the input's choice (refused naming the field).
        const { featureColumns, cellTypes } = resolveFeatures(dataset, {
          ...(input.featureColumns ? { features: input.featureColumns } : {}),
          ...(input.exclude ? { exclude: input.exclude } : {}),
          ...(input.schema ? { schema: input.schema } : {}),
          timestamps: input.timestamps ?? 'cyclic',
        });
        // Versions per name are handed out one at a time; the lock lives until the transaction ends.
        await lockModelName(em, input.modelName);
        let model = await em.findOne(Model, { trainingWorkflowId: input.trainingWorkflowId });
        if (!model) {
          // Past every version this name ever had, deleted ones included: a number is never reused.
          const [{ next }] = await em.getConnection().execute<Array<{ next: number }>>(
            `insert into model_version_counter (name, last_version)
               values (?, (select coalesce(max(version), 0) + 1 from model where name = ?))
             on conflict (name) do update set last_version = greatest(model_version_counter.last_version, excluded.last_version - 1) + 1
             returning last_version as next`,
            [input.modelName, input.modelName],
            'all',
            em.getTransactionContext(),
          );
          model = em.create(Model, {
            name: input.modelName,
            version: Number(next),
            status: 'training',
            algorithm: input.algorithm,
            params: input.params,
            featureColumns,
            datasetId: dataset.id,
            datasetSha256: dataset.sha256,
            // The lineage keeps the types the source was read with, beside its snapshot.
            source: input.snapshot ? { ...input.snapshot.lineage, ...(input.snapshot.pinned.columnTypes ? { columnTypes: input.snapshot.pinned.columnTypes } : {}) } : null,
            artifactKey: modelArtifactKey(input.modelName, Number(next)),
            trainingWorkflowId: input.trainingWorkflowId,
            thresholdRule: input.thresholdRule ?? null,
            createdAt: new Date(),
          });
          await em.flush();
        }
        return {
          modelId: model.id,
          version: model.version,
          artifactKey: model.artifactKey,
          datasetKey: dataset.objectKey,
          datasetSha256: dataset.sha256,
          datasetFormat: dataset.format,
          featureColumns: model.featureColumns,
          labelColumn: dataset.labelColumn ?? null,
          ...(Object.keys(cellTypes).length > 0 ? { cellTypes } : {}),
        };
      });
    },

    /** Marks a version ready. The first ready version of a name becomes active, so `detect --model NAME` works at once. */
    async completeModelVersion(input: CompleteModelVersionInput): Promise<{ status: string }> {
      return orm.em.fork().transactional(async (em) => {
        const model = await em.findOneOrFail(Model, { id: input.modelId });
        if (model.status === 'training' || model.status === 'failed') {
          await lockModelName(em, model.name);
          const active = await em.count(Model, { name: model.name, status: 'active' });
          Object.assign(model, {
            status: active === 0 ? 'active' : 'ready',
            artifactSha256: input.artifactSha256,
            threshold: input.threshold,
            trainRows: input.trainRows,
            params: input.params,
            metrics: input.metrics,
            trainedAt: new Date(),
            durationMs: input.durationMs,
            codeVersion: input.codeVersion ?? null,
            error: null,
          });
        }
        return { status: model.status };
      });
    },

    async failModelVersion(input: { modelId: number; error: string }): Promise<void> {
      const em = orm.em.fork();
      await em.nativeUpdate(Model, { id: input.modelId, status: 'training' }, { status: 'failed', error: input.error.slice(0, 4000) });
    },
  };
}
