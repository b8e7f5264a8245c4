import { Backup, Recovery } from '../db/backupEntities';
import type { Orm } from '../db/orm';
import { withDatabase } from './pgDatabases';

interface RecoveryRow {
  id: string;
  backup_id: string;
  scope: Recovery['scope'];
  status: Recovery['status'];
  started_at: Date;
  finished_at: Date | null;
  recovery_seconds: number | null;
  data_loss_window_seconds: number | null;
  previous_database: string | null;
  error: string | null;
}

interface CheckRow {
  id: string;
  last_checked_at: Date;
  check_state: Backup['checkState'];
  check_problem: string | null;
}

/** Undefined table or column: the replaced database was empty or older; it has nothing of that kind to hand on. */
const isAbsent = (err: unknown) => ['42P01', '42703'].includes((err as { code?: string }).code ?? '');

/**
 * A restored database holds the audit trail as it was at the backup's snapshot: the recovery rows
 * and backup checks recorded since then exist only in the database it replaced. Copies them from
 * there into the live database (upserts, so a retried step copies the same rows again).
 */
export async function carryOverAudit(orm: Orm, replacedDatabaseUrl: string): Promise<{ recoveries: number; checks: number }> {
  const { recoveries, checks } = await withDatabase(replacedDatabaseUrl, async (c) => ({
    recoveries: await c.query<RecoveryRow>('select * from recovery').then((r) => r.rows, (err) => (isAbsent(err) ? [] : Promise.reject(err))),
    checks: await c
      .query<CheckRow>('select id, last_checked_at, check_state, check_problem from backup where last_checked_at is not null')
      .then((r) => r.rows, (err) => (isAbsent(err) ? [] : Promise.reject(err))),
  }));
  const em = orm.em.fork();
  if (recoveries.length > 0) {
    await em.upsertMany(
      Recovery,
      recoveries.map((r) => ({
        id: r.id,
        backupId: r.backup_id,
        scope: r.scope,
        status: r.status,
        startedAt: r.started_at,
        finishedAt: r.finished_at,
        recoverySeconds: r.recovery_seconds,
        dataLossWindowSeconds: r.data_loss_window_seconds,
        previousDatabase: r.previous_database,
        error: r.error,
      })),
    );
  }
  for (const c of checks) {
    // Only a newer check replaces what the restored catalog knows.
    await em.nativeUpdate(
      Backup,
      { id: c.id, $or: [{ lastCheckedAt: null }, { lastCheckedAt: { $lt: c.last_checked_at } }] },
      { lastCheckedAt: c.last_checked_at, checkState: c.check_state, checkProblem: c.check_problem },
    );
  }
  return { recoveries: recoveries.length, checks: checks.length };
}
