import { invalidInput } from './inputs';
import { expandTemplate } from './window';
import { DATASET_FORMATS, type DatasetFormatName } from '../data/formats/names';

/**
 * Where a windowed job reads its data: objects in a bucket (the platform's own MinIO or another
 * S3 store) or the rows of a PostgreSQL query. A source names a connection configured on the
 * workers and never carries credentials: a workflow's input is stored in its history, readable
 * by anyone who can read the history. Pure, so workflow code may import it.
 */

export interface ObjectsSource {
  kind: 'objects';
  /** A connection configured on the workers; 'platform' is the platform's own MinIO. */
  connection: string;
  bucket: string;
  /** Key prefix inside the bucket; may hold {date}, {start} and {end}. */
  prefix: string;
  /** Matches an object's name (after its last `/`): `*` any run of characters, `?` one. Default: files of the format's extensions. */
  glob?: string;
  format: DatasetFormatName;
  /** A column that identifies a row; without it a row is known by its object and row number. */
  idColumn?: string;
}

export interface PostgresSource {
  kind: 'postgres';
  connection: string;
  /** One SELECT (or WITH … SELECT); $start, $end and $date are bound as parameters, see queryParameters. */
  query: string;
  idColumn?: string;
}

export type SourceSpec = ObjectsSource | PostgresSource;

export const SOURCE_KINDS = ['objects', 'postgres'] as const;
export const PLATFORM_CONNECTION = 'platform';
export const MAX_PREFIX_CHARS = 1024;
export const MAX_GLOB_CHARS = 200;
export const MAX_QUERY_CHARS = 100_000;

const CONNECTION = /^[a-z][a-z0-9_-]{0,62}$/i;
/** An S3 bucket name: 3-63 lowercase letters, digits, dots and dashes, starting and ending with a letter or digit. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const FIELDS: Record<SourceSpec['kind'], readonly string[]> = {
  objects: ['kind', 'connection', 'bucket', 'prefix', 'glob', 'format', 'idColumn'],
  postgres: ['kind', 'connection', 'query', 'idColumn'],
};
/** Field names that hold (or point at) credentials, compared lower case without _ and -. */
const CREDENTIAL_FIELDS = new Set([
  'accesskey', 'accesskeyid', 'secretkey', 'secretaccesskey', 'sessiontoken', 'password', 'passwd', 'user', 'username',
  'token', 'secret', 'endpoint', 'url', 'uri', 'credentials', 'credential', 'apikey', 'dsn', 'connectionstring',
]);
const CREDENTIALS_REFUSED =
  'is refused: credentials never go in a workflow input (they would be stored in its history); name a connection configured on the workers (NOMALY_CONNECTIONS_FILE)';

/** A value quoted back in an error, cut so a huge input never fills the error (and the history). */
export function shown(value: unknown, max = 64): string {
  if (typeof value !== 'string') return value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value;
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}

export function validateSource(workflow: string, raw: unknown): SourceSpec {
  const w = workflow;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    invalidInput(w, 'source', 'must be an object, e.g. {"kind": "objects", "bucket": "sales", "prefix": "orders/{date}/", "format": "csv"}');
  }
  const input = raw as Record<string, unknown>;
  refuseCredentials(w, 'source', input);
  const kind = input.kind;
  if (kind === undefined) invalidInput(w, 'source.kind', `is required (${SOURCE_KINDS.join(' or ')})`);
  if (!SOURCE_KINDS.includes(kind as never)) invalidInput(w, 'source.kind', `${shown(kind)} is not one of ${SOURCE_KINDS.join(', ')}`);
  const allowed = FIELDS[kind as SourceSpec['kind']];
  for (const key of Object.keys(input)) {
    if (!allowed.includes(key)) invalidInput(w, `source.${shown(key).slice(1, -1)}`, `is not a known field of a ${String(kind)} source (known: ${allowed.join(', ')})`);
  }
  return kind === 'objects' ? objectsSource(w, input) : postgresSource(w, input);
}

/**
 * Refuses a field that holds (or points at) credentials, and a connection that is a URL or
 * `user@host`, before anything could quote them back. `object` is the field's name (source, sink).
 */
export function refuseCredentials(w: string, object: string, input: Record<string, unknown>): void {
  for (const key of Object.keys(input)) {
    if (CREDENTIAL_FIELDS.has(key.toLowerCase().replace(/[_-]/g, ''))) invalidInput(w, `${object}.${key}`, CREDENTIALS_REFUSED);
  }
  if (typeof input.connection === 'string' && /:\/\/|@/.test(input.connection)) invalidInput(w, `${object}.connection`, CREDENTIALS_REFUSED);
}

/** The connection a source (or sink: `object`) names; a source without one reads the platform's MinIO. */
export function connectionName(w: string, input: Record<string, unknown>, required: boolean, object = 'source'): string {
  const value = input.connection;
  if (value === undefined && !required) return PLATFORM_CONNECTION;
  if (typeof value !== 'string' || !CONNECTION.test(value)) {
    invalidInput(w, `${object}.connection`, `${value === undefined ? 'is required' : `${shown(value)} is not valid`}: name a connection configured on the workers (a letter, then up to 62 letters, digits, _ or -)`);
  }
  return value;
}

function objectsSource(w: string, input: Record<string, unknown>): ObjectsSource {
  const bucket = input.bucket;
  if (typeof bucket !== 'string' || !BUCKET.test(bucket) || bucket.includes('..')) {
    invalidInput(w, 'source.bucket', `${bucket === undefined ? 'is required' : `${shown(bucket)} is not valid`} (an S3 bucket name: 3-63 lowercase letters, digits, dots and dashes)`);
  }
  const format = input.format;
  if (!DATASET_FORMATS.includes(format as never)) {
    invalidInput(w, 'source.format', `${format === undefined ? 'is required' : `${shown(format)} is not supported`} (supported: ${DATASET_FORMATS.join(', ')})`);
  }
  const source: ObjectsSource = {
    kind: 'objects',
    connection: connectionName(w, input, false),
    bucket,
    prefix: prefix(w, input.prefix),
    format: format as DatasetFormatName,
  };
  if (input.glob !== undefined) source.glob = glob(w, input.glob);
  if (input.idColumn !== undefined) source.idColumn = idColumn(w, input.idColumn);
  return source;
}

function idColumn(w: string, value: unknown): string {
  if (typeof value !== 'string' || !IDENTIFIER.test(value)) {
    invalidInput(w, 'source.idColumn', `${shown(value)} is not a column name (a letter or _, then up to 62 letters, digits or _)`);
  }
  return value;
}

function prefix(w: string, value: unknown): string {
  if (value === undefined) return '';
  if (typeof value !== 'string') invalidInput(w, 'source.prefix', `must be a string (a key prefix inside the bucket), got ${shown(value)}`);
  // Length first, so that a huge value is not quoted back.
  if (value.length > MAX_PREFIX_CHARS) invalidInput(w, 'source.prefix', `is ${value.length} characters long; a prefix has at most ${MAX_PREFIX_CHARS}`);
  // A URL here would be a connection in disguise, perhaps with a password in it: not quoted.
  if (value.includes('://')) invalidInput(w, 'source.prefix', 'is a key prefix inside the bucket, not a URL; name the store in source.connection');
  if (/[\u0000-\u001f\u007f]/.test(value)) invalidInput(w, 'source.prefix', 'holds a control character (a line break, tab or NUL)');
  if (value.startsWith('/')) invalidInput(w, 'source.prefix', `${shown(value)} starts with "/"; keys inside a bucket do not`);
  if (value.split('/').includes('..')) invalidInput(w, 'source.prefix', `${shown(value)} has a ".." segment; a prefix cannot climb out of itself`);
  try {
    expandTemplate(value, { date: '2000-01-01', start: '2000-01-01T00:00:00.000Z', end: '2000-01-02T00:00:00.000Z' });
  } catch (err) {
    invalidInput(w, 'source.prefix', `is refused: ${(err as Error).message}`);
  }
  return value;
}

function glob(w: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') invalidInput(w, 'source.glob', `must be a non-empty pattern such as "*.csv", got ${shown(value)}`);
  if (value.length > MAX_GLOB_CHARS) invalidInput(w, 'source.glob', `is ${value.length} characters long; a glob has at most ${MAX_GLOB_CHARS}`);
  if (/[\u0000-\u001f\u007f]/.test(value)) invalidInput(w, 'source.glob', 'holds a control character (a line break, tab or NUL)');
  if (value.includes('/')) invalidInput(w, 'source.glob', `${shown(value)} holds "/"; a glob matches names after the prefix within one level (put directories in source.prefix)`);
  // Only * and ?: a [class], {a,b} or \escape would silently match literally, so refuse it.
  if (/[[\]{}\\]/.test(value)) invalidInput(w, 'source.glob', `${shown(value)} uses [ ] { } or \\; only * (any run of characters) and ? (one character) are supported`);
  return value;
}

function postgresSource(w: string, input: Record<string, unknown>): PostgresSource {
  const connection = connectionName(w, input, true);
  const query = input.query;
  if (typeof query !== 'string' || query.trim() === '') invalidInput(w, 'source.query', 'is required: one SELECT statement');
  if (query.length > MAX_QUERY_CHARS) invalidInput(w, 'source.query', `is ${query.length} characters long; a query has at most ${MAX_QUERY_CHARS}`);
  try {
    checkReadOnlyQuery(query);
  } catch (err) {
    invalidInput(w, 'source.query', `is refused: ${(err as Error).message}`);
  }
  const source: PostgresSource = { kind: 'postgres', connection, query };
  if (input.idColumn !== undefined) source.idColumn = idColumn(w, input.idColumn);
  return source;
}

// ---------------------------------------------------------------------------------------------
// Globs

/** `*` matches any run of characters but `/`, `?` one character but `/`; everything else is literal. */
export function globMatches(glob: string, name: string): boolean {
  const globParts = glob.split('/');
  const nameParts = name.split('/');
  return globParts.length === nameParts.length && globParts.every((part, i) => segmentMatches(Array.from(part), Array.from(nameParts[i])));
}

/** Classic wildcard matching with one backtrack point: linear-ish, never exponential, unlike a regex. */
function segmentMatches(pattern: string[], text: string[]): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let starText = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === '?' || (pattern[p] !== '*' && pattern[p] === text[t]))) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      starText = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++starText;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

// ---------------------------------------------------------------------------------------------
// Queries

export const QUERY_PARAMETERS = ['start', 'end', 'date'] as const;
export type QueryParameterName = (typeof QUERY_PARAMETERS)[number];

type SqlToken =
  | { kind: 'code'; text: string }
  | { kind: 'quoted'; text: string }
  | { kind: 'comment'; text: string }
  | { kind: 'parameter'; text: string; name: string };

const IDENT_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;

/**
 * Splits PostgreSQL text into code, quoted text ('strings', E'escapes', "identifiers",
 * $tag$dollar quotes$tag$), comments (-- and nested /* *\/) and $name placeholders, so that
 * nothing inside quotes or comments is ever taken for a placeholder or a semicolon.
 */
function tokenize(sql: string): SqlToken[] {
  const tokens: SqlToken[] = [];
  let code = '';
  const flush = (): void => {
    if (code) tokens.push({ kind: 'code', text: code });
    code = '';
  };
  const push = (token: SqlToken): void => {
    flush();
    tokens.push(token);
  };
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    const previous = i > 0 ? sql[i - 1] : '';
    if (c === "'") {
      // E'…' strings take backslash escapes; the E must start a word (not end an identifier like "name").
      const escapes = /[eE]/.test(previous) && !IDENT_CHAR.test(i > 1 ? sql[i - 2] : '');
      const end = closeQuote(sql, i, "'", escapes);
      push({ kind: 'quoted', text: sql.slice(i, end) });
      i = end;
    } else if (c === '"') {
      const end = closeQuote(sql, i, '"', false);
      push({ kind: 'quoted', text: sql.slice(i, end) });
      i = end;
    } else if (c === '-' && sql[i + 1] === '-') {
      const newline = sql.indexOf('\n', i);
      const end = newline < 0 ? sql.length : newline;
      push({ kind: 'comment', text: sql.slice(i, end) });
      i = end;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = closeBlockComment(sql, i);
      push({ kind: 'comment', text: sql.slice(i, end) });
      i = end;
    } else if (c === '$' && !IDENT_CHAR.test(previous)) {
      const rest = sql.slice(i);
      const dollarTag = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(rest);
      const named = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(rest);
      const positional = /^\$(\d+)/.exec(rest);
      if (dollarTag) {
        const close = sql.indexOf(dollarTag[0], i + dollarTag[0].length);
        if (close < 0) throw new Error(`the dollar-quoted string opened by ${dollarTag[0].slice(0, 40)} is never closed`);
        push({ kind: 'quoted', text: sql.slice(i, close + dollarTag[0].length) });
        i = close + dollarTag[0].length;
      } else if (named) {
        push({ kind: 'parameter', text: named[0], name: named[1] });
        i += named[0].length;
      } else if (positional) {
        throw new Error(`positional placeholder $${positional[1].slice(0, 12)} is not allowed; use ${QUERY_PARAMETERS.map((p) => `$${p}`).join(', ')}`);
      } else {
        code += c;
        i++;
      }
    } else {
      code += c;
      i++;
    }
  }
  flush();
  return tokens;
}

/** The index just past the quote that closes the one at `open` ('' or "" inside is an escaped quote). */
function closeQuote(sql: string, open: number, quote: string, backslashEscapes: boolean): number {
  let i = open + 1;
  while (i < sql.length) {
    if (backslashEscapes && sql[i] === '\\') i += 2;
    else if (sql[i] === quote && sql[i + 1] === quote) i += 2;
    else if (sql[i] === quote) return i + 1;
    else i++;
  }
  throw new Error(`the ${quote === "'" ? 'string' : 'quoted identifier'} opened at character ${open + 1} is never closed`);
}

/** PostgreSQL's block comments nest. */
function closeBlockComment(sql: string, open: number): number {
  let depth = 0;
  let i = open;
  while (i < sql.length) {
    if (sql.startsWith('/*', i)) {
      depth++;
      i += 2;
    } else if (sql.startsWith('*/', i)) {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  throw new Error(`the comment opened at character ${open + 1} is never closed`);
}

/**
 * Rewrites $start, $end and $date into $1..$n (the same name, the same number) for the caller to
 * bind as parameters; the values are never spliced into the text. Quotes and comments are left
 * alone; any other $name, or a $1 of the query's own, is an error.
 */
export function queryParameters(query: string): { text: string; names: QueryParameterName[] } {
  const names: QueryParameterName[] = [];
  const text = tokenize(query)
    .map((token) => {
      if (token.kind !== 'parameter') return token.text;
      if (!(QUERY_PARAMETERS as readonly string[]).includes(token.name)) {
        throw new Error(`unknown placeholder $${token.name.slice(0, 40)}; the allowed ones are ${QUERY_PARAMETERS.map((p) => `$${p}`).join(', ')}`);
      }
      const name = token.name as QueryParameterName;
      if (!names.includes(name)) names.push(name);
      return `$${names.indexOf(name) + 1}`;
    })
    .join('');
  return { text, names };
}

/**
 * Words that make a statement write, even inside a WITH (… DELETE … RETURNING) or a SELECT … INTO.
 * A column with such a name can still be read by quoting it ("update"). This is a first guard, for
 * a clear error early; the reader still runs the query in a read-only transaction.
 */
const WRITING_WORDS = new Set(['insert', 'update', 'delete', 'merge', 'truncate', 'into']);

/** Throws unless the query is one SELECT or WITH statement, with at most one trailing semicolon. */
function checkReadOnlyQuery(query: string): void {
  const tokens = tokenize(query);
  queryParameters(query);
  // Code with quotes and comments blanked, so a word or semicolon in them counts for nothing.
  const code = tokens.map((t) => (t.kind === 'code' ? t.text : t.kind === 'parameter' ? ' $p ' : ' ')).join('');
  const first = /^[\s(]*([A-Za-z]+)/.exec(code);
  if (!first || !/^(select|with)$/i.test(first[1])) throw new Error('a query must be one statement starting with SELECT or WITH');
  const semicolon = code.indexOf(';');
  if (semicolon >= 0 && code.slice(semicolon + 1).trim() !== '') {
    throw new Error('a query must be one statement: a ";" may only end it');
  }
  for (const word of code.match(/[A-Za-z_][A-Za-z0-9_$]*/g) ?? []) {
    if (WRITING_WORDS.has(word.toLowerCase())) {
      throw new Error(`${word.toUpperCase()} writes data; a source query only reads (quote a column of that name: "${word.toLowerCase()}")`);
    }
  }
}

// ---------------------------------------------------------------------------------------------

/** The source as JSON with its keys sorted: the same source gives the same text (for a run key). */
export function canonicalSource(source: SourceSpec): string {
  return JSON.stringify(sortKeys(source));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) sorted[key] = sortKeys(v);
  }
  return sorted;
}
