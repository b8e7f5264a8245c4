import { rmSync } from 'node:fs';
import { Client } from 'pg';
import { stopStack } from '../../scripts/stack/privateStack';

/** Stops the private stack and drops the test database, unless KEEP_TEST_STACK=1 (for debugging). */
export default async function globalTeardown(): Promise<void> {
  const dataDir = process.env.NOMALY_DATA_DIR;
  if (!dataDir || process.env.KEEP_TEST_STACK === '1') return;
  stopStack('dev', process.env, false);
  const url = new URL(process.env.DATABASE_URL!);
  const name = url.pathname.slice(1);
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString() });
  await admin.connect();
  await admin.query(`drop database if exists "${name}" with (force)`);
  await admin.end();
  rmSync(dataDir, { recursive: true, force: true });
}
