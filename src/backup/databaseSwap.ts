import { quoteIdent, withAdmin } from './pgDatabases';

/** The restored database a swap should rename into place is gone (dropped after a failure); the restore must run again. */
export class StagingDatabaseMissingError extends Error {
  constructor(stagingDatabase: string) {
    super(`the restored database ${stagingDatabase} is gone; retry the recovery from the restore step`);
    this.name = 'StagingDatabaseMissingError';
  }
}

/**
 * Swaps a restored database in by renaming, on the server at `serverUrl`: `current` becomes
 * `previous` (kept until an operator drops it) and `staging` becomes `current`, in one
 * transaction, after closing the connections to both. Idempotent: when `staging` is gone and
 * `previous` exists, an earlier attempt swapped already.
 */
export async function swapInDatabase(serverUrl: string, names: { current: string; staging: string; previous: string }): Promise<{ previousDatabase: string | null }> {
  const { current, staging, previous } = names;
  return withAdmin(serverUrl, async (admin) => {
    const exists = async (name: string) => (await admin.query('select 1 from pg_database where datname = $1', [name])).rowCount === 1;
    if (!(await exists(staging))) {
      if (await exists(previous)) return { previousDatabase: previous };
      throw new StagingDatabaseMissingError(staging);
    }
    const hadCurrent = await exists(current);
    let lastError: unknown;
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        if (hadCurrent) {
          await admin.query(`alter database ${quoteIdent(current)} allow_connections false`);
          await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [current]);
        }
        await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [staging]);
        await admin.query('begin');
        if (hadCurrent) await admin.query(`alter database ${quoteIdent(current)} rename to ${quoteIdent(previous)}`);
        await admin.query(`alter database ${quoteIdent(staging)} rename to ${quoteIdent(current)}`);
        await admin.query('commit');
        if (hadCurrent) await admin.query(`alter database ${quoteIdent(previous)} allow_connections true`);
        return { previousDatabase: hadCurrent ? previous : null };
      } catch (err) {
        lastError = err;
        await admin.query('rollback').catch(() => undefined);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    if (hadCurrent) await admin.query(`alter database ${quoteIdent(current)} allow_connections true`).catch(() => undefined);
    throw lastError;
  });
}
