/**
 * Named connections: the object stores and PostgreSQL databases jobs may read data from, set up
 * on the workers in the JSON file named by NOMALY_CONNECTIONS_FILE. A job names a connection,
 * never carries credentials: those come only from files (`accessKeyFile`, `secretKeyFile`,
 * `passwordFile`), so they stay out of workflow inputs, histories and this JSON file. For example
 *
 *   { "lake": { "kind": "s3", "endpoint": "http://127.0.0.1:9000",
 *               "accessKeyFile": "/run/secrets/lake-key", "secretKeyFile": "/run/secrets/lake-secret" },
 *     "warehouse": { "kind": "postgres", "url": "postgres://reader@127.0.0.1:5432/warehouse",
 *                    "passwordFile": "/run/secrets/wh", "ssl": false, "statementTimeoutMs": 300000 } }
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from './configError';
import { registerSecret } from './redaction';

export interface S3Connection {
  name: string;
  kind: 's3';
  endPoint: string;
  port: number;
  useSSL: boolean;
  accessKey: string;
  secretKey: string;
  region?: string;
}

export interface PostgresConnection {
  name: string;
  kind: 'postgres';
  host: string;
  port: number;
  database: string;
  user: string;
  /** Absent when the server authenticates otherwise (trust, certificates). */
  password?: string;
  ssl: boolean;
  /** Longest any one statement of an extract may run (each FETCH is one). */
  statementTimeoutMs: number;
}

export type Connection = S3Connection | PostgresConnection;

const NAME = /^[a-z][a-z0-9_-]{0,62}$/i;
/** The platform's own MinIO goes by this name; a configured connection may not shadow it. */
const RESERVED_NAME = 'platform';
const DEFAULT_STATEMENT_TIMEOUT_MS = 10 * 60 * 1000;

/** Fields that would put a credential into the JSON file itself, and the field to use instead. */
const INLINE_SECRETS: Record<string, string> = {
  password: 'passwordFile',
  secretKey: 'secretKeyFile',
  accessKey: 'accessKeyFile',
};
const FIELDS: Record<Connection['kind'], string[]> = {
  s3: ['kind', 'endpoint', 'accessKeyFile', 'secretKeyFile', 'region'],
  postgres: ['kind', 'url', 'passwordFile', 'ssl', 'statementTimeoutMs'],
};

type Env = Record<string, string | undefined>;
type Fields = Record<string, unknown>;

/** Every connection of NOMALY_CONNECTIONS_FILE by name; none when the variable is not set. */
export function loadConnections(env: Env = process.env): Record<string, Connection> {
  const file = env.NOMALY_CONNECTIONS_FILE;
  if (!file) return {};
  const entries = parseConnectionsFile(file);
  const connections: Record<string, Connection> = {};
  for (const [name, fields] of Object.entries(entries)) connections[name] = connection(name, fields);
  return connections;
}

function parseConnectionsFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`NOMALY_CONNECTIONS_FILE=${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    // The parser's message quotes the text around the mistake, which may be a credential pasted inline.
    const position = /position (\d+)/.exec((err as Error).message)?.[1];
    throw new ConfigError(`NOMALY_CONNECTIONS_FILE=${file} is not valid JSON${position ? ` (at character ${position})` : ''}`);
  }
  if (!isObject(parsed)) throw new ConfigError(`NOMALY_CONNECTIONS_FILE=${file} must hold a JSON object of connections by name`);
  return parsed;
}

function connection(name: string, fields: unknown): Connection {
  if (!NAME.test(name)) throw new ConfigError(`connection "${name}": a name is a letter then up to 62 letters, digits, "_" or "-"`);
  if (name.toLowerCase() === RESERVED_NAME) throw new ConfigError(`connection "${name}": the name "${RESERVED_NAME}" is reserved for the platform's own object store`);
  if (!isObject(fields)) throw new ConfigError(`connection "${name}" must be a JSON object with a "kind"`);
  for (const [field, instead] of Object.entries(INLINE_SECRETS)) {
    if (field in fields) throw new ConfigError(`connection "${name}": field "${field}" is refused: credentials are read only from files, set "${instead}"`);
  }
  const kind = fields.kind;
  if (kind !== 's3' && kind !== 'postgres') throw new ConfigError(`connection "${name}": field "kind" must be "s3" or "postgres"`);
  const unknown = Object.keys(fields).filter((field) => !FIELDS[kind].includes(field));
  if (unknown.length) throw new ConfigError(`connection "${name}": unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((f) => `"${f}"`).join(', ')} (${kind === 's3' ? 'an' : 'a'} ${kind} connection takes ${FIELDS[kind].join(', ')})`);
  return kind === 's3' ? s3Connection(name, fields) : postgresConnection(name, fields);
}

function s3Connection(name: string, fields: Fields): S3Connection {
  const url = parsedUrl(name, 'endpoint', requiredString(name, fields, 'endpoint'));
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`connection "${name}": field "endpoint" must be an http(s) URL like http://127.0.0.1:9000`);
  if (url.pathname !== '/' || url.search) throw new ConfigError(`connection "${name}": field "endpoint" must be a server address without a path or query (the bucket is named by the job)`);
  const useSSL = url.protocol === 'https:';
  const region = optionalString(name, fields, 'region');
  return {
    name,
    kind: 's3',
    endPoint: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : useSSL ? 443 : 80,
    useSSL,
    accessKey: fileSecret(name, fields, 'accessKeyFile'),
    secretKey: fileSecret(name, fields, 'secretKeyFile'),
    ...(region ? { region } : {}),
  };
}

function postgresConnection(name: string, fields: Fields): PostgresConnection {
  const url = parsedUrl(name, 'url', requiredString(name, fields, 'url'));
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw new ConfigError(`connection "${name}": field "url" must start with postgres:// (e.g. postgres://reader@127.0.0.1:5432/warehouse)`);
  if (url.search) throw new ConfigError(`connection "${name}": field "url" takes no query parameters (set "ssl" and "statementTimeoutMs" as fields)`);
  const user = decodeURIComponent(url.username);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!user) throw new ConfigError(`connection "${name}": field "url" must name the user (postgres://USER@host:5432/database)`);
  if (!database || database.includes('/')) throw new ConfigError(`connection "${name}": field "url" must name one database (postgres://user@host:5432/DATABASE)`);
  const password = fields.passwordFile === undefined ? undefined : fileSecret(name, fields, 'passwordFile');
  return {
    name,
    kind: 'postgres',
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : 5432,
    database,
    user,
    ...(password !== undefined ? { password } : {}),
    ssl: optionalBoolean(name, fields, 'ssl') ?? false,
    statementTimeoutMs: statementTimeout(name, fields),
  };
}

/** A URL of the file, refused when it carries a password (credentials come only from files). */
function parsedUrl(name: string, field: string, raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`connection "${name}": field "${field}" is not a valid URL`);
  }
  if (url.password) {
    registerSecret(url.password);
    throw new ConfigError(`connection "${name}": field "${field}" holds a password, which is refused: credentials are read only from files (set "passwordFile" for PostgreSQL)`);
  }
  if (!url.hostname) throw new ConfigError(`connection "${name}": field "${field}" must name a host`);
  return url;
}

/** The content of the file a `*File` field names, its trailing newline(s) dropped. */
function fileSecret(name: string, fields: Fields, field: string): string {
  const file = requiredString(name, fields, field);
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`connection "${name}": ${field} ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const value = content.replace(/[\r\n]+$/, '');
  if (!value) throw new ConfigError(`connection "${name}": ${field} ${file} is empty`);
  registerSecret(value);
  return value;
}

function statementTimeout(name: string, fields: Fields): number {
  const value = fields.statementTimeoutMs;
  if (value === undefined) return DEFAULT_STATEMENT_TIMEOUT_MS;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 2_147_483_647) {
    throw new ConfigError(`connection "${name}": field "statementTimeoutMs" must be a whole number of milliseconds from 1 to 2147483647`);
  }
  return value;
}

function requiredString(name: string, fields: Fields, field: string): string {
  const value = fields[field];
  if (typeof value !== 'string' || !value) throw new ConfigError(`connection "${name}": field "${field}" is required (a string)`);
  return value;
}

function optionalString(name: string, fields: Fields, field: string): string | undefined {
  const value = fields[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !value) throw new ConfigError(`connection "${name}": field "${field}" must be a non-empty string`);
  return value;
}

function optionalBoolean(name: string, fields: Fields, field: string): boolean | undefined {
  const value = fields[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new ConfigError(`connection "${name}": field "${field}" must be true or false`);
  return value;
}

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
