import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { EncryptStream } from '../storage/encryption';
import { HashingStream } from '../storage/hashingStream';
import { attemptStagingKey, dumpKey, partKey } from './backupKeys';
import type { BackupStore } from './backupStore';
import type { DatabasePart, ObjectEntry } from './manifest';
import { databaseNameOf, serverVersion, tableRowCounts } from './pgDatabases';
import { childConnection, resolvePgBinary, runTool } from './pgTools';
import type { StepControl } from './progress';

/**
 * pg_dump -Fc of the database at `databaseUrl` from an exported REPEATABLE READ snapshot, with
 * the row counts taken on that same snapshot, streamed (encrypted when a key is configured) into
 * the backup bucket under an attempt-unique staging key and published by copy once its sha256
 * is known. Records the database part of the backup and returns it.
 */
export async function dumpDatabase(bs: BackupStore, databaseUrl: string, backupId: string, { progress, signal }: StepControl): Promise<DatabasePart> {
  const key = bs.encryptionKey();
  await bs.clearStaging(backupId); // what an earlier, killed attempt left behind
  const pg = new Client({ connectionString: databaseUrl });
  await pg.connect();
  try {
    await pg.query('begin isolation level repeatable read read only');
    const { rows } = await pg.query<{ snapshot: string; at: Date; size: string }>(
      'select pg_export_snapshot() as snapshot, now() as at, pg_database_size(current_database()) as size',
    );
    const { snapshot, at } = rows[0];
    const version = await serverVersion(pg);
    progress({ phase: 'counting rows' });
    const rowCounts = await tableRowCounts(pg);
    const bin = await resolvePgBinary('pg_dump', version.major);
    const { dbname, env } = childConnection(databaseUrl);
    const run = runTool(bin, ['--format=custom', `--snapshot=${snapshot}`, `--dbname=${dbname}`], env, 'read');
    const onAbort = () => run.child.kill('SIGKILL');
    signal?.addEventListener('abort', onAbort);
    const stagingKey = attemptStagingKey(backupId, 'platform.dump');
    let lastBeat = 0;
    const hasher = new HashingStream((bytes) => {
      if (Date.now() - lastBeat > 1000) {
        lastBeat = Date.now();
        progress({ phase: 'uploading', bytes });
      }
    });
    try {
      const upload = bs.putStream(stagingKey, hasher).catch((err: Error) => {
        // Nobody reads the stream any more: stop pg_dump instead of blocking on a full pipe.
        run.child.kill('SIGKILL');
        hasher.destroy(err);
        throw err;
      });
      const piped = key ? pipeline(run.child.stdout!, new EncryptStream(key), hasher) : pipeline(run.child.stdout!, hasher);
      const results = await Promise.allSettled([run.done, piped, upload]);
      const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
      if (failed) throw failed.reason;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    }
    await pg.query('commit');
    const digest = await hasher.digest;
    const published = await bs.store.publishByCopy(bs.bucket, stagingKey, dumpKey(backupId, key !== null), digest);
    const dump: ObjectEntry = { key: published.key, size: published.size, sha256: published.sha256 };
    const part: DatabasePart = {
      name: databaseNameOf(databaseUrl),
      pgVersion: version.version,
      pgMajor: version.major,
      sizeBytes: Number(rows[0].size),
      snapshotAt: new Date(at).toISOString(),
      rowCounts,
      dump,
    };
    await bs.putJson(partKey(backupId, 'database', key !== null), part);
    return part;
  } finally {
    await pg.end().catch(() => undefined);
  }
}
