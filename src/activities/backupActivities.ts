import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { Backup, scopeIncludesDatabase, scopeIncludesModels, type BackupScope } from '../db/backupEntities';
import { EncryptionError, EncryptStream } from '../storage/encryption';
import { HashingStream } from '../storage/hashingStream';
import { ObjectMissingError, ObjectUnreadableError } from '../storage/objectStore';
import { BackupIntegrityError } from '../backup/backupIntegrityError';
import { attemptStagingKey, backupPrefix, dumpKey, modelBackupKey, partKey } from '../backup/backupKeys';
import { BackupStore } from '../backup/backupStore';
import { MANIFEST_FORMAT, type BackupManifest, type DatabasePart, type ModelEntry, type ModelsPart, type ObjectEntry, type Verification } from '../backup/manifest';
import { restoreDump } from '../backup/restore';
import { cancellationSignal, heartbeat, withHeartbeat } from './heartbeat';
import type { ActivityDeps } from './deps';
import { BACKUP_ERRORS, failFastOnPermanent } from './failures';
import {
  childConnection,
  compareRowCounts,
  createEmptyDatabase,
  databaseNameOf,
  derivedDatabaseName,
  dropDatabaseIfExists,
  resolvePgBinary,
  runTool,
  serverVersion,
  tableRowCounts,
  urlForDatabase,
  withDatabase,
} from '../backup/pgTools';

export interface BeginBackupInput {
  backupId: string;
  scope: BackupScope;
  workflowId: string;
  startedAt: string;
}

export interface DumpSummary {
  dump: ObjectEntry;
  tables: number;
  rows: number;
  sizeBytes: number;
  pgVersion: string;
}

export interface ModelsSummary {
  models: number;
  copied: number;
  reused: number;
  missing: string[];
}

export interface FinishBackupInput {
  backupId: string;
  scope: BackupScope;
  workflowId: string;
  startedAt: string;
  verification?: Verification;
  /** Set when a step failed for good: the backup is recorded as failed with this reason. */
  error?: string;
}

export interface FinishBackupResult {
  backupId: string;
  status: 'verified' | 'failed';
  manifestKey: string | null;
  objects: number;
  bytes: number;
  problems: string[];
}

export interface RetentionInput {
  /** ISO time retention is computed against (the workflow's clock). */
  now: string;
  retentionDays?: number;
  modelBackupsKeep?: number;
}

export interface RetentionResult {
  /** Backups deleted entirely. */
  pruned: string[];
  /** Full backups kept for their database whose model part was dropped (beyond the last N model backups). */
  modelPartsPruned: string[];
  artifactsRemoved: number;
}


export function createBackupActivities({ config, orm, store, logger, metrics }: ActivityDeps) {
  const bs = new BackupStore(config, store);
  const dbName = databaseNameOf(config.databaseUrl);
  /** pg_dump, the row counts and the verification's scratch database run as the backup role. */
  const backupUrl = urlForDatabase(config.backupDatabaseUrl, dbName);

  async function readParts(backupId: string, scope: BackupScope) {
    const encrypted = bs.encryptionKey() !== null;
    const database = scopeIncludesDatabase(scope) ? await bs.getJson<DatabasePart>(partKey(backupId, 'database', encrypted)) : null;
    const models = scopeIncludesModels(scope) ? await bs.getJson<ModelsPart>(partKey(backupId, 'models', encrypted)) : null;
    return { database, models };
  }

  return {
    /** Records the backup as running. Keyed by the backup id: a retry finds its own row. */
    async beginBackup(input: BeginBackupInput): Promise<{ encrypted: boolean; keyId: string | null }> {
      const key = bs.encryptionKey();
      await bs.ensureBucket();
      const em = orm.em.fork();
      await em.upsert(
        Backup,
        {
          id: input.backupId,
          scope: input.scope,
          status: 'running',
          startedAt: new Date(input.startedAt),
          workflowId: input.workflowId,
          encryptionKeyId: key?.id ?? null,
        },
        { onConflictFields: ['id'], onConflictAction: 'ignore' },
      );
      return { encrypted: key !== null, keyId: key?.id ?? null };
    },

    /**
     * pg_dump -Fc of the platform database from an exported REPEATABLE READ snapshot, with the
     * row counts taken on that same snapshot, streamed (optionally encrypted) into MinIO under
     * an attempt-unique staging key and published by copy once its sha256 is known.
     */
    async dumpDatabase(input: { backupId: string }): Promise<DumpSummary> {
      return failFastOnPermanent(
        () =>
          withHeartbeat(async () => {
        const key = bs.encryptionKey();
        await bs.clearStaging(input.backupId); // what an earlier, killed attempt left behind
        const pg = new Client({ connectionString: backupUrl });
        await pg.connect();
        try {
          await pg.query('begin isolation level repeatable read read only');
          const { rows } = await pg.query<{ snapshot: string; at: Date; size: string }>(
            'select pg_export_snapshot() as snapshot, now() as at, pg_database_size(current_database()) as size',
          );
          const { snapshot, at } = rows[0];
          const version = await serverVersion(pg);
          heartbeat({ phase: 'counting rows' });
          const rowCounts = await tableRowCounts(pg);
          const bin = await resolvePgBinary('pg_dump', version.major);
          const { dbname, env } = childConnection(backupUrl);
          const run = runTool(bin, ['--format=custom', `--snapshot=${snapshot}`, `--dbname=${dbname}`], env, 'read');
          const signal = cancellationSignal();
          const onAbort = () => run.child.kill('SIGKILL');
          signal?.addEventListener('abort', onAbort);
          const stagingKey = attemptStagingKey(input.backupId, 'platform.dump');
          let lastBeat = 0;
          const hasher = new HashingStream((bytes) => {
            if (Date.now() - lastBeat > 1000) {
              lastBeat = Date.now();
              heartbeat({ phase: 'uploading', bytes });
            }
          });
          try {
            const upload = bs
              .putStream(stagingKey, hasher)
              .catch((err: Error) => {
                // Nobody reads the stream any more: stop pg_dump instead of blocking on a full pipe.
                run.child.kill('SIGKILL');
                hasher.destroy(err);
                throw err;
              });
            const piped = key
              ? pipeline(run.child.stdout!, new EncryptStream(key), hasher)
              : pipeline(run.child.stdout!, hasher);
            const results = await Promise.allSettled([run.done, piped, upload]);
            const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
            if (failed) throw failed.reason;
          } finally {
            signal?.removeEventListener('abort', onAbort);
            if (run.child.exitCode === null) run.child.kill('SIGKILL');
          }
          await pg.query('commit');
          const digest = await hasher.digest;
          const published = await store.publishByCopy(bs.bucket, stagingKey, dumpKey(input.backupId, key !== null), digest);
          const dump: ObjectEntry = { key: published.key, size: published.size, sha256: published.sha256 };
          const part: DatabasePart = {
            name: dbName,
            pgVersion: version.version,
            pgMajor: version.major,
            sizeBytes: Number(rows[0].size),
            snapshotAt: new Date(at).toISOString(),
            rowCounts,
            dump,
          };
          await bs.putJson(partKey(input.backupId, 'database', key !== null), part);
          await orm.em.fork().nativeUpdate(Backup, { id: input.backupId }, { pgVersion: version.version, dbSizeBytes: part.sizeBytes });
          logger.info({ backupId: input.backupId, bytes: dump.size, tables: Object.keys(rowCounts).length }, 'database dumped');
          return {
            dump,
            tables: Object.keys(rowCounts).length,
            rows: Object.values(rowCounts).reduce((a, b) => a + b, 0),
            sizeBytes: part.sizeBytes,
            pgVersion: version.version,
          };
        } finally {
          await pg.end().catch(() => undefined);
        }
          }),
        BACKUP_ERRORS,
      );
    },

    /**
     * Copies every registered model artifact into the backup store under its sha256, once:
     * an artifact already there (from any earlier backup) is not copied again.
     */
    async backupModelArtifacts(input: { backupId: string }): Promise<ModelsSummary> {
      return failFastOnPermanent(
        () =>
          withHeartbeat(async () => {
        const rows = await orm.em
          .fork()
          .getConnection()
          .execute<Array<{ id: number; name: string; version: number; artifact_key: string; artifact_sha256: string }>>(
            "select id, name, version, artifact_key, artifact_sha256 from model where artifact_sha256 is not null and status <> 'failed' order by id",
          );
        const models: ModelEntry[] = [];
        const missing: string[] = [];
        let copied = 0;
        let reused = 0;
        for (const [i, row] of rows.entries()) {
          heartbeat({ phase: 'models', done: i, total: rows.length });
          const key = modelBackupKey(row.artifact_sha256);
          let stored = await store.stat(bs.bucket, key);
          if (stored && stored.sha256 === row.artifact_sha256) {
            reused++;
          } else {
            let bytes: Buffer;
            try {
              bytes = await store.readPersistently(config.buckets.models, row.artifact_key, () =>
                store.getVerifiedBytes(config.buckets.models, row.artifact_key, row.artifact_sha256),
              );
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
          models.push({
            modelId: row.id,
            name: row.name,
            version: row.version,
            artifactKey: row.artifact_key,
            key,
            size: stored.size,
            sha256: row.artifact_sha256,
          });
        }
        const part: ModelsPart & { missing: string[] } = { models, copied, reused, missing };
        await bs.putJson(partKey(input.backupId, 'models', bs.encryptionKey() !== null), part);
        return { models: models.length, copied, reused, missing };
          }),
        BACKUP_ERRORS,
      );
    },

    /**
     * Restores the dump into a scratch database, compares its per-table row counts with the
     * snapshot's, checks every object's sha256, and drops the scratch database.
     */
    async verifyBackup(input: { backupId: string; scope: BackupScope }): Promise<Verification> {
      return failFastOnPermanent(
        () =>
          withHeartbeat(async () => {
        const { database, models } = await readParts(input.backupId, input.scope);
        const problems: string[] = [];
        let objectsChecked = 0;
        let rowCountsMatch: boolean | null = null;
        if (database) {
          const scratch = derivedDatabaseName(dbName, `verify_${input.backupId}`);
          await createEmptyDatabase(config.backupDatabaseUrl, scratch);
          try {
            const scratchUrl = urlForDatabase(config.backupDatabaseUrl, scratch);
            let digest: { size: number; sha256: string } | undefined;
            try {
              digest = await restoreDump(bs, database.dump, scratchUrl, database.pgMajor, {
                jobs: config.backup.restoreJobs,
                progress: (p) => heartbeat(p),
                signal: cancellationSignal(),
              });
            } catch (err) {
              if (err instanceof BackupIntegrityError || err instanceof EncryptionError) problems.push(err.message);
              else throw err;
            }
            if (digest) {
              objectsChecked++;
              if (digest.sha256 !== database.dump.sha256 || digest.size !== database.dump.size) {
                problems.push(`backup object ${bs.bucket}/${database.dump.key} is corrupt: sha256 ${digest.sha256} does not match ${database.dump.sha256}`);
              }
              heartbeat({ phase: 'counting rows' });
              const restored = await withDatabase(scratchUrl, tableRowCounts);
              const differences = compareRowCounts(database.rowCounts, restored);
              rowCountsMatch = differences.length === 0;
              problems.push(...differences);
            }
          } finally {
            await dropDatabaseIfExists(config.backupDatabaseUrl, scratch);
          }
        }
        if (models) {
          const seen = new Set<string>();
          for (const model of models.models) {
            if (seen.has(model.key)) continue;
            seen.add(model.key);
            heartbeat({ phase: 'checking models', done: seen.size, total: models.models.length });
            try {
              await bs.checkObject(model);
              objectsChecked++;
            } catch (err) {
              if (err instanceof BackupIntegrityError || err instanceof ObjectMissingError) problems.push((err as Error).message);
              else throw err;
            }
          }
        }
        return { status: problems.length === 0 ? 'verified' : 'failed', checkedAt: new Date().toISOString(), objectsChecked, rowCountsMatch, problems };
          }),
        BACKUP_ERRORS,
      );
    },

    /** Writes manifest.json and marks the backup verified or failed: never neither. */
    async finishBackup(input: FinishBackupInput): Promise<FinishBackupResult> {
      const key = bs.encryptionKey();
      let parts: Awaited<ReturnType<typeof readParts>> = { database: null, models: null };
      let verification: Verification = input.verification ?? {
        status: 'failed',
        checkedAt: new Date().toISOString(),
        objectsChecked: 0,
        rowCountsMatch: null,
        problems: [],
      };
      if (input.error) verification = { ...verification, status: 'failed', problems: [...verification.problems, input.error] };
      let manifestKeyWritten: string | null = null;
      let objects: ObjectEntry[] = [];
      try {
        parts = await readParts(input.backupId, input.scope);
      } catch (err) {
        if (verification.status === 'verified') throw err; // cannot happen without parts; be loud if it does
        verification = { ...verification, status: 'failed', problems: [...verification.problems, `parts unreadable: ${(err as Error).message}`] };
      }
      const missing = (parts.models as (ModelsPart & { missing?: string[] }) | null)?.missing ?? [];
      if (parts.database || parts.models || input.scope) {
        const models = parts.models?.models ?? null;
        const unique = new Map<string, ObjectEntry>();
        if (parts.database) unique.set(parts.database.dump.key, parts.database.dump);
        for (const m of models ?? []) unique.set(m.key, { key: m.key, size: m.size, sha256: m.sha256 });
        objects = [...unique.values()];
        const manifest: Omit<BackupManifest, 'checksum'> = {
          format: MANIFEST_FORMAT,
          id: input.backupId,
          createdAt: parts.database?.snapshotAt ?? input.startedAt,
          finishedAt: new Date().toISOString(),
          scope: input.scope,
          workflowId: input.workflowId,
          database: parts.database,
          models,
          objects,
          encryption: key ? { algorithm: 'AES-256-GCM', keyId: key.id } : null,
          verification: missing.length ? { ...verification, problems: [...verification.problems, ...missing.map((m) => `warning: not backed up, ${m}`)] } : verification,
        };
        if (verification.status === 'verified' || parts.database || parts.models) {
          manifestKeyWritten = (await bs.writeManifest(manifest)).key;
        }
      }
      await orm.em.fork().upsert(Backup, {
        id: input.backupId,
        scope: input.scope,
        status: verification.status,
        startedAt: new Date(input.startedAt),
        finishedAt: new Date(),
        workflowId: input.workflowId,
        pgVersion: parts.database?.pgVersion ?? null,
        dbSizeBytes: parts.database?.sizeBytes ?? null,
        manifestKey: manifestKeyWritten,
        encryptionKeyId: key?.id ?? null,
        error: verification.status === 'failed' ? verification.problems.join('; ').slice(0, 4000) || 'failed' : null,
      });
      await bs.clearStaging(input.backupId).catch(() => undefined);
      if (verification.status === 'verified') metrics.lastVerifiedBackup?.set(Date.now() / 1000);
      return {
        backupId: input.backupId,
        status: verification.status,
        manifestKey: manifestKeyWritten,
        objects: objects.length,
        bytes: objects.reduce((a, o) => a + o.size, 0),
        problems: verification.problems,
      };
    },

    /**
     * Database backups are kept for `retentionDays`, model backups for the last N; a full
     * backup beyond the last N keeps its database part only. The newest verified backup (of
     * each kind) is never deleted. Model artifacts no remaining backup refers to are removed.
     */
    async applyBackupRetention(input: RetentionInput): Promise<RetentionResult> {
      const now = new Date(input.now).getTime();
      const days = input.retentionDays ?? config.backup.retentionDays;
      const keepModels = input.modelBackupsKeep ?? config.backup.modelBackupsKeep;
      const em = orm.em.fork();
      const backups = await em.find(Backup, {}, { orderBy: { startedAt: 'desc', id: 'desc' } });
      const finished = backups.filter((b) => b.status !== 'running' || now - b.startedAt.getTime() > 2 * 86_400_000);
      const newestVerifiedDb = finished.find((b) => b.status === 'verified' && scopeIncludesDatabase(b.scope));
      const newestVerifiedModels = finished.find((b) => b.status === 'verified' && scopeIncludesModels(b.scope));
      const lastModelBackups = new Set(finished.filter((b) => b.status === 'verified' && scopeIncludesModels(b.scope)).slice(0, keepModels).map((b) => b.id));
      const cutoff = now - days * 86_400_000;
      const result: RetentionResult = { pruned: [], modelPartsPruned: [], artifactsRemoved: 0 };

      for (const b of finished) {
        const isProtected = b.id === newestVerifiedDb?.id || b.id === newestVerifiedModels?.id;
        const dbKept = scopeIncludesDatabase(b.scope) && b.startedAt.getTime() >= cutoff;
        const modelsKept = scopeIncludesModels(b.scope) && (b.status === 'verified' ? lastModelBackups.has(b.id) : b.startedAt.getTime() >= cutoff);
        if (isProtected) continue;
        if (!dbKept && !modelsKept) {
          for (const key of await store.listKeys(bs.bucket, backupPrefix(b.id))) await store.remove(bs.bucket, key);
          await bs.clearStaging(b.id).catch(() => undefined);
          await em.nativeDelete(Backup, { id: b.id });
          result.pruned.push(b.id);
        } else if (b.scope === 'full' && dbKept && !modelsKept && b.status === 'verified') {
          // Keep the database part: the manifest becomes a database-only one.
          const manifest = await bs.readManifest(b.id).catch(() => undefined);
          if (manifest) {
            const { checksum: _old, ...rest } = manifest;
            const dump = manifest.database?.dump;
            await bs.writeManifest({ ...rest, scope: 'database', models: null, objects: dump ? [dump] : [] });
            const encrypted = manifest.encryption !== null;
            await store.remove(bs.bucket, partKey(b.id, 'models', encrypted)).catch(() => undefined);
          }
          await em.nativeUpdate(Backup, { id: b.id }, { scope: 'database' });
          result.modelPartsPruned.push(b.id);
        }
      }

      // Garbage-collect content-addressed artifacts that no remaining manifest refers to.
      const referenced = new Set<string>();
      for (const id of await bs.listBackupIds()) {
        const manifest = await bs.readManifest(id).catch(() => undefined);
        if (!manifest) {
          // Unreadable manifest: keep everything rather than delete something it might need.
          return result;
        }
        for (const m of manifest.models ?? []) referenced.add(m.key);
      }
      // A backup still running has not written its manifest yet: keep what its models part lists.
      for (const b of backups.filter((x) => x.status === 'running')) {
        const part = await bs
          .getJson<ModelsPart>(partKey(b.id, 'models', bs.encryptionKey() !== null))
          .catch(() => undefined);
        if (!part && scopeIncludesModels(b.scope)) return result;
        for (const m of part?.models ?? []) referenced.add(m.key);
      }
      for (const key of await store.listKeys(bs.bucket, 'models/sha256/')) {
        if (!referenced.has(key)) {
          await store.remove(bs.bucket, key);
          result.artifactsRemoved++;
        }
      }
      logger.info(result, 'backup retention applied');
      return result;
    },
  };
}

export type BackupActivities = ReturnType<typeof createBackupActivities>;
