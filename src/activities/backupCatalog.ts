import { createHash, randomBytes } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import * as Minio from 'minio';
import type { NomalyConfig } from '../config';
import type { BackupScope } from '../db/backupEntities';
import { decryptBytes, encryptBytes, EncryptionError, encryptedKeyId, readBackupKeyFile, type BackupKey } from '../storage/encryption';
import { ChecksumMismatchError, ObjectMissingError, ObjectUnreadableError, type ObjectStore } from '../storage/objectStore';

/**
 * Layout of the backup bucket and the manifest format, shared by the backup and recovery
 * activities. The manifests are the source of truth: recovery works with an empty database.
 *
 *   backups/<id>/platform.dump[.enc]       pg_dump -Fc of the platform database
 *   backups/<id>/parts/<part>.json[.enc]   what each backup step recorded (for the manifest)
 *   backups/<id>/manifest.json[.enc]       the manifest, written last
 *   models/sha256/<ab>/<sha256>            model artifacts, content-addressed, shared by backups
 *   staging/<id>/<attempt>/...             uploads in progress, published by copy once checked
 */

export const MANIFEST_FORMAT = 'nomaly-backup/1';
/** Backups stream through the client with this part size (an unknown size would mean ~528 MiB parts in memory). */
export const BACKUP_PART_SIZE = 32 * 1024 * 1024;

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

export function backupPrefix(backupId: string): string {
  return `backups/${backupId}/`;
}

export function dumpKey(backupId: string, encrypted: boolean): string {
  return `${backupPrefix(backupId)}platform.dump${encrypted ? '.enc' : ''}`;
}

export function partKey(backupId: string, part: 'database' | 'models', encrypted: boolean): string {
  return `${backupPrefix(backupId)}parts/${part}.json${encrypted ? '.enc' : ''}`;
}

export function manifestKey(backupId: string, encrypted: boolean): string {
  return `${backupPrefix(backupId)}manifest.json${encrypted ? '.enc' : ''}`;
}

export function modelBackupKey(sha256: string): string {
  return `models/sha256/${sha256.slice(0, 2)}/${sha256}`;
}

export function stagingPrefix(backupId: string): string {
  return `staging/${backupId}/`;
}

export function attemptStagingKey(backupId: string, name: string): string {
  return `${stagingPrefix(backupId)}${Date.now().toString(36)}-${randomBytes(4).toString('hex')}/${name}`;
}

export function manifestChecksum(manifest: Omit<BackupManifest, 'checksum'> & { checksum?: string }): string {
  const { checksum: _ignored, ...rest } = manifest;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex');
}

/** A corrupt, missing or unreadable backup: no retry fixes it, the message names the object. */
export class BackupIntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupIntegrityError';
  }
}

/** Everything the backup activities share: the store, a part-sized MinIO client, the key. */
export class BackupStore {
  readonly bucket: string;
  /** A client with `partSize` set, for streams of unknown length. */
  readonly streamingClient: Minio.Client;
  private key?: BackupKey | null;

  constructor(readonly config: NomalyConfig, readonly store: ObjectStore) {
    this.bucket = config.buckets.backups;
    this.streamingClient = new Minio.Client({ ...config.minio, partSize: BACKUP_PART_SIZE });
  }

  /** The configured key, or null when backups are not encrypted. Read once, lazily. */
  encryptionKey(): BackupKey | null {
    if (this.key === undefined) this.key = this.config.backup.keyFile ? readBackupKeyFile(this.config.backup.keyFile) : null;
    return this.key;
  }

  requireKey(objectName: string, keyId: string): BackupKey {
    const key = this.encryptionKey();
    if (!key) {
      throw new EncryptionError(`${objectName} is encrypted (key id ${keyId}); set NOMALY_BACKUP_KEY_FILE to the key the backup was made with`);
    }
    if (key.id !== keyId) {
      throw new EncryptionError(
        `${objectName} was encrypted with key id ${keyId}, but NOMALY_BACKUP_KEY_FILE holds key id ${key.id}: configure the key the backup was made with`,
      );
    }
    return key;
  }

  async ensureBucket(): Promise<void> {
    await this.store.ensureBuckets([this.bucket]);
    // Uploads that died mid-way (a killed worker) are aborted by MinIO after a day.
    await this.store.client
      .setBucketLifecycle(this.bucket, {
        Rule: [{ ID: 'abort-stale-uploads', Status: 'Enabled', Filter: { Prefix: '' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }],
      } as never)
      .catch(() => undefined);
  }

  /** Small JSON objects (parts, manifests): encrypted when a key is configured. */
  async putJson(key: string, value: unknown): Promise<ObjectEntry> {
    const plain = Buffer.from(JSON.stringify(value, null, 2));
    const backupKey = this.encryptionKey();
    const bytes = backupKey ? await encryptBytes(backupKey, plain) : plain;
    const stored = await this.store.putBytes(this.bucket, key, bytes, backupKey ? 'application/octet-stream' : 'application/json');
    return { key, size: stored.size, sha256: stored.sha256 };
  }

  /**
   * One whole read of a backup object, read again a few times when it fails; an object that
   * stays unreadable while MinIO answers is a BackupIntegrityError naming it, not an outage.
   */
  async readPersistently<T>(key: string, read: () => Promise<T>): Promise<T> {
    try {
      return await this.store.readPersistently(this.bucket, key, read, (err) => err instanceof BackupIntegrityError || err instanceof EncryptionError);
    } catch (err) {
      if (err instanceof ObjectUnreadableError) throw new BackupIntegrityError(`backup ${err.message}`);
      throw err;
    }
  }

  /** A backup object's bytes, checked against `sha256` (see readPersistently for unreadable ones). */
  async getVerifiedBytes(key: string, sha256: string): Promise<Buffer> {
    return this.readPersistently(key, () => this.store.getVerifiedBytes(this.bucket, key, sha256));
  }

  async getJson<T>(key: string, expectedSha256?: string): Promise<T> {
    const bytes = await this.readPersistently(key, () => this.store.getVerifiedBytes(this.bucket, key, expectedSha256));
    const keyId = encryptedKeyId(bytes);
    const plain = keyId ? await decryptBytes(this.requireKey(`${this.bucket}/${key}`, keyId), bytes, `${this.bucket}/${key}`) : bytes;
    return JSON.parse(plain.toString('utf8')) as T;
  }

  async findManifestKey(backupId: string): Promise<string | undefined> {
    for (const encrypted of [true, false]) {
      const key = manifestKey(backupId, encrypted);
      if (await this.store.stat(this.bucket, key)) return key;
    }
    return undefined;
  }

  /** Reads a manifest and checks its own checksum; a missing or corrupt one is a BackupIntegrityError naming it. */
  async readManifest(backupId: string): Promise<BackupManifest> {
    const key = await this.findManifestKey(backupId);
    if (!key) throw new BackupIntegrityError(`backup ${backupId} has no manifest (${this.bucket}/${manifestKey(backupId, false)} is missing)`);
    let manifest: BackupManifest;
    try {
      manifest = await this.getJson<BackupManifest>(key);
    } catch (err) {
      if (err instanceof EncryptionError) throw err;
      if (err instanceof ChecksumMismatchError || err instanceof ObjectMissingError || err instanceof SyntaxError) {
        throw new BackupIntegrityError(`manifest ${this.bucket}/${key} is unreadable or corrupt: ${(err as Error).message}`);
      }
      throw err;
    }
    if (manifest.format !== MANIFEST_FORMAT || manifest.id !== backupId || manifestChecksum(manifest) !== manifest.checksum) {
      throw new BackupIntegrityError(`manifest ${this.bucket}/${key} is corrupt: its checksum does not match its content`);
    }
    return manifest;
  }

  async writeManifest(manifest: Omit<BackupManifest, 'checksum'>): Promise<{ key: string; manifest: BackupManifest }> {
    const full: BackupManifest = { ...manifest, checksum: manifestChecksum(manifest) };
    const key = manifestKey(manifest.id, manifest.encryption !== null);
    await this.putJson(key, full);
    return { key, manifest: full };
  }

  /** Ids of every backup that has a manifest, oldest first (ids sort by time). */
  async listBackupIds(): Promise<string[]> {
    const keys = await this.store.listKeys(this.bucket, 'backups/');
    const ids = new Set<string>();
    for (const key of keys) {
      const match = /^backups\/([^/]+)\/manifest\.json(\.enc)?$/.exec(key);
      if (match) ids.add(match[1]);
    }
    return [...ids].sort();
  }

  /**
   * Streams an object, hashing the stored bytes; resolves with size and sha256 when the
   * stream ends. Use `stream` (piped on by the caller) and await `digest` after it drained.
   */
  async openHashed(key: string): Promise<{ stream: Readable; digest: Promise<{ size: number; sha256: string }> }> {
    const source = await this.store.client.getObject(this.bucket, key).catch((err: { code?: string }) => {
      if (err.code === 'NoSuchKey' || err.code === 'NotFound') throw new ObjectMissingError(this.bucket, key);
      throw err;
    });
    const hasher = new HashingStream();
    source.on('error', (err) => hasher.destroy(err));
    const stream = source.pipe(hasher);
    return { stream, digest: hasher.digest };
  }

  /** Recomputes an object's sha256 and compares it with the manifest's; throws naming the object. */
  async checkObject(entry: ObjectEntry, onBytes?: (bytes: number) => void): Promise<void> {
    const actual = await this.readPersistently(entry.key, async () => {
      const stat = await this.store.stat(this.bucket, entry.key);
      if (!stat) throw new BackupIntegrityError(`backup object ${this.bucket}/${entry.key} is missing`);
      if (stat.size !== entry.size) {
        throw new BackupIntegrityError(`backup object ${this.bucket}/${entry.key} is corrupt: ${stat.size} bytes, the manifest records ${entry.size}`);
      }
      const { stream, digest } = await this.openHashed(entry.key);
      for await (const chunk of stream) onBytes?.((chunk as Buffer).length);
      return digest;
    });
    if (actual.sha256 !== entry.sha256) {
      throw new BackupIntegrityError(`backup object ${this.bucket}/${entry.key} is corrupt: sha256 ${actual.sha256} does not match the manifest's ${entry.sha256}`);
    }
  }

  /** Removes staged objects and incomplete multipart uploads left under a backup's staging prefix. */
  async clearStaging(backupId: string): Promise<void> {
    const prefix = stagingPrefix(backupId);
    for (const key of await this.store.listKeys(this.bucket, prefix)) await this.store.remove(this.bucket, key);
    const uploads: string[] = [];
    // MinIO lists incomplete uploads by exact object name only: list them all and filter.
    const stream = this.store.client.listIncompleteUploads(this.bucket, '', true);
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (u: { key?: string }) => u.key?.startsWith(prefix) && uploads.push(u.key));
      stream.on('end', () => resolve());
      stream.on('error', reject);
    });
    for (const key of new Set(uploads)) await this.store.client.removeIncompleteUpload(this.bucket, key);
  }

  /** Publishes a staged object under its final key by a server-side copy, then removes the staged one. */
  async publish(stagingKey: string, finalKey: string, entry: { size: number; sha256: string }): Promise<ObjectEntry> {
    const source = new Minio.CopySourceOptions({ Bucket: this.bucket, Object: stagingKey });
    const dest = new Minio.CopyDestinationOptions({
      Bucket: this.bucket,
      Object: finalKey,
      MetadataDirective: 'REPLACE',
      UserMetadata: { sha256: entry.sha256 },
    });
    // A single copy is limited to 5 GiB; composeObject copies larger objects part by part.
    if (entry.size > 5 * 1024 * 1024 * 1024) await this.store.client.composeObject(dest, [source]);
    else await this.store.client.copyObject(source, dest);
    const published = await this.store.stat(this.bucket, finalKey);
    if (!published || published.size !== entry.size) throw new Error(`copy of ${stagingKey} to ${finalKey} did not arrive whole`);
    await this.store.remove(this.bucket, stagingKey);
    return { key: finalKey, size: entry.size, sha256: entry.sha256 };
  }
}

/** A pass-through that counts and hashes what flows through it. */
export class HashingStream extends Transform {
  private readonly hash = createHash('sha256');
  private size = 0;
  readonly digest: Promise<{ size: number; sha256: string }>;
  private resolveDigest!: (value: { size: number; sha256: string }) => void;

  constructor(private readonly onBytes?: (total: number) => void) {
    super();
    this.digest = new Promise((resolve) => {
      this.resolveDigest = resolve;
    });
  }

  get bytes(): number {
    return this.size;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    this.onBytes?.(this.size);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.resolveDigest({ size: this.size, sha256: this.hash.digest('hex') });
    callback();
  }
}
