/**
 * Keeping secrets out of logs and error messages. The configuration module registers every
 * secret value it reads (passwords, keys); `redactSecrets` replaces those values and the
 * password of any `scheme://user:password@` URL in a text. The workers' pino logger and the
 * CLI's error output pass everything through it.
 */

const REDACTED = '[redacted]';
const known = new Set<string>();

/** Remembers a secret value so that it is scrubbed from logs; very short values are ignored (they would mangle text). */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 6) known.add(value);
}

/** A connection string with its password replaced, e.g. postgres://app:***@host/db. */
export function redactUrl(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s[\]]*:)[^@\s/[\]]*@/gi, '$1***@');
}

/** Registers the password of a connection URL (as written and percent-decoded). */
export function registerUrlSecret(url: string): void {
  try {
    const password = new URL(url).password;
    if (password) {
      registerSecret(password);
      registerSecret(decodeURIComponent(password));
    }
  } catch {
    // not a URL: nothing to register
  }
}

export function redactSecrets(text: string): string {
  let out = redactUrl(text);
  for (const value of known) if (out.includes(value)) out = out.split(value).join(REDACTED);
  return out;
}

/** Deep copy of a log record with every string scrubbed; Errors become plain objects. */
export function redactDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return value;
  if (value instanceof Error) {
    const plain: Record<string, unknown> = { type: value.name, message: redactSecrets(value.message) };
    if (value.stack) plain.stack = redactSecrets(value.stack);
    for (const [k, v] of Object.entries(value)) if (!(k in plain)) plain[k] = redactDeep(v, depth + 1);
    if (value.cause !== undefined) plain.cause = redactDeep(value.cause, depth + 1);
    return plain;
  }
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1));
  if (value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, depth + 1);
  return out;
}

/** Field names whose values are never logged, whatever they hold (pino `redact` paths). */
export const SECRET_LOG_PATHS = [
  'password',
  'secretKey',
  'accessKey',
  'databaseUrl',
  'backupDatabaseUrl',
  'restoreDatabaseUrl',
  'connectionString',
  'clientUrl',
  'authorization',
  'PGPASSWORD',
  '*.password',
  '*.secretKey',
  '*.accessKey',
  '*.databaseUrl',
  '*.backupDatabaseUrl',
  '*.restoreDatabaseUrl',
  '*.connectionString',
  '*.clientUrl',
  '*.authorization',
  '*.PGPASSWORD',
  'encryptionKey',
  '*.encryptionKey',
  'backupKey',
  '*.backupKey',
  'config.minio',
  'config.temporal.tls',
];
