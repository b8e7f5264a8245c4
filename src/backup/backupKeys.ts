import { randomBytes } from 'node:crypto';

/**
 * Layout of the backup bucket. The manifests are the source of truth: recovery works with an
 * empty database.
 *
 *   backups/<id>/platform.dump[.enc]       pg_dump -Fc of the platform database
 *   backups/<id>/parts/<part>.json[.enc]   what each backup step recorded (for the manifest)
 *   backups/<id>/manifest.json[.enc]       the manifest, written last
 *   models/sha256/<ab>/<sha256>            model artifacts, content-addressed, shared by backups
 *   staging/<id>/<attempt>/...             uploads in progress, published by copy once checked
 */

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

/** The backup id a manifest key belongs to, or undefined for any other key. */
export function backupIdOfManifestKey(key: string): string | undefined {
  return /^backups\/([^/]+)\/manifest\.json(\.enc)?$/.exec(key)?.[1];
}

export const MODEL_BACKUPS_PREFIX = 'models/sha256/';

export function modelBackupKey(sha256: string): string {
  return `${MODEL_BACKUPS_PREFIX}${sha256.slice(0, 2)}/${sha256}`;
}

export function stagingPrefix(backupId: string): string {
  return `staging/${backupId}/`;
}

/** A staging key unique to this attempt: the minio client would silently resume another attempt's upload of the same key. */
export function attemptStagingKey(backupId: string, name: string): string {
  return `${stagingPrefix(backupId)}${Date.now().toString(36)}-${randomBytes(4).toString('hex')}/${name}`;
}
