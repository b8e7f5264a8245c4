import type { NomalyConfig } from '../config';
import { openOrm, type Orm } from '../db/orm';

/**
 * The client's PostgreSQL connection, opened on first use: a command that only talks to Temporal
 * or MinIO never needs the database to answer.
 */
export class ClientDatabase {
  private opening?: Promise<Orm>;

  constructor(private readonly databaseUrl: string) {}

  static fromConfig(config: NomalyConfig): ClientDatabase {
    return new ClientDatabase(config.databaseUrl);
  }

  orm(): Promise<Orm> {
    if (!this.opening) {
      this.opening = openOrm(this.databaseUrl, { poolMax: 2 });
      // A failed open is not kept: the next use tries again.
      this.opening.catch(() => (this.opening = undefined));
    }
    return this.opening;
  }

  async close(): Promise<void> {
    const opening = this.opening;
    this.opening = undefined;
    const orm = await opening?.catch(() => undefined);
    await orm?.close(true);
  }
}
