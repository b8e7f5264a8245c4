import { loadConfig } from '../config';
import { ModelRegistry } from '../db/modelRegistry';
import { openOrm } from '../db/orm';

/** The registry lives in PostgreSQL: registry commands read and change it directly (DATABASE_URL). */
export async function withRegistry<T>(work: (registry: ModelRegistry) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const orm = await openOrm(config.databaseUrl, { poolMax: 2 });
  try {
    return await work(new ModelRegistry(orm));
  } finally {
    await orm.close(true);
  }
}

export function printJsonOr(json: boolean | undefined, value: unknown, human: () => void): void {
  if (json) console.log(JSON.stringify(value, null, 2));
  else human();
}

export function fixed(value: number | null | undefined, digits = 4): string {
  return value === null || value === undefined ? '-' : value.toFixed(digits);
}
