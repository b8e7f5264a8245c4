/**
 * Which model versions retention may remove, and removing one: its artifact and registry row
 * together. `active` never goes; `training` belongs to a running workflow; a version used by a
 * detection job younger than the cutoff stays.
 */
import { Model } from './entities';
import { lockModelName } from './locks';
import type { Orm } from './orm';

const REMOVABLE = ['ready', 'archived', 'failed'];
const placeholders = REMOVABLE.map(() => '?').join(',');

export interface RemovedModel {
  name: string;
  version: number;
  status: string;
  artifactKey: string;
  createdAt: string;
}

/** Ids of the versions created before `cutoff` that retention may remove, by name and version. */
export async function expiredModelIds(orm: Orm, cutoff: Date): Promise<number[]> {
  const rows = await orm.em.fork().getConnection().execute<Array<{ id: number }>>(
    `select m.id from model m
     where m.created_at < ? and m.status in (${placeholders})
       and not exists (select 1 from detection_job j where j.model_id = m.id and j.started_at >= ?)
     order by m.name, m.version`,
    [cutoff, ...REMOVABLE, cutoff],
  );
  return rows.map((row) => row.id);
}

/**
 * Removes one version in its own transaction under its name's lock, with the conditions checked
 * again inside it. The artifact goes first, so a crash leaves at most a row whose artifact is
 * gone, which a retry then removes. Undefined when the version is gone or no longer removable.
 */
export async function removeExpiredModel(
  orm: Orm,
  id: number,
  cutoff: Date,
  removeArtifact: (artifactKey: string) => Promise<void>,
): Promise<RemovedModel | undefined> {
  return orm.em.fork().transactional(async (em) => {
    const model = await em.findOne(Model, { id });
    if (!model) return undefined;
    await lockModelName(em, model.name);
    const [still] = await em.getConnection().execute<Array<{ ok: boolean }>>(
      `select (m.status in (${placeholders}) and m.created_at < ?
               and not exists (select 1 from detection_job j where j.model_id = m.id and j.started_at >= ?)) as ok
       from model m where m.id = ?`,
      [...REMOVABLE, cutoff, cutoff, id],
      'all',
      em.getTransactionContext(),
    );
    if (!still?.ok) return undefined;
    await removeArtifact(model.artifactKey);
    await em.getConnection().execute('delete from model where id = ?', [id], 'run', em.getTransactionContext());
    return { name: model.name, version: model.version, status: model.status, artifactKey: model.artifactKey, createdAt: new Date(model.createdAt).toISOString() };
  });
}
