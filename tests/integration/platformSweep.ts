import type { TestPlatform } from '../support/testPlatform';

/**
 * Everything the platform keeps: the object count of every MinIO bucket and the row count of
 * every table. Equal sweeps before and after a refused job: it left nothing behind.
 */
export async function sweepPlatform(p: TestPlatform): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const { name } of await p.platform.store.client.listBuckets()) {
    counts[`bucket ${name}`] = (await p.platform.store.listKeys(name, '')).length;
  }
  const tables = await p.sql<{ tablename: string }>('select tablename from pg_tables where schemaname = current_schema() order by tablename');
  for (const { tablename } of tables) {
    const [{ n }] = await p.sql<{ n: string }>(`select count(*) as n from "${tablename}"`);
    counts[`table ${tablename}`] = Number(n);
  }
  return counts;
}
