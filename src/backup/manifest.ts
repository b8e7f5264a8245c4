import { createHash } from 'node:crypto';
import { scopeIncludesDatabase, scopeIncludesModels, type BackupScope } from '../db/backupEntities';

/** The manifest format: what a backup holds, with the size and sha256 of every object it needs. */
export const MANIFEST_FORMAT = 'nomaly-backup/1';

export interface ObjectEntry {
  key: string;
  size: number;
  sha256: string;
}

export interface ModelEntry extends ObjectEntry {
  modelId: number;
  name: string;
  version: number;
  /** Where the artifact lives in the models bucket (and is restored to). */
  artifactKey: string;
}

export interface DatabasePart {
  name: string;
  pgVersion: string;
  pgMajor: number;
  sizeBytes: number;
  snapshotAt: string;
  rowCounts: Record<string, number>;
  dump: ObjectEntry;
}

export interface ModelsPart {
  models: ModelEntry[];
  copied: number;
  reused: number;
  /** Registered models whose artifact could not be backed up (recorded as warnings in the manifest). */
  missing?: string[];
}

export interface Verification {
  status: 'verified' | 'failed';
  checkedAt: string;
  objectsChecked: number;
  rowCountsMatch: boolean | null;
  problems: string[];
}

export interface BackupManifest {
  format: typeof MANIFEST_FORMAT;
  id: string;
  /** The snapshot's time for backups with a database, else the time the models were listed. */
  createdAt: string;
  finishedAt: string;
  scope: BackupScope;
  workflowId: string;
  database: DatabasePart | null;
  models: ModelEntry[] | null;
  /** Every object this backup needs, with its stored size and sha256 (of the stored, possibly encrypted, bytes). */
  objects: ObjectEntry[];
  encryption: { algorithm: 'AES-256-GCM'; keyId: string } | null;
  verification: Verification;
  /** sha256 of this JSON without the field itself; a manifest that fails it is corrupt. */
  checksum: string;
}

export function manifestChecksum(manifest: Omit<BackupManifest, 'checksum'> & { checksum?: string }): string {
  const { checksum: _ignored, ...rest } = manifest;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex');
}

/** Every object of a manifest a restore of `scope` needs, each once (backups share model artifacts). */
export function objectsFor(manifest: Pick<BackupManifest, 'database' | 'models'>, scope: BackupScope): ObjectEntry[] {
  const entries = new Map<string, ObjectEntry>();
  if (scopeIncludesDatabase(scope) && manifest.database) entries.set(manifest.database.dump.key, manifest.database.dump);
  if (scopeIncludesModels(scope)) for (const m of manifest.models ?? []) entries.set(m.key, { key: m.key, size: m.size, sha256: m.sha256 });
  return [...entries.values()];
}

export interface ManifestFacts {
  backupId: string;
  scope: BackupScope;
  workflowId: string;
  /** When the backup started: a backup without a database is as old as its model listing. */
  startedAt: string;
  database: DatabasePart | null;
  models: ModelsPart | null;
  verification: Verification;
  encryptionKeyId: string | null;
}

/** The manifest of a finished backup; models that could not be backed up become warnings of its verification. */
export function manifestFromParts(facts: ManifestFacts): Omit<BackupManifest, 'checksum'> {
  const { database, verification } = facts;
  const models = facts.models?.models ?? null;
  const missing = facts.models?.missing ?? [];
  return {
    format: MANIFEST_FORMAT,
    id: facts.backupId,
    createdAt: database?.snapshotAt ?? facts.startedAt,
    finishedAt: new Date().toISOString(),
    scope: facts.scope,
    workflowId: facts.workflowId,
    database,
    models,
    objects: objectsFor({ database, models }, 'full'),
    encryption: facts.encryptionKeyId ? { algorithm: 'AES-256-GCM', keyId: facts.encryptionKeyId } : null,
    verification: missing.length ? { ...verification, problems: [...verification.problems, ...missing.map((m) => `warning: not backed up, ${m}`)] } : verification,
  };
}
