import { parquetMetadata } from 'hyparquet';
import type { AsyncBuffer } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { categoryCode, timestampMillis, type FeatureCellType } from '../../../src/data/cellValues';
import { readCsv } from '../../../src/data/csv';
import { csvBatches } from '../../../src/data/csvStream';
import { readJsonLines } from '../../../src/data/jsonLines';
import { compressors, readParquet } from '../../../src/data/parquet';
import { readNumericColumns } from '../../../src/data/parquetNumericColumns';
import type { DatasetTable } from '../../../src/data/table';

/** One small orders table, the same data in every format: a category (with a quote, spaces, a number's text), a timestamp, a number, a boolean, nulls. */
const COUNTRIES = ['DE', ' FR ', null, 'D"E', '2139', 'DE'];
const CREATED = ['2026-03-01T10:00:00Z', '2026-03-01', null, '2026-03-02T00:00:00+02:00', '2026-03-02T23:59:59.123Z', '2026-03-03T12:00:00Z'];
const AMOUNTS = [10.5, null, 7, 2139, -1, 0];
const GIFTS = [true, false, true, false, null, true];
const CELL_TYPES: Record<string, FeatureCellType> = { country: 'category', created_at: 'timestamp' };
const ROWS = COUNTRIES.length;

function csvCell(v: string | number | boolean | null): string {
  if (v === null) return '';
  if (typeof v === 'string' && /[",]/.test(v)) return `"${v.replace(/"/g, '""')}"`;
  return String(v);
}

const CSV = `id,country,amount,is_gift,created_at\n${COUNTRIES.map((_, i) => [i + 1, COUNTRIES[i], AMOUNTS[i], GIFTS[i], CREATED[i]].map(csvCell).join(',')).join('\n')}\n`;
const JSONL = COUNTRIES.map((_, i) => JSON.stringify({ id: i + 1, country: COUNTRIES[i], amount: AMOUNTS[i], is_gift: GIFTS[i], created_at: CREATED[i] })).join('\n');

/** What every reader must give: the features row by row in the order country, amount, is_gift, created_at. */
function expected(): number[] {
  return COUNTRIES.flatMap((country, i) => [
    country === null ? NaN : categoryCode(country),
    AMOUNTS[i] ?? NaN,
    GIFTS[i] === null ? NaN : Number(GIFTS[i]),
    CREATED[i] === null ? NaN : timestampMillis(CREATED[i]!),
  ]);
}

function parquetFile(options: { dictionary: boolean; rowGroupSize?: number }): Buffer {
  return Buffer.from(
    parquetWriteBuffer({
      columnData: [
        { name: 'id', data: Int32Array.from(COUNTRIES, (_, i) => i + 1), type: 'INT32' },
        { name: 'country', data: COUNTRIES, type: 'STRING', nullable: true, encoding: options.dictionary ? 'RLE_DICTIONARY' : 'PLAIN' },
        { name: 'amount', data: AMOUNTS, type: 'DOUBLE', nullable: true },
        { name: 'is_gift', data: GIFTS, type: 'BOOLEAN', nullable: true },
        { name: 'created_at', data: CREATED.map((t) => (t === null ? null : new Date(timestampMillis(t)))), type: 'TIMESTAMP', nullable: true },
      ],
      rowGroupSize: options.rowGroupSize,
    }),
  );
}

function asyncBuffer(bytes: Buffer): AsyncBuffer {
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return { byteLength: ab.byteLength, slice: (s, e) => ab.slice(s, e) };
}

/** The text in pieces of `size` characters, as a stream brings it. */
async function* pieces(text: string, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < text.length; i += size) yield Buffer.from(text.slice(i, i + size));
}

function features(table: DatasetTable): number[] {
  return Array.from(table.features.data);
}

describe('readers with cell types: the same numbers from CSV, JSON lines and Parquet', () => {
  it('CSV: category codes hashed from the bytes (quoted, trimmed, a number\'s text), timestamps in UTC ms, missing cells NaN', () => {
    const table = readCsv(CSV, { cellTypes: CELL_TYPES });
    expect(table.featureColumns).toEqual(['country', 'amount', 'is_gift', 'created_at']);
    expect(features(table)).toEqual(expected());
    expect(table.categoryText).toBeUndefined();
  });

  it('JSON lines: a JSON number in a category column is the category of its text; the same codes and milliseconds as CSV', () => {
    const table = readJsonLines(JSONL, { cellTypes: CELL_TYPES });
    expect(features(table)).toEqual(expected());
    const numeric = readJsonLines('{"c": 2139}\n{"c": "2139"}', { cellTypes: { c: 'category' } });
    expect(Array.from(numeric.features.data)).toEqual([categoryCode('2139'), categoryCode('2139')]);
  });

  it.each([
    ['dictionary-encoded', true],
    ['plain', false],
  ])('Parquet (%s strings, TIMESTAMP millis): the page reader and hyparquet give the CSV numbers', async (_, dictionary) => {
    const bytes = parquetFile({ dictionary, rowGroupSize: 4 });
    const table = await readParquet(bytes, { cellTypes: CELL_TYPES });
    expect(features(table)).toEqual(expected());
    // The page reader decoded country and created_at itself (not declined to hyparquet).
    const fast = await readNumericColumns(asyncBuffer(bytes), parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer), ['country', 'created_at'], 0, ROWS, compressors, {
      cellTypes: new Map(Object.entries(CELL_TYPES)),
    });
    expect([...fast.declined.keys()]).toEqual([]);
  });

  it('Parquet DATE, TIMESTAMP micros and nanos, DECIMAL: milliseconds and numbers, nulls NaN, the page reader and hyparquet agree', async () => {
    const days = [20513, null, -1];
    const micros = [1_772_359_200_123_456n, null, -1_500n];
    const schema = [
      { name: 'root', num_children: 4 },
      { name: 'd', type: 'INT32', converted_type: 'DATE', repetition_type: 'OPTIONAL' },
      { name: 'us', type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' }, repetition_type: 'OPTIONAL' },
      { name: 'ns', type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'NANOS' }, repetition_type: 'OPTIONAL' },
      { name: 'price', type: 'INT64', converted_type: 'DECIMAL', precision: 12, scale: 2, repetition_type: 'OPTIONAL' },
    ] as const;
    const bytes = Buffer.from(
      parquetWriteBuffer({
        schema: schema as never,
        columnData: [
          { name: 'd', data: days },
          { name: 'us', data: micros },
          { name: 'ns', data: micros.map((v) => (v === null ? null : v * 1000n)) },
          { name: 'price', data: [12.34, null, -0.5] },
        ],
      }),
    );
    const table = await readParquet(bytes, { cellTypes: { d: 'timestamp', us: 'timestamp', ns: 'timestamp' } });
    expect(table.featureColumns).toEqual(['d', 'us', 'ns', 'price']);
    const ms = [1_772_359_200_123, NaN, -1];
    expect(features(table)).toEqual([20513 * 86_400_000, ms[0], ms[0], 12.34, NaN, NaN, NaN, NaN, -86_400_000, ms[2], ms[2], -0.5]);
  });

  it('a timestamp column refuses a cell that is not one, naming row (line) and column, in every format', async () => {
    expect(() => readCsv('a,t\n1,2026-01-01\n2,yesterday\n', { cellTypes: { t: 'timestamp' } })).toThrow('line 3, column "t": "yesterday" is not a timestamp');
    expect(() => readJsonLines('{"a":1,"t":"2026-01-01"}\n{"a":2,"t":20260101}', { cellTypes: { t: 'timestamp' } })).toThrow('line 2, column "t": 20260101 is not a timestamp');
    const bytes = Buffer.from(parquetWriteBuffer({ columnData: [{ name: 't', data: ['2026-01-01', 'soon'], type: 'STRING' }] }));
    await expect(readParquet(bytes, { cellTypes: { t: 'timestamp' } })).rejects.toThrow('row 2, column "t": "soon" is not a timestamp');
  });

  it('a category column takes any text; a number column still refuses text, as before', () => {
    expect(features(readCsv('a,c\n1,0x10\n2,true\n', { cellTypes: { c: 'category' } }))).toEqual([1, categoryCode('0x10'), 2, categoryCode('true')]);
    expect(() => readCsv('a,c\n1,0x10\n', {})).toThrow('line 2, column "c": "0x10" is not a decimal number');
  });

  it('withCategoryText: code → text once per distinct value, from every reader, in stream batches too', async () => {
    const want = new Map([['DE', 1], ['FR', 1], ['D"E', 1], ['2139', 1]].map(([t]) => [categoryCode(t as string), t as string]));
    expect(readCsv(CSV, { cellTypes: CELL_TYPES, withCategoryText: true }).categoryText).toEqual(want);
    expect(readJsonLines(JSONL, { cellTypes: CELL_TYPES, withCategoryText: true }).categoryText).toEqual(want);
    for (const dictionary of [true, false]) {
      expect((await readParquet(parquetFile({ dictionary }), { cellTypes: CELL_TYPES, withCategoryText: true })).categoryText).toEqual(want);
    }
    const batches: DatasetTable[] = [];
    for await (const b of csvBatches(pieces(CSV, 20), { cellTypes: CELL_TYPES, withCategoryText: true, batchBytes: 16 })) batches.push(b);
    expect(batches.length).toBeGreaterThan(1);
    expect(new Map(batches.flatMap((b) => [...b.categoryText!]))).toEqual(want);
    expect(batches.flatMap(features)).toEqual(expected());
  });

  it('cell types of columns that are not features are ignored; an unknown cell type is refused naming the column', () => {
    expect(features(readCsv('id,a\nx,1\n', { cellTypes: { id: 'category', other: 'timestamp' } }))).toEqual([1]);
    expect(() => readCsv('a\n1\n', { cellTypes: { a: 'date' as FeatureCellType } })).toThrow('cellTypes, column "a": "date" is not a cell type');
  });
});
