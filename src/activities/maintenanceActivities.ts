import { expiredModelIds, removeExpiredModel, type RemovedModel } from '../db/modelRetention';
import type { ActivityDeps } from './deps';

export type { RemovedModel };

export interface RemoveExpiredModelsInput {
  /** Models created more than this many days ago are candidates. */
  retentionDays: number;
  /** The workflow's start time (ISO), so a retried activity uses the same cutoff. */
  now: string;
}

export interface RemoveExpiredModelsResult {
  cutoff: string;
  removed: RemovedModel[];
}

export function createMaintenanceActivities({ orm, store, config, logger }: ActivityDeps) {
  return {
    /**
     * Removes model versions older than the retention age that are not active and not used by a
     * detection job younger than that age (src/db/modelRetention.ts), one at a time. Older jobs
     * that used a removed model keep their results (their model_id becomes null).
     */
    async removeExpiredModels(input: RemoveExpiredModelsInput): Promise<RemoveExpiredModelsResult> {
      const cutoff = new Date(new Date(input.now).getTime() - input.retentionDays * 86_400_000);
      const removed: RemovedModel[] = [];
      for (const id of await expiredModelIds(orm, cutoff)) {
        const gone = await removeExpiredModel(orm, id, cutoff, (key) => store.remove(config.buckets.models, key));
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
