import { parquetWriteBuffer } from 'hyparquet-writer';
import { categoryCode } from '../../../src/data/cellValues';
import { readCsv } from '../../../src/data/csv';
import { datasetFormat } from '../../../src/data/formats';
import { cellTypesOf, DatasetProfiler, MAX_TRACKED_DISTINCT } from '../../../src/data/profile';
import { inferColumnType, MAX_CATEGORIES, SAMPLE_ROWS, STRAY_SHARE, schemaReadOptions, sniffSchema, SNIFF_OPTIONS, type ColumnType } from '../../../src/data/schemaInference';
import type { DatasetTable } from '../../../src/data/table';

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

/** Registration's two steps over a file in memory: sniff the types, then profile the whole file read with them. */
async function register(bytes: Buffer, format = 'csv') {
  const reader = datasetFormat(format);
  const schema = await sniffSchema(reader.batches(once(bytes), { ...SNIFF_OPTIONS, batchBytes: 64 * 1024 }));
  const profiler = new DatasetProfiler(schema);
  for await (const batch of reader.batches(once(bytes), schemaReadOptions(schema))) profiler.add(batch);
  return { schema, profile: profiler.result() };
}

function counts(texts: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of texts) m.set(t, (m.get(t) ?? 0) + 1);
  return m;
}

describe('schema inference: each column\'s type from its sampled texts', () => {
  it.each<[string, string[], ColumnType]>([
    ['whole numbers', ['1', '-20', '3e2'], 'integer'],
    ['decimals', ['1', '2.5'], 'number'],
    ['booleans', ['true', 'False', 'TRUE'], 'boolean'],
    ['numbers and booleans (a numeric column holding flags)', ['0', 'true', '1'], 'integer'],
    ['ISO dates and date-times', ['2026-03-01', '2026-03-01T10:00:00+02:00', '2026-03-01 10:00'], 'timestamp'],
    ['few distinct texts', Array.from({ length: 100 }, (_, i) => ['DE', 'FR', 'US'][i % 3]), 'category'],
    ['texts all different (free text)', Array.from({ length: 100 }, (_, i) => `note ${i}`), 'text'],
    ['numerals Nomaly refuses (Infinity, NaN, hexadecimal) are bad numbers, not categories', ['Infinity', 'NaN', '0X1F', '0b101'], 'number'],
    ['numbers with a stray text: a number column (the stray cell is then refused)', ['1', '2', 'abc', '0x10'], 'number'],
    ['no value at all (all null)', [], 'number'],
    ['codes mixing digits and letters (postcodes): a category, not a number with strays', ['10115', 'SW1A', '75001', 'EC1A', 'W1D'], 'category'],
  ])('%s', (_, texts, type) => {
    expect(inferColumnType(counts(texts))).toBe(type);
  });

  it(`numbers with strays up to ${STRAY_SHARE * 100}% of the sampled values stay a number column; beyond, strings`, () => {
    const texts = new Map<string, number>(Array.from({ length: 1000 }, (_, i) => [String(i), 1] as const));
    texts.set('unknown', 10);
    expect(inferColumnType(texts)).toBe('number');
    texts.set('unknown', 20);
    expect(inferColumnType(texts)).toBe('text');
  });

  it(`more than ${MAX_CATEGORIES} distinct values is text however many rows`, () => {
    const texts = new Map(Array.from({ length: MAX_CATEGORIES + 1 }, (_, i) => [`c${i}`, 1000] as const));
    expect(inferColumnType(texts)).toBe('text');
    texts.delete('c0');
    expect(inferColumnType(texts)).toBe('category');
  });

  it('an orders CSV: every type, nulls, a free-text note excluded with a note, categories with cardinality and top values', async () => {
    const lines = ['id,country,amount,qty,is_gift,created_at,note,label'];
    for (let i = 0; i < 400; i++) {
      const country = i % 20 === 7 ? '' : ['DE', 'FR', 'US', 'DE'][i % 4];
      const amount = i % 20 === 3 ? 'NA' : (i * 1.25).toFixed(2);
      const created = i % 20 === 5 ? '' : `2026-03-${String(1 + (i % 28)).padStart(2, '0')}T${String(i % 24).padStart(2, '0')}:00:00Z`;
      lines.push(`o${i},${country},${amount},${i % 5},${i % 2 === 0 ? 'true' : 'false'},${created},"free text, number ${i}",${i % 50 === 0 ? 1 : 0}`);
    }
    const { schema, profile } = await register(Buffer.from(lines.join('\n')));
    expect(schema).toEqual({ country: 'category', amount: 'number', qty: 'integer', is_gift: 'boolean', created_at: 'timestamp', note: 'text' });
    expect(profile.featureColumns).toEqual(['country', 'amount', 'qty', 'is_gift', 'created_at']);
    expect(profile.cellTypes).toEqual({ country: 'category', created_at: 'timestamp' });
    const byName = Object.fromEntries(profile.columns.map((c) => [c.name, c]));
    expect(byName.country).toMatchObject({ role: 'feature', type: 'category', nullCount: 20, cardinality: 3, topValues: [{ value: 'DE', count: 180 }, { value: 'FR', count: 100 }, { value: 'US', count: 100 }] });
    expect(byName.note).toMatchObject({ role: 'excluded', type: 'text', nullCount: 0, cardinality: 400 });
    expect(byName.note.note).toMatch(/free text/);
    expect(byName.created_at).toMatchObject({ type: 'timestamp', nullCount: 20, minTime: '2026-03-01T00:00:00.000Z', maxTime: '2026-03-28T23:00:00.000Z', mean: null });
    expect(byName.amount).toMatchObject({ type: 'number', nullCount: 20 });
    expect(byName.is_gift).toMatchObject({ type: 'boolean', min: 0, max: 1, mean: 0.5 });
    expect(byName.id).toMatchObject({ role: 'id', type: 'text' });
    expect(byName.label).toMatchObject({ role: 'label', positives: 8 });
  });

  it('columns named like Object.prototype members (__proto__, constructor) are typed and read like any other', async () => {
    const { schema, profile } = await register(Buffer.from('__proto__,constructor,x\nFR,a,1\nDE,b,2\nFR,a,3\n'));
    expect(Object.keys(schema)).toEqual(['__proto__', 'constructor', 'x']);
    expect(Object.keys(profile.cellTypes)).toEqual(['__proto__', 'constructor']);
    expect(Object.keys(cellTypesOf(profile.columns))).toEqual(['__proto__', 'constructor']);
    expect(JSON.parse(JSON.stringify(profile.cellTypes))).toEqual(profile.cellTypes);
  });

  it('JSON lines and Parquet of the same data infer the same types', async () => {
    const rows = Array.from({ length: 60 }, (_, i) => ({ c: ['a', 'b'][i % 2], n: i, t: `2026-01-0${1 + (i % 9)}`, f: i % 3 === 0 }));
    const jsonl = await register(Buffer.from(rows.map((r) => JSON.stringify(r)).join('\n')), 'jsonl');
    const parquet = await register(
      Buffer.from(
        parquetWriteBuffer({
          columnData: [
            { name: 'c', data: rows.map((r) => r.c), type: 'STRING' },
            { name: 'n', data: rows.map((r) => r.n), type: 'INT32' },
            { name: 't', data: rows.map((r) => new Date(`${r.t}T00:00:00Z`)), type: 'TIMESTAMP' },
            { name: 'f', data: rows.map((r) => r.f), type: 'BOOLEAN' },
          ],
        }),
      ),
      'parquet',
    );
    const want = { c: 'category', n: 'integer', t: 'timestamp', f: 'boolean' };
    expect(jsonl.schema).toEqual(want);
    expect(parquet.schema).toEqual(want);
    expect(parquet.profile.columns.find((c) => c.name === 'c')!.topValues).toEqual(jsonl.profile.columns.find((c) => c.name === 'c')!.topValues);
  });

  it('a stray text among numbers in the sample is refused naming its line and column, as before types were inferred', async () => {
    await expect(register(Buffer.from('a,b\n1,2\n3,abc\n'))).rejects.toThrow('line 3, column "b": "abc" is not a number');
  });

  it('an all-null column is a number with a note; it stays one', async () => {
    const { profile } = await register(Buffer.from('a,b\n1,\n2,NA\n3,\n'));
    expect(profile.columns[1]).toMatchObject({ name: 'b', type: 'number', nullCount: 3, min: null, note: 'every value is missing' });
  });

  it(`a column numeric in the first ${SAMPLE_ROWS} rows and text later is refused naming its line and column`, async () => {
    const body = Array.from({ length: SAMPLE_ROWS + 500 }, (_, i) => `${i},${i === SAMPLE_ROWS + 200 ? 'oops' : i * 2}`);
    await expect(register(Buffer.from(`a,b\n${body.join('\n')}\n`))).rejects.toThrow(`line ${SAMPLE_ROWS + 202}, column "b": "oops" is not a number`);
  });

  it('a timestamp column with a non-timestamp later is refused naming its line and column', async () => {
    const body = Array.from({ length: SAMPLE_ROWS + 10 }, (_, i) => `${i},${i === SAMPLE_ROWS + 5 ? 'tomorrow' : '2026-01-01'}`);
    await expect(register(Buffer.from(`a,t\n${body.join('\n')}\n`))).rejects.toThrow(`line ${SAMPLE_ROWS + 7}, column "t": "tomorrow" is not a timestamp`);
  });

  it('a fraction after the sample makes an integer column a number; a 2 a boolean column an integer', async () => {
    const body = Array.from({ length: SAMPLE_ROWS + 10 }, (_, i) => `${i === SAMPLE_ROWS + 1 ? '1.5' : i},${i === SAMPLE_ROWS + 1 ? '2' : 'true'}`);
    const { schema, profile } = await register(Buffer.from(`a,b\n${body.join('\n')}\n`));
    expect(schema).toEqual({ a: 'integer', b: 'boolean' });
    expect(profile.columns.map((c) => c.type)).toEqual(['number', 'integer']);
  });

  it(`distinct counting stops at ${MAX_TRACKED_DISTINCT} and says "at least"`, () => {
    const n = MAX_TRACKED_DISTINCT + 5;
    const data = new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = categoryCode(`v${i}`);
    const table = readCsv('c\nx\n', { cellTypes: { c: 'category' } });
    const big: DatasetTable = { ...table, features: new (table.features.constructor as new (r: number, c: number, d: Float64Array) => typeof table.features)(n, 1, data), totalRows: n };
    const profiler = new DatasetProfiler({ c: 'text' });
    profiler.add(big);
    expect(profiler.result().columns[0]).toMatchObject({ cardinality: MAX_TRACKED_DISTINCT, cardinalityAtLeast: true, role: 'excluded' });
  });

  it('a profile stored before types (every feature a number) has no cell types', () => {
    expect(cellTypesOf([{ name: 'a', role: 'feature', type: 'number' }, { name: 'id', role: 'id', type: 'text' }])).toEqual({});
  });
});
