import type { Readable } from 'node:stream';
import type { NomalyConfig } from '../config';
import { scopeIncludesDatabase, scopeIncludesModels, type BackupScope } from '../db/backupEntities';
import { decryptBytes, encryptBytes, EncryptionError, encryptedKeyId, readBackupKeyFile, type BackupKey } from '../storage/encryption';
import { HashingStream } from '../storage/hashingStream';
import { ChecksumMismatchError, ObjectMissingError, ObjectUnreadableError, type ObjectStore } from '../storage/objectStore';
import { BackupIntegrityError } from './backupIntegrityError';
import { backupIdOfManifestKey, manifestKey, partKey, stagingPrefix } from './backupKeys';
import { manifestChecksum, MANIFEST_FORMAT, type BackupManifest, type DatabasePart, type ModelsPart, type ObjectEntry } from './manifest';

/**
 * The backup bucket as backup and recovery see it: its objects (encrypted when a key is
 * configured), manifests that check their own checksum, and integrity errors that name the
 * object. Every read is checked against a recorded sha256.
 */
export class BackupStore {
  readonly bucket: string;
  private key?: BackupKey | null;

  constructor(
    readonly config: NomalyConfig,
    readonly store: ObjectStore,
  ) {
    this.bucket = config.buckets.backups;
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
    await this.store.abortStaleUploads(this.bucket, 1);
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

  /** What the steps of a backup in progress recorded (the parts a manifest is made of); null for a part outside its scope. */
  async readParts(backupId: string, scope: BackupScope): Promise<{ database: DatabasePart | null; models: ModelsPart | null }> {
    const encrypted = this.encryptionKey() !== null;
    const database = scopeIncludesDatabase(scope) ? await this.getJson<DatabasePart>(partKey(backupId, 'database', encrypted)) : null;
    const models = scopeIncludesModels(scope) ? await this.getJson<ModelsPart>(partKey(backupId, 'models', encrypted)) : null;
    return { database, models };
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
      const id = backupIdOfManifestKey(key);
      if (id) ids.add(id);
    }
    return [...ids].sort();
  }

  /**
   * Streams an object, hashing the stored bytes; resolves with size and sha256 when the
   * stream ends. Use `stream` (piped on by the caller) and await `digest` after it drained.
   */
  async openHashed(key: string, onBytes?: (total: number) => void): Promise<{ stream: Readable; digest: Promise<{ size: number; sha256: string }> }> {
    const source = await this.store.getStream(this.bucket, key);
    const hasher = new HashingStream(onBytes);
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

  /** Uploads a stream of unknown length to a staging key, to be published by ObjectStore.publishByCopy once checked. */
  async putStream(stagingKey: string, stream: Readable): Promise<void> {
    await this.store.putStream(this.bucket, stagingKey, stream);
  }

  /** Removes staged objects and incomplete multipart uploads left under a backup's staging prefix. */
  async clearStaging(backupId: string): Promise<void> {
    const prefix = stagingPrefix(backupId);
    for (const key of await this.store.listKeys(this.bucket, prefix)) await this.store.remove(this.bucket, key);
    await this.store.removeIncompleteUploads(this.bucket, prefix);
  }
}
