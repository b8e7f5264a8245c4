import type { NomalyConfig } from '../config';
import type { Orm } from '../db/orm';
import { ChecksumMismatchError, ObjectMissingError, ObjectUnreadableError } from '../storage/objectStore';
import { BackupIntegrityError } from './backupIntegrityError';
import { modelBackupKey, partKey } from './backupKeys';
import type { BackupStore } from './backupStore';
import type { ModelEntry, ModelsPart } from './manifest';
import type { ReportProgress } from './progress';

interface RegisteredArtifact {
  id: number;
  name: string;
  version: number;
  artifact_key: string;
  artifact_sha256: string;
}

/** Every registered model that has an artifact (failed trainings have none worth keeping), oldest first. */
async function registeredArtifacts(orm: Orm): Promise<RegisteredArtifact[]> {
  return orm.em
    .fork()
    .getConnection()
    .execute<RegisteredArtifact[]>("select id, name, version, artifact_key, artifact_sha256 from model where artifact_sha256 is not null and status <> 'failed' order by id");
}

/**
 * Copies every registered model artifact into the backup bucket under its sha256, once: an
 * artifact already there (from any earlier backup) is not copied again. An artifact missing or
 * damaged in the models bucket is listed in `missing`, not copied. Records the models part.
 */
export async function backupModelArtifacts(bs: BackupStore, orm: Orm, backupId: string, progress: ReportProgress): Promise<ModelsPart & { missing: string[] }> {
  const { store } = bs;
  const modelsBucket = bs.config.buckets.models;
  const rows = await registeredArtifacts(orm);
  const models: ModelEntry[] = [];
  const missing: string[] = [];
  let copied = 0;
  let reused = 0;
  for (const [i, row] of rows.entries()) {
    progress({ phase: 'models', done: i, total: rows.length });
    const key = modelBackupKey(row.artifact_sha256);
    let stored = await store.stat(bs.bucket, key);
    if (stored && stored.sha256 === row.artifact_sha256) {
      reused++;
    } else {
      let bytes: Buffer;
      try {
        bytes = await store.readPersistently(modelsBucket, row.artifact_key, () => store.getVerifiedBytes(modelsBucket, row.artifact_key, row.artifact_sha256));
      } catch (err) {
        if (err instanceof ObjectMissingError || err instanceof ObjectUnreadableError || (err as Error).name === 'ChecksumMismatchError') {
          missing.push(`${row.name}@${row.version}: ${(err as Error).message}`);
          continue;
        }
        throw err;
      }
      stored = await store.putBytes(bs.bucket, key, bytes);
      copied++;
    }
    models.push({ modelId: row.id, name: row.name, version: row.version, artifactKey: row.artifact_key, key, size: stored.size, sha256: row.artifact_sha256 });
  }
  const part = { models, copied, reused, missing };
  await bs.putJson(partKey(backupId, 'models', bs.encryptionKey() !== null), part);
  return part;
}

/** Copies model artifacts back into the models bucket (only those missing or altered) and re-verifies each. */
export async function restoreModelArtifacts(bs: BackupStore, models: ModelEntry[], progress: ReportProgress): Promise<{ models: number; restored: number; unchanged: number }> {
  const { store } = bs;
  const modelsBucket = bs.config.buckets.models;
  await store.ensureBuckets([modelsBucket]);
  let restored = 0;
  let unchanged = 0;
  for (const [i, model] of models.entries()) {
    progress({ phase: 'models', done: i, total: models.length });
    const intact = await store.readPersistently(modelsBucket, model.artifactKey, () => store.getVerifiedBytes(modelsBucket, model.artifactKey, model.sha256)).then(
      () => true,
      (err: Error) => {
        // A damaged live artifact is replaced from the backup like a missing one.
        if (err instanceof ObjectMissingError || err instanceof ChecksumMismatchError || err instanceof ObjectUnreadableError) return false;
        throw err;
      },
    );
    if (intact) {
      unchanged++;
      continue;
    }
    const bytes = await bs.getVerifiedBytes(model.key, model.sha256).catch((err: Error) => {
      if (err instanceof ObjectMissingError || err instanceof ChecksumMismatchError) throw new BackupIntegrityError(err.message);
      throw err;
    });
    await store.putBytes(modelsBucket, model.artifactKey, bytes);
    await store.getVerifiedBytes(modelsBucket, model.artifactKey, model.sha256);
    restored++;
  }
  return { models: models.length, restored, unchanged };
}

/** Registered models whose artifact is missing from the models bucket or has another sha256, each named. */
export async function registryArtifactsMissing(orm: Orm, bs: { store: BackupStore['store']; config: NomalyConfig }): Promise<{ models: number; missing: string[] }> {
  const modelsBucket = bs.config.buckets.models;
  const rows = await registeredArtifacts(orm);
  const missing: string[] = [];
  for (const row of rows) {
    const stat = await bs.store.stat(modelsBucket, row.artifact_key);
    if (!stat) missing.push(`${row.name}@${row.version} (${modelsBucket}/${row.artifact_key} missing)`);
    else if (stat.sha256 && stat.sha256 !== row.artifact_sha256) missing.push(`${row.name}@${row.version} (${row.artifact_key} has another sha256)`);
  }
  return { models: rows.length, missing };
}
