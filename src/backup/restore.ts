import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DecryptStream, EncryptionError } from '../storage/encryption';
import { HashingStream } from '../storage/hashingStream';
import { ObjectMissingError } from '../storage/objectStore';
import { BackupIntegrityError } from './backupIntegrityError';
import type { BackupStore } from './backupStore';
import type { ObjectEntry } from './manifest';
import { childConnection, resolvePgBinary, runToolTiedToUs } from './pgTools';

export interface RestoreProgress {
  phase: 'downloading' | 'restoring';
  bytes: number;
  total: number;
}

export interface RestoreDumpOptions {
  /** Create the restored objects as this role (pg_restore --role), so that they belong to it. */
  asRole?: string;
  /** pg_restore --jobs; 1 (the default) restores in a single transaction instead. */
  jobs?: number;
  /** Awaited after the download, before pg_restore starts (e.g. the target database's creation, run meanwhile). */
  ready?: Promise<unknown>;
  progress?: (progress: RestoreProgress) => void;
  /** Stops the download or pg_restore when aborted (an activity's cancellation). */
  signal?: AbortSignal;
}

export interface RestoredDump {
  size: number;
  sha256: string;
  /** MinIO → temp file (decrypting), hashing the stored bytes. */
  downloadSeconds: number;
  /** pg_restore from the temp file. */
  restoreSeconds: number;
}

/**
 * Restores a stored dump into `targetUrl`: downloads it (decrypting when it is encrypted) into a
 * private temp file while hashing the stored bytes, checks size and sha256 against `dump`, and
 * only then runs pg_restore on the file — with `--jobs` (safe without --single-transaction:
 * the target is always a scratch or staging database that a failure drops and nothing uses
 * before its row counts are checked) or, with one job, in a single transaction. The temp file
 * (the size of the dump, mode 0600 in a mode-0700 directory under TMPDIR) is removed afterwards.
 */
export async function restoreDump(
  bs: BackupStore,
  dump: ObjectEntry,
  targetUrl: string,
  serverMajor: number,
  options: RestoreDumpOptions = {},
): Promise<RestoredDump> {
  const bin = await resolvePgBinary('pg_restore', serverMajor);
  const signal = options.signal;
  const progress = options.progress ?? (() => undefined);
  await removeStaleRestoreDirs();
  const dir = await mkdtemp(path.join(os.tmpdir(), RESTORE_DIR_PREFIX));
  try {
    await writeFile(path.join(dir, 'owner.pid'), String(process.pid));
    const file = path.join(dir, 'platform.dump');
    const t0 = Date.now();
    const digest = await downloadVerified(bs, dump, file, progress, signal);
    const t1 = Date.now();
    await options.ready;
    signal?.throwIfAborted();
    progress({ phase: 'restoring', bytes: dump.size, total: dump.size });
    const { dbname, env } = childConnection(targetUrl);
    const jobs = Math.max(1, Math.floor(options.jobs ?? 1));
    const args = ['--no-owner', '--no-privileges', '--exit-on-error', jobs > 1 ? `--jobs=${jobs}` : '--single-transaction', `--dbname=${dbname}`];
    if (options.asRole) args.push(`--role=${options.asRole}`);
    args.push(file);
    const run = runToolTiedToUs(bin, args, env);
    const onAbort = () => run.stop();
    signal?.addEventListener('abort', onAbort);
    try {
      await run.done;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      run.stop();
    }
    return { ...digest, downloadSeconds: (t1 - t0) / 1000, restoreSeconds: (Date.now() - t1) / 1000 };
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

const RESTORE_DIR_PREFIX = 'nomaly-restore-';

/**
 * Temp directories of restores killed with their worker: those whose owner process is gone, and
 * any older than the longest activity (12 h) — nothing can still be using them.
 */
async function removeStaleRestoreDirs(): Promise<void> {
  const tmp = os.tmpdir();
  const entries = await readdir(tmp).catch(() => [] as string[]);
  for (const name of entries.filter((n) => n.startsWith(RESTORE_DIR_PREFIX))) {
    const full = path.join(tmp, name);
    const info = await stat(full).catch(() => undefined);
    if (!info?.isDirectory() || (process.getuid && info.uid !== process.getuid())) continue;
    const owner = Number(await readFile(path.join(full, 'owner.pid'), 'utf8').catch(() => 'NaN'));
    const ownerGone = Number.isInteger(owner) && owner > 0 && owner !== process.pid && !processAlive(owner);
    if (ownerGone || Date.now() - info.mtimeMs > 13 * 3600_000) await rm(full, { recursive: true, force: true }).catch(() => undefined);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** MinIO → `file` (decrypted when encrypted), hashing the stored bytes; throws unless size and sha256 match `dump`. */
async function downloadVerified(
  bs: BackupStore,
  dump: ObjectEntry,
  file: string,
  progress: NonNullable<RestoreDumpOptions['progress']>,
  signal: AbortSignal | undefined,
): Promise<{ size: number; sha256: string }> {
  const name = `${bs.bucket}/${dump.key}`;
  const key = dump.key.endsWith('.enc') ? bs.encryptionKey() : null;
  if (dump.key.endsWith('.enc') && !key) throw new EncryptionError(`${name} is encrypted; set NOMALY_BACKUP_KEY_FILE to the key the backup was made with`);
  // Each attempt writes the whole file again: a read that broke off mid-way leaves nothing behind.
  const digest = await bs.readPersistently(dump.key, async () => {
    const source = await bs.store.getStream(bs.bucket, dump.key).catch((err: unknown) => {
      throw err instanceof ObjectMissingError ? new BackupIntegrityError(`backup object ${name} is missing`) : err;
    });
    let lastReport = 0;
    const hasher = new HashingStream((bytes) => {
      if (Date.now() - lastReport >= 1000) {
        lastReport = Date.now();
        progress({ phase: 'downloading', bytes, total: dump.size });
      }
    });
    const stages: Array<NodeJS.ReadableStream | NodeJS.WritableStream> = [source, hasher];
    if (key) stages.push(new DecryptStream(key, name));
    stages.push(createWriteStream(file, { mode: 0o600 }));
    try {
      await pipeline(stages as unknown as [Readable, Writable], signal ? { signal } : {});
    } catch (err) {
      // Decryption fails on altered bytes before the hash can be compared: name a corrupt object as such.
      if (err instanceof EncryptionError) await bs.checkObject(dump);
      throw err;
    }
    return hasher.digest;
  });
  if (digest.size !== dump.size || digest.sha256 !== dump.sha256) {
    throw new BackupIntegrityError(
      `backup object ${name} is corrupt: ${digest.size} bytes with sha256 ${digest.sha256}, the manifest records ${dump.size} bytes with sha256 ${dump.sha256}`,
    );
  }
  return digest;
}
