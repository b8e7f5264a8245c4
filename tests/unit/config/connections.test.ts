import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../../src/config';
import { loadConnections } from '../../../src/config/connections';
import { redactSecrets } from '../../../src/config/redaction';
import { connectionNamed, UnknownConnectionError } from '../../../src/sources/connections';

const dir = mkdtempSync(path.join(os.tmpdir(), 'nomaly-connections-'));
let files = 0;
function file(content: string): string {
  const p = path.join(dir, `f${files++}`);
  writeFileSync(p, content);
  return p;
}
/** The env of a connections file holding `connections`. */
function envWith(connections: unknown): { NOMALY_CONNECTIONS_FILE: string } {
  return { NOMALY_CONNECTIONS_FILE: file(JSON.stringify(connections)) };
}
/** The ConfigError loadConnections throws for `connections`. */
function refusal(connections: unknown): ConfigError {
  try {
    loadConnections(envWith(connections));
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('loadConnections accepted the file');
}

const lakeKey = () => file('lake-access-id\n');
const lakeSecret = () => file('lake-secret-Zq81x\n');
const s3 = (fields: Record<string, unknown> = {}) => ({ kind: 's3', endpoint: 'http://127.0.0.1:9000', accessKeyFile: lakeKey(), secretKeyFile: lakeSecret(), ...fields });
const pg = (fields: Record<string, unknown> = {}) => ({ kind: 'postgres', url: 'postgres://reader@127.0.0.1:5432/warehouse', ...fields });

describe('loadConnections', () => {
  it('has no connections when NOMALY_CONNECTIONS_FILE is not set', () => {
    expect(loadConnections({})).toEqual({});
    expect(loadConfig({}).connections).toEqual({});
  });

  it('reads an s3 and a postgres connection, credentials from their files with the trailing newline dropped', () => {
    const env = envWith({
      lake: s3({ region: 'eu-west-1' }),
      warehouse: pg({ passwordFile: file('wh-pass-7781\r\n'), ssl: true, statementTimeoutMs: 60000 }),
      'secure_lake-2': s3({ endpoint: 'https://s3.example.com' }),
      local: pg({ url: 'postgresql://reader%40corp@[::1]/my%20db' }),
    });
    const connections = loadConnections(env);
    expect(connections.lake).toEqual({
      name: 'lake', kind: 's3', endPoint: '127.0.0.1', port: 9000, useSSL: false, accessKey: 'lake-access-id', secretKey: 'lake-secret-Zq81x', region: 'eu-west-1',
    });
    expect(connections['secure_lake-2']).toMatchObject({ endPoint: 's3.example.com', port: 443, useSSL: true });
    expect(connections['secure_lake-2']).not.toHaveProperty('region');
    expect(connections.warehouse).toEqual({
      name: 'warehouse', kind: 'postgres', host: '127.0.0.1', port: 5432, database: 'warehouse', user: 'reader', password: 'wh-pass-7781', ssl: true, statementTimeoutMs: 60000,
    });
    // Defaults: no password (trust or certificates), no TLS, a 10-minute statement timeout.
    expect(connections.local).toEqual({ name: 'local', kind: 'postgres', host: '::1', port: 5432, database: 'my db', user: 'reader@corp', ssl: false, statementTimeoutMs: 600000 });
    // loadConfig carries them, and the secrets read are scrubbed from logs from then on.
    expect(loadConfig(env).connections.warehouse).toEqual(connections.warehouse);
    expect(redactSecrets('login with wh-pass-7781 and lake-secret-Zq81x')).toBe('login with [redacted] and [redacted]');
  });

  it.each([
    ['password', pg({ password: 'inline-pw-SECRET1' }), 'passwordFile', 'inline-pw-SECRET1'],
    ['secretKey', s3({ secretKey: 'inline-sk-SECRET2' }), 'secretKeyFile', 'inline-sk-SECRET2'],
    ['accessKey', s3({ accessKey: 'inline-ak-SECRET3' }), 'accessKeyFile', 'inline-ak-SECRET3'],
  ])('refuses an inline %s, naming the connection and the field to use, not the value', (field, fields, instead, value) => {
    const err = refusal({ warehouse: fields });
    expect(err.message).toContain('connection "warehouse"');
    expect(err.message).toContain(`field "${field}" is refused`);
    expect(err.message).toContain(`"${instead}"`);
    expect(err.message).not.toContain(value);
  });

  it('refuses a URL carrying a password, naming the field, not the password', () => {
    const err = refusal({ warehouse: pg({ url: 'postgres://reader:url-pw-SECRET4@127.0.0.1:5432/warehouse' }) });
    expect(err.message).toMatch(/^connection "warehouse": field "url" holds a password/);
    expect(err.message).not.toContain('url-pw-SECRET4');
    const s3err = refusal({ lake: s3({ endpoint: 'http://id:ep-pw-SECRET5@127.0.0.1:9000' }) });
    expect(s3err.message).toMatch(/^connection "lake": field "endpoint" holds a password/);
    expect(s3err.message).not.toContain('ep-pw-SECRET5');
  });

  it('names the connection and the field when a credential file is missing, empty or not given', () => {
    expect(refusal({ lake: s3({ secretKeyFile: path.join(dir, 'absent') }) }).message).toMatch(/^connection "lake": secretKeyFile .*absent cannot be read \(ENOENT\)/);
    expect(refusal({ lake: s3({ accessKeyFile: file('\n') }) }).message).toMatch(/^connection "lake": accessKeyFile .* is empty/);
    expect(refusal({ warehouse: pg({ passwordFile: file('') }) }).message).toMatch(/^connection "warehouse": passwordFile .* is empty/);
    expect(refusal({ lake: s3({ secretKeyFile: undefined }) }).message).toBe('connection "lake": field "secretKeyFile" is required (a string)');
  });

  it('refuses bad names and the reserved name "platform"', () => {
    expect(refusal({ '9lake': s3() }).message).toMatch(/^connection "9lake": a name is a letter/);
    expect(refusal({ 'la ke': s3() }).message).toMatch(/^connection "la ke": a name/);
    expect(refusal({ ['x'.repeat(64)]: s3() }).message).toMatch(/a name is a letter then up to 62/);
    expect(refusal({ Platform: s3() }).message).toMatch(/^connection "Platform": the name "platform" is reserved/);
    expect(Object.keys(loadConnections(envWith({ ['L' + 'x'.repeat(62)]: s3() })))).toHaveLength(1);
  });

  it('refuses an unknown kind or field, a bad endpoint, URL, ssl or timeout, naming the field', () => {
    expect(refusal({ a: { kind: 'mysql' } }).message).toBe('connection "a": field "kind" must be "s3" or "postgres"');
    expect(refusal({ a: 'postgres://x' }).message).toBe('connection "a" must be a JSON object with a "kind"');
    expect(refusal({ a: s3({ endPoint: 'http://h:9000' }) }).message).toMatch(/^connection "a": unknown field "endPoint" \(an s3 connection takes kind, endpoint,/);
    expect(refusal({ a: s3({ endpoint: 'ftp://h' }) }).message).toMatch(/^connection "a": field "endpoint" must be an http\(s\) URL/);
    expect(refusal({ a: s3({ endpoint: 'http://h:9000/bucket' }) }).message).toMatch(/^connection "a": field "endpoint" must be a server address without a path/);
    expect(refusal({ a: s3({ endpoint: 'not a url' }) }).message).toBe('connection "a": field "endpoint" is not a valid URL');
    expect(refusal({ a: pg({ url: 'mysql://reader@h/db' }) }).message).toMatch(/^connection "a": field "url" must start with postgres:\/\//);
    expect(refusal({ a: pg({ url: 'postgres://h:5432/db' }) }).message).toMatch(/^connection "a": field "url" must name the user/);
    expect(refusal({ a: pg({ url: 'postgres://reader@h:5432' }) }).message).toMatch(/^connection "a": field "url" must name one database/);
    expect(refusal({ a: pg({ url: 'postgres://reader@h/db?sslmode=require' }) }).message).toMatch(/^connection "a": field "url" takes no query parameters/);
    expect(refusal({ a: pg({ ssl: 'yes' }) }).message).toBe('connection "a": field "ssl" must be true or false');
    expect(refusal({ a: pg({ statementTimeoutMs: 0 }) }).message).toMatch(/^connection "a": field "statementTimeoutMs" must be a whole number/);
    expect(refusal({ a: pg({ statementTimeoutMs: 1.5 }) }).message).toMatch(/statementTimeoutMs/);
  });

  it('names NOMALY_CONNECTIONS_FILE when it is unreadable, not JSON (without quoting it) or not an object', () => {
    expect(() => loadConnections({ NOMALY_CONNECTIONS_FILE: path.join(dir, 'none.json') })).toThrow(/NOMALY_CONNECTIONS_FILE=.*none\.json cannot be read \(ENOENT\)/);
    const broken = { NOMALY_CONNECTIONS_FILE: file('{"wh": {"kind": "postgres", "password": "json-pw-SECRET6" oops}}') };
    expect(() => loadConnections(broken)).toThrow(/NOMALY_CONNECTIONS_FILE=.* is not valid JSON/);
    expect(() => loadConnections(broken)).not.toThrow(/json-pw-SECRET6/);
    expect(() => loadConnections(envWith([s3()]))).toThrow(/must hold a JSON object of connections by name/);
  });
});

describe('connectionNamed', () => {
  const config = { connections: loadConnections(envWith({ lake: s3(), warehouse: pg() })) };

  it('finds a connection of the kind asked for', () => {
    expect(connectionNamed(config, 'lake', 's3')).toMatchObject({ name: 'lake', kind: 's3', accessKey: 'lake-access-id' });
    expect(connectionNamed(config, 'warehouse', 'postgres')).toMatchObject({ name: 'warehouse', kind: 'postgres', user: 'reader' });
  });

  it('refuses an unknown name listing the known ones, and a connection of the other kind', () => {
    expect(() => connectionNamed(config, 'x', 's3')).toThrow(new UnknownConnectionError('connection "x" is not configured on the workers (known: lake, warehouse)'));
    expect(() => connectionNamed(config, 'constructor', 'postgres')).toThrow(UnknownConnectionError);
    expect(() => connectionNamed({ connections: {} }, 'x', 's3')).toThrow('connection "x" is not configured on the workers (known: none)');
    expect(() => connectionNamed(config, 'warehouse', 's3')).toThrow('connection "warehouse" is a postgres connection, not s3');
    expect(() => connectionNamed(config, 'lake', 'postgres')).toThrow('connection "lake" is an s3 connection, not postgres');
  });
});
