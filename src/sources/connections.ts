/**
 * The named connections a job may read from, as the workers have them configured (parsed with
 * the rest of the configuration in src/config/connections.ts), and the look-up a job's source
 * goes through: a name the workers do not know, or a connection of the other kind, is refused.
 */
import type { NomalyConfig } from '../config';
import type { Connection, PostgresConnection, S3Connection } from '../config/connections';

export type { Connection, PostgresConnection, S3Connection } from '../config/connections';
export { loadConnections } from '../config/connections';

/** A job names a connection the workers lack, or one of the wrong kind: no retry fixes that. */
export class UnknownConnectionError extends Error {
  readonly permanent = true;
  constructor(message: string) {
    super(message);
    this.name = 'UnknownConnectionError';
  }
}

type ConnectionOfKind<K extends Connection['kind']> = Extract<Connection, { kind: K }>;

export function connectionNamed(config: Pick<NomalyConfig, 'connections'>, name: string, kind: 's3'): S3Connection;
export function connectionNamed(config: Pick<NomalyConfig, 'connections'>, name: string, kind: 'postgres'): PostgresConnection;
export function connectionNamed<K extends Connection['kind']>(config: Pick<NomalyConfig, 'connections'>, name: string, kind: K): ConnectionOfKind<K> {
  // Own properties only: a name like "constructor" must not find Object.prototype's.
  const found = Object.prototype.hasOwnProperty.call(config.connections, name) ? config.connections[name] : undefined;
  if (!found) {
    const known = Object.keys(config.connections).sort();
    throw new UnknownConnectionError(`connection "${name}" is not configured on the workers (known: ${known.length ? known.join(', ') : 'none'})`);
  }
  if (found.kind !== kind) throw new UnknownConnectionError(`connection "${name}" is ${found.kind === 's3' ? 'an' : 'a'} ${found.kind} connection, not ${kind}`);
  return found as ConnectionOfKind<K>;
}
