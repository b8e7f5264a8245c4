import fc from 'fast-check';
import { ApplicationFailure } from '@temporalio/common';
import { canonicalSource, globMatches, queryParameters, validateSource, type SourceSpec } from '../../../src/api/sourceInput';
import { failureOf } from '../../support/failureOf';

const objects = { kind: 'objects', bucket: 'sales-data', prefix: 'orders/{date}/', glob: '*.csv', format: 'csv' };
const postgres = { kind: 'postgres', connection: 'warehouse', query: 'select * from orders where created_at >= $start and created_at < $end', idColumn: 'order_id' };

function refusal(input: unknown): ApplicationFailure {
  const failure = failureOf(() => validateSource('nightly', input));
  expect(failure).toBeInstanceOf(ApplicationFailure);
  expect(failure.nonRetryable).toBe(true);
  expect(failure.type).toBe('InvalidInput');
  return failure;
}

describe('validateSource', () => {
  it('takes an objects source, on the platform connection by default', () => {
    expect(validateSource('nightly', { ...objects })).toEqual({ ...objects, connection: 'platform' });
    expect(validateSource('nightly', { kind: 'objects', connection: 'archive', bucket: 'a.b-c', format: 'parquet' })).toEqual({
      kind: 'objects',
      connection: 'archive',
      bucket: 'a.b-c',
      prefix: '',
      format: 'parquet',
    });
  });

  it('takes a postgres source', () => {
    expect(validateSource('nightly', { ...postgres })).toEqual(postgres);
    const hostile = { kind: 'postgres', connection: 'warehouse', query: "select * from orders where note <> '; drop table orders; --' and day = $date;" };
    expect(validateSource('nightly', hostile)).toEqual(hostile);
  });

  it.each([
    [null, 'source', 'must be an object'],
    [[objects], 'source', 'must be an object'],
    [{ bucket: 'b', format: 'csv' }, 'source.kind', 'is required (objects or postgres)'],
    [{ ...objects, kind: 'ftp' }, 'source.kind', '"ftp" is not one of objects, postgres'],
    [{ ...objects, query: 'select 1' }, 'source.query', 'is not a known field of a objects source'],
    [{ ...postgres, bucket: 'b' }, 'source.bucket', 'is not a known field of a postgres source'],
    [{ ...objects, region: 'eu' }, 'source.region', 'is not a known field'],
    [{ ...objects, connection: 'Bad Name' }, 'source.connection', '"Bad Name" is not valid: name a connection configured on the workers'],
    [{ ...objects, connection: '1st' }, 'source.connection', 'is not valid'],
    [{ ...objects, connection: 'c'.repeat(64) }, 'source.connection', 'is not valid'],
    [{ ...objects, connection: 7 }, 'source.connection', 'is not valid'],
    [{ ...postgres, connection: undefined }, 'source.connection', 'is required'],
    [{ ...objects, bucket: undefined }, 'source.bucket', 'is required'],
    [{ ...objects, bucket: 'ab' }, 'source.bucket', '"ab" is not valid (an S3 bucket name'],
    [{ ...objects, bucket: 'Sales' }, 'source.bucket', 'is not valid'],
    [{ ...objects, bucket: 'sales_data' }, 'source.bucket', 'is not valid'],
    [{ ...objects, bucket: 'b'.repeat(64) }, 'source.bucket', 'is not valid'],
    [{ ...objects, bucket: 'a..b' }, 'source.bucket', 'is not valid'],
    [{ ...objects, bucket: '../etc' }, 'source.bucket', 'is not valid'],
    [{ ...objects, format: undefined }, 'source.format', 'is required (supported: csv, jsonl, parquet)'],
    [{ ...objects, format: 'xlsx' }, 'source.format', '"xlsx" is not supported'],
    [{ ...objects, prefix: '../other-team/' }, 'source.prefix', 'has a ".." segment'],
    [{ ...objects, prefix: 'orders/../../secrets/' }, 'source.prefix', 'has a ".." segment'],
    [{ ...objects, prefix: 'orders/..' }, 'source.prefix', 'has a ".." segment'],
    [{ ...objects, prefix: '/orders/' }, 'source.prefix', 'starts with "/"'],
    [{ ...objects, prefix: 'orders/\n' }, 'source.prefix', 'holds a control character'],
    [{ ...objects, prefix: 42 }, 'source.prefix', 'must be a string'],
    [{ ...objects, prefix: 'orders/{day}/' }, 'source.prefix', 'is refused: unknown placeholder {day}; the allowed ones are {date}, {start}, {end}'],
    [{ ...objects, glob: '' }, 'source.glob', 'must be a non-empty pattern'],
    [{ ...objects, glob: 'day/*.csv' }, 'source.glob', 'holds "/"'],
    [{ ...objects, glob: '*.{csv,jsonl}' }, 'source.glob', 'only * (any run of characters) and ? (one character) are supported'],
    [{ ...objects, glob: 'part-[0-9].csv' }, 'source.glob', 'only *'],
    [{ ...objects, glob: '*'.repeat(201) }, 'source.glob', 'is 201 characters long; a glob has at most 200'],
    [{ ...postgres, query: undefined }, 'source.query', 'is required: one SELECT statement'],
    [{ ...postgres, query: '   ' }, 'source.query', 'is required'],
    [{ ...postgres, query: 'delete from orders' }, 'source.query', 'must be one statement starting with SELECT or WITH'],
    [{ ...postgres, query: '/* select */ drop table orders' }, 'source.query', 'starting with SELECT or WITH'],
    [{ ...postgres, query: 'select 1; drop table orders' }, 'source.query', 'a ";" may only end it'],
    [{ ...postgres, query: 'select 1;;' }, 'source.query', 'a ";" may only end it'],
    [{ ...postgres, query: 'with d as (delete from orders returning *) select * from d' }, 'source.query', 'DELETE writes data'],
    [{ ...postgres, query: 'select * into copy_of_orders from orders' }, 'source.query', 'INTO writes data'],
    [{ ...postgres, query: "select 'unterminated" }, 'source.query', 'the string opened at character 8 is never closed'],
    [{ ...postgres, query: 'select 1 /* open' }, 'source.query', 'the comment opened at character 10 is never closed'],
    [{ ...postgres, query: 'select $body$ x' }, 'source.query', 'the dollar-quoted string opened by $body$ is never closed'],
    [{ ...postgres, query: 'select * from t where d = $day' }, 'source.query', 'unknown placeholder $day'],
    [{ ...postgres, query: 'select * from t where d = $1' }, 'source.query', 'positional placeholder $1 is not allowed'],
    [{ ...postgres, idColumn: 'order id' }, 'source.idColumn', '"order id" is not a column name'],
    [{ ...postgres, idColumn: '"id"; drop' }, 'source.idColumn', 'is not a column name'],
  ])('refuses %j, naming the field', (input, field, message) => {
    const failure = refusal(input);
    expect(failure.message).toContain(`nightly input: "${field}"`);
    expect(failure.message).toContain(message);
  });

  it('refuses a 10,000-character prefix without quoting it', () => {
    const failure = refusal({ ...objects, prefix: 'p'.repeat(10_000) });
    expect(failure.message).toContain('"source.prefix" is 10000 characters long; a prefix has at most 1024');
    expect(failure.message).not.toContain('p'.repeat(100));
  });

  it('refuses a query over 100,000 characters without quoting it, and takes one just under', () => {
    const failure = refusal({ ...postgres, query: `select ${'x'.repeat(100_000)}` });
    expect(failure.message).toContain('"source.query" is 100007 characters long; a query has at most 100000');
    expect(failure.message).not.toContain('x'.repeat(100));
    expect(validateSource('nightly', { ...postgres, query: `select ${'x'.repeat(99_993)}` })).toMatchObject({ kind: 'postgres' });
  });

  it('never quotes a long value in full', () => {
    for (const input of [{ ...objects, bucket: 'b'.repeat(5000) }, { ...objects, format: 'f'.repeat(5000) }, { ...objects, ['k'.repeat(5000)]: 1 }, { ...objects, prefix: `${'q'.repeat(1000)}/../` }]) {
      const failure = refusal(input);
      expect(failure.message.length).toBeLessThan(400);
    }
  });

  const CREDENTIAL_FIELDS = ['accessKey', 'secretKey', 'password', 'user', 'username', 'token', 'secret', 'endpoint', 'url', 'credentials', 'access_key_id', 'SECRET_ACCESS_KEY', 'sessionToken', 'apiKey', 'dsn'];

  it.each(CREDENTIAL_FIELDS)('refuses a %s field on either kind, without echoing its value', (field) => {
    for (const base of [objects, postgres]) {
      const failure = refusal({ ...base, [field]: 'hunter2-s3cr3t' });
      expect(failure.message).toBe(
        `nightly input: "source.${field}" is refused: credentials never go in a workflow input (they would be stored in its history); name a connection configured on the workers (NOMALY_CONNECTIONS_FILE)`,
      );
      expect(failure.message).not.toContain('hunter2');
    }
  });

  it.each([
    'postgres://reader:hunter2-s3cr3t@db.internal:5432/sales',
    'https://AKIAEXAMPLE:hunter2-s3cr3t@s3.example.com',
    'reader:hunter2-s3cr3t@db',
    's3://bucket',
  ])('refuses the connection %s as a credential, without echoing it', (value) => {
    for (const base of [objects, postgres]) {
      const failure = refusal({ ...base, connection: value });
      expect(failure.message).toContain('"source.connection" is refused: credentials never go in a workflow input');
      expect(failure.message).not.toContain('hunter2');
      expect(failure.message).not.toContain(value);
    }
  });

  it('refuses a URL as a prefix without echoing it (a password could be in it)', () => {
    const failure = refusal({ ...objects, prefix: 's3://AKIA:hunter2@host/orders/' });
    expect(failure.message).toContain('"source.prefix" is a key prefix inside the bucket, not a URL');
    expect(failure.message).not.toContain('hunter2');
  });

  it('checks credentials before anything else, so a bad kind never leaks a password', () => {
    const failure = refusal({ kind: 'ftp', password: 'hunter2' });
    expect(failure.message).toContain('"source.password" is refused');
  });

  it('property: whatever junk an input holds, it is accepted as valid or refused naming a source field', () => {
    const junk = fc.oneof(fc.string({ maxLength: 300 }), fc.integer(), fc.constant(null), fc.boolean(), fc.array(fc.string(), { maxLength: 3 }), fc.object({ maxDepth: 1 }));
    const field = fc.constantFrom('kind', 'connection', 'bucket', 'prefix', 'glob', 'format', 'query', 'idColumn', 'password', 'extra');
    fc.assert(
      fc.property(fc.constantFrom<Record<string, unknown>>(objects, postgres), fc.dictionary(field, junk, { maxKeys: 3 }), (base, changes) => {
        const input = { ...base, ...changes };
        try {
          const source = validateSource('nightly', input);
          expect(['objects', 'postgres']).toContain(source.kind);
        } catch (err) {
          expect(err).toBeInstanceOf(ApplicationFailure);
          expect((err as Error).message).toMatch(/^nightly input: "source(\.[^"]+)?" /);
          expect((err as Error).message.length).toBeLessThan(500);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('globMatches', () => {
  it.each([
    ['*.csv', 'part-0001.csv', true],
    ['*.csv', 'part-0001.csv.gz', false],
    ['*.csv', 'day/part.csv', false],
    ['part-????.csv', 'part-0001.csv', true],
    ['part-????.csv', 'part-001.csv', false],
    ['*', '', true],
    ['*', 'a/b', false],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'axxbyyc', true],
    ['a*b*c', 'axxbyy', false],
    ['(.+)', '(.+)', true],
    ['(.+)', 'anything', false],
    ['a.c', 'abc', false],
    ['$^[x]|\\', '$^[x]|\\', true],
    ['?', 'é', true],
    ['?', '😀', true],
  ])('%s against %s is %s', (glob, name, expected) => {
    expect(globMatches(glob, name)).toBe(expected);
  });

  it('is fast on patterns that make a regex backtrack for ever', () => {
    const started = Date.now();
    expect(globMatches('*a*a*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(1000))).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('property: agrees with a reference built on a regular expression', () => {
    const alphabet = fc.constantFrom('a', 'b', '.', '/', '*', '?', '(', '+');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 8 }), fc.array(fc.constantFrom('a', 'b', '.', '/', '(', '+'), { maxLength: 10 }), (globChars, nameChars) => {
        const glob = globChars.join('');
        const name = nameChars.join('');
        const reference = new RegExp(`^${globChars.map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))).join('')}$`, 'u');
        expect(globMatches(glob, name)).toBe(reference.test(name));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('queryParameters', () => {
  it('numbers $start, $end and $date in order of first use, the same name the same number', () => {
    expect(queryParameters('select * from t where ts >= $start and ts < $end and day = $date and ts <> $start')).toEqual({
      text: 'select * from t where ts >= $1 and ts < $2 and day = $3 and ts <> $1',
      names: ['start', 'end', 'date'],
    });
    expect(queryParameters('select * from t where day = $date::date')).toEqual({ text: 'select * from t where day = $1::date', names: ['date'] });
    expect(queryParameters('select 1')).toEqual({ text: 'select 1', names: [] });
  });

  it('keeps a hostile string literal literal, and a $start inside it is not a placeholder', () => {
    const query = "select * from orders where note = '; drop table orders; -- $start' and ts >= $end";
    expect(queryParameters(query)).toEqual({ text: "select * from orders where note = '; drop table orders; -- $start' and ts >= $1", names: ['end'] });
  });

  it("skips '' escapes, E'' backslash escapes, quoted identifiers, comments and dollar quotes", () => {
    const query = [
      "select 'it''s $start', E'\\' $end', \"col $date\", \"a\"\"$x\"",
      '-- $nope in a comment',
      '/* outer /* nested $nope */ still $nope */',
      '$$ $nope $$, $tag$ $nope $$ $tag$, name$start',
      'from t where ts >= $start',
    ].join('\n');
    const { text, names } = queryParameters(query);
    expect(names).toEqual(['start']);
    expect(text).toBe(query.replace(/\$start$/, '$1'));
  });

  it.each([
    ['select $day', 'unknown placeholder $day; the allowed ones are $start, $end, $date'],
    ['select $started', 'unknown placeholder $started'],
    ['select $1', 'positional placeholder $1 is not allowed'],
    ['select * from t where a = $2 and b = $start', 'positional placeholder $2'],
    ["select 'open", 'is never closed'],
    ['select "open', 'the quoted identifier opened at character 8 is never closed'],
  ])('refuses %s', (query, message) => {
    expect(() => queryParameters(query)).toThrow(message);
  });

  it('property: the rewritten text differs only where placeholders were, and every $n has a name', () => {
    const piece = fc.constantFrom('select ', 'x', ' ', ',', '$start', '$end', '$date', "'lit $start '' x'", '"id $end"', '-- c $date\n', '/* $x */', '$q$ $start $q$', '::date', ';');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 20 }), (pieces) => {
        // Spaces between pieces: 'a''b' or x$start run together are other SQL (an escape, an identifier).
        const query = pieces.join(' ');
        const { text, names } = queryParameters(query);
        const expected = pieces.map((p) => (['$start', '$end', '$date'].includes(p) ? `$${names.indexOf(p.slice(1) as never) + 1}` : p)).join(' ');
        expect(text).toBe(expected);
        expect(new Set(names).size).toBe(names.length);
        const numbers = [...text.matchAll(/(?<![A-Za-z0-9_$])\$(\d+)/g)].map((m) => Number(m[1]));
        expect(numbers.every((n) => n >= 1 && n <= names.length)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('canonicalSource', () => {
  it('is the same JSON whatever order the fields came in, with keys sorted', () => {
    const a = validateSource('w', { kind: 'objects', bucket: 'b-1', prefix: 'p/', format: 'csv', glob: '*.csv' });
    const b = validateSource('w', { glob: '*.csv', format: 'csv', prefix: 'p/', bucket: 'b-1', kind: 'objects' });
    expect(canonicalSource(a)).toBe(canonicalSource(b));
    expect(canonicalSource(a)).toBe('{"bucket":"b-1","connection":"platform","format":"csv","glob":"*.csv","kind":"objects","prefix":"p/"}');
  });

  it('differs when any field differs, and leaves out fields that are undefined', () => {
    const base: SourceSpec = { kind: 'postgres', connection: 'warehouse', query: 'select 1' };
    expect(canonicalSource({ ...base, idColumn: undefined })).toBe(canonicalSource(base));
    expect(canonicalSource({ ...base, query: 'select 2' })).not.toBe(canonicalSource(base));
    expect(canonicalSource({ ...base, idColumn: 'id' })).not.toBe(canonicalSource(base));
  });
});
