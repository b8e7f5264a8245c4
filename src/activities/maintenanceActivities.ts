import { Model } from '../db/entities';
import type { ActivityDeps } from './deps';
import { lockModelName } from '../db/locks';

export interface RemoveExpiredModelsInput {
  /** Models created more than this many days ago are candidates. */
  retentionDays: number;
  /** The workflow's start time (ISO), so a retried activity uses the same cutoff. */
  now: string;
}

export interface RemovedModel {
  name: string;
  version: number;
  status: string;
  artifactKey: string;
  createdAt: string;
}

export interface RemoveExpiredModelsResult {
  cutoff: string;
  removed: RemovedModel[];
}

/** Statuses maintenance may remove. `active` never; `training` belongs to a running workflow. */
const REMOVABLE = ['ready', 'archived', 'failed'];

export function createMaintenanceActivities({ orm, store, config, logger }: ActivityDeps) {
  return {
    /**
     * Removes model versions older than the retention age that are not active and not used by a
     * detection job younger than that age: artifact and registry row together. Each model is
     * removed in its own transaction under its name's lock, with the conditions checked again
     * inside it; the artifact goes first, so a crash leaves at most a row whose artifact is gone,
     * which the retry then removes. Older jobs that used a removed model keep their results
     * (their model_id becomes null).
     */
    async removeExpiredModels(input: RemoveExpiredModelsInput): Promise<RemoveExpiredModelsResult> {
      const cutoff = new Date(new Date(input.now).getTime() - input.retentionDays * 86_400_000);
      const candidatesSql = `
        select m.id from model m
        where m.created_at < ? and m.status in (${REMOVABLE.map(() => '?').join(',')})
          and not exists (select 1 from detection_job j where j.model_id = m.id and j.started_at >= ?)
        order by m.name, m.version`;
      const candidates = await orm.em
        .fork()
        .getConnection()
        .execute<Array<{ id: number }>>(candidatesSql, [cutoff, ...REMOVABLE, cutoff]);
      const removed: RemovedModel[] = [];
      for (const { id } of candidates) {
        const gone = await orm.em.fork().transactional(async (em) => {
          const model = await em.findOne(Model, { id });
          if (!model) return undefined;
          await lockModelName(em, model.name);
          const [still] = await em.getConnection().execute<Array<{ ok: boolean }>>(
            `select (m.status in (${REMOVABLE.map(() => '?').join(',')}) and m.created_at < ?
                     and not exists (select 1 from detection_job j where j.model_id = m.id and j.started_at >= ?)) as ok
             from model m where m.id = ?`,
            [...REMOVABLE, cutoff, cutoff, id],
            'all',
            em.getTransactionContext(),
          );
          if (!still?.ok) return undefined;
          await store.remove(config.buckets.models, model.artifactKey);
          await em.getConnection().execute('delete from model where id = ?', [id], 'run', em.getTransactionContext());
          return {
            name: model.name,
            version: model.version,
            status: model.status,
            artifactKey: model.artifactKey,
            createdAt: new Date(model.createdAt).toISOString(),
          };
        });
        if (gone) {
          removed.push(gone);
          logger.info({ model: `${gone.name}@${gone.version}` }, 'maintenance removed an expired model');
        }
      }
      return { cutoff: cutoff.toISOString(), removed };
    },
  };
}

export type MaintenanceActivities = ReturnType<typeof createMaintenanceActivities>;
