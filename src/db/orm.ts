import { MikroORM } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { Client } from 'pg';
import { redactUrl } from '../config/redaction';
import { ALL_ENTITIES } from './entities';
import { Migration20261121000000_foundation } from './migrations/Migration20261121000000_foundation';
import { Migration20261122000000_backup } from './migrations/Migration20261122000000_backup';
import { Migration20261122100000_registry } from './migrations/Migration20261122100000_registry';
import { Migration20261122200000_jobResults } from './migrations/Migration20261122200000_jobResults';
import { Migration20261204000000_backupChecks } from './migrations/Migration20261204000000_backupChecks';
import { Migration20261204100000_modelVersionCounter } from './migrations/Migration20261204100000_modelVersionCounter';
import { Migration20261205000000_sourceRuns } from './migrations/Migration20261205000000_sourceRuns';
import { Migration20261206000000_thresholdsAndExplanations } from './migrations/Migration20261206000000_thresholdsAndExplanations';
import { Migration20261207100000_datasetSourceSha256 } from './migrations/Migration20261207100000_datasetSourceSha256';

export type Orm = MikroORM;

/** Migrations are listed explicitly so they run the same from src (ts-jest) and from dist. */
const MIGRATIONS = [
  { name: 'Migration20261121000000_foundation', class: Migration20261121000000_foundation },
  { name: 'Migration20261122000000_backup', class: Migration20261122000000_backup },
  { name: 'Migration20261122100000_registry', class: Migration20261122100000_registry },
  { name: 'Migration20261122200000_jobResults', class: Migration20261122200000_jobResults },
  { name: 'Migration20261204000000_backupChecks', class: Migration20261204000000_backupChecks },
  { name: 'Migration20261204100000_modelVersionCounter', class: Migration20261204100000_modelVersionCounter },
  { name: 'Migration20261205000000_sourceRuns', class: Migration20261205000000_sourceRuns },
  { name: 'Migration20261206000000_thresholdsAndExplanations', class: Migration20261206000000_thresholdsAndExplanations },
  { name: 'Migration20261207100000_datasetSourceSha256', class: Migration20261207100000_datasetSourceSha256 },
];

export async function openOrm(databaseUrl: string, options: { poolMax?: number } = {}): Promise<Orm> {
  return MikroORM.init({
    clientUrl: databaseUrl,
    entities: ALL_ENTITIES,
    extensions: [Migrator],
    migrations: { migrationsList: MIGRATIONS, transactional: true, allOrNothing: true, silent: true },
    pool: { min: 0, max: options.poolMax ?? 5 },
    discovery: { warnWhenNoEntities: false },
    debug: false,
    allowGlobalContext: false,
  });
}

/** Applies pending migrations; safe to call from every process at start-up (they serialise on a lock). */
export async function migrate(orm: Orm): Promise<void> {
  await orm.em.getConnection().execute('select pg_advisory_lock(727001)');
  try {
    await orm.getMigrator().up();
  } finally {
    await orm.em.getConnection().execute('select pg_advisory_unlock(727001)');
  }
}

/** Creates the database named in the URL when the server answers but the database is missing. */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name) throw new Error(`DATABASE_URL=${redactUrl(databaseUrl)} names no database`);
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString() });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL does not answer at ${url.host} (${(err as Error).message}). ` +
        'Start PostgreSQL or set DATABASE_URL=postgres://USER[:PASSWORD]@HOST:PORT/DATABASE',
    );
  }
  try {
    const found = await admin.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount === 0) {
      await admin.query(`create database "${name.replace(/"/g, '""')}"`).catch((err: { code?: string }) => {
        // Another process created it at the same moment: 42P04 duplicate_database, or 23505 from pg_database's index.
        if (err.code !== '42P04' && err.code !== '23505') throw err;
      });
    }
  } finally {
    await admin.end();
  }
}
