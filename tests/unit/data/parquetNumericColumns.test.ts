import { gzipSync } from 'node:zlib';
import { parquetMetadata } from 'hyparquet';
import type { AsyncBuffer, FileMetaData } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { ColumnSource } from 'hyparquet-writer';
import { DatasetFormatError } from '../../../src/data/datasetError';
import { compressors, readParquet, readParquetColumns } from '../../../src/data/parquet';
import { decodeColumnChunk, readNumericColumns } from '../../../src/data/parquetNumericColumns';
import { ENCODING_RLE, PAGE_DATA, readPageHeader } from '../../../src/data/parquetPageHeader';
import { TableBuilder } from '../../../src/data/tableBuilder';
import { withDataPageV1 } from './parquetV1Pages';

const ROWS = 3000;
const GROUP_ROWS = 1000;
/** Small pages: several per column chunk. */
const PAGE_BYTES = 2000;

/** A deterministic generator, so a failure names the same values every run. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

type Physical = 'DOUBLE' | 'FLOAT' | 'INT32' | 'INT64';
type Nulls = 'required' | 'optional' | 'nulls';
type Encoding = 'PLAIN' | 'RLE_DICTIONARY';

/** Every value kind a type holds at its edges: NaN, ±Infinity and -0 for floats, the extremes and beyond 2^53 for integers. */
function valueOf(type: Physical, r: () => number, distinct: boolean): number | bigint {
  const x = distinct ? r() : Math.floor(r() * 7) / 7;
  if (type === 'DOUBLE') {
    const edges = [NaN, Infinity, -Infinity, -0, 5e-324, Number.MAX_VALUE];
    return distinct && x < 0.01 ? edges[Math.floor(x * 600)] : (x - 0.5) * 1e6;
  }
  if (type === 'FLOAT') return Math.fround((x - 0.5) * 1e4);
  if (type === 'INT32') return distinct && x < 0.02 ? [-(2 ** 31), 2 ** 31 - 1][Math.floor(x * 100)] : Math.floor((x - 0.5) * 2 ** 31);
  const edges = [-(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n, -(2n ** 53n) - 3n];
  return distinct && x < 0.04 ? edges[Math.floor(x * 100)] : BigInt(Math.floor((x - 0.5) * 2 ** 40)) * 4099n;
}

function column(type: Physical, nulls: Nulls, encoding: Encoding, seed: number): ColumnSource {
  const r = random(seed);
  const data: Array<number | bigint | null> = [];
  for (let i = 0; i < ROWS; i++) {
    // Nulls in runs and alone (both run kinds of the definition levels), none in the first rows.
    const isNull = nulls === 'nulls' && i > 10 && (r() < 0.1 || (i % 500 >= 100 && i % 500 < 140));
    data.push(isNull ? null : valueOf(type, r, encoding === 'PLAIN'));
  }
  const name = `${type}_${nulls}_${encoding}`;
  return { name, data: data as ColumnSource['data'], type, nullable: nulls !== 'required', encoding };
}

const TYPES: Physical[] = ['DOUBLE', 'FLOAT', 'INT32', 'INT64'];
const NULLS: Nulls[] = ['required', 'optional', 'nulls'];
const ENCODINGS: Encoding[] = ['PLAIN', 'RLE_DICTIONARY'];
const COLUMNS = TYPES.flatMap((t, ti) => NULLS.flatMap((n, ni) => ENCODINGS.map((e, ei) => column(t, n, e, 100 * ti + 10 * ni + ei + 1))));
const NAMES = COLUMNS.map((c) => c.name);

function fileOf(bytes: Uint8Array): { file: AsyncBuffer; metadata: FileMetaData } {
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const file: AsyncBuffer = { byteLength: ab.byteLength, slice: (start, end) => ab.slice(start, end) };
  return { file, metadata: parquetMetadata(ab) };
}

function written(codec: 'UNCOMPRESSED' | 'SNAPPY' | 'GZIP', columnData = COLUMNS): Uint8Array {
  return new Uint8Array(parquetWriteBuffer({
    columnData,
    codec,
    compressors: { GZIP: (input: Uint8Array) => new Uint8Array(gzipSync(input)) },
    rowGroupSize: GROUP_ROWS,
    pageSize: PAGE_BYTES,
  }));
}

/** The old reader's values as the table builder reads them (a bigint as Number(bigint)), beside the fast path's, bit for bit. */
function expectSameNumbers(name: string, old: ArrayLike<unknown>, fast: ArrayLike<unknown>): void {
  expect(fast.length).toBe(old.length);
  const wrong: string[] = [];
  for (let i = 0; i < old.length && wrong.length < 5; i++) {
    const o = typeof old[i] === 'bigint' ? Number(old[i]) : old[i];
    if (!Object.is(o, fast[i])) wrong.push(`${name}[${i}]: ${String(old[i])} vs ${String(fast[i])}`);
  }
  expect(wrong).toEqual([]);
}

const RANGES: Array<[number, number]> = [
  [0, ROWS],
  [0, GROUP_ROWS],
  [GROUP_ROWS, 2 * GROUP_ROWS],
  [1, ROWS - 1],
  [GROUP_ROWS - 1, GROUP_ROWS + 1],
  [1500, 1600],
  [ROWS - 1, ROWS],
];

/** Over every range: the fast path decodes every column (declines none), each value what hyparquet's gives. */
async function expectFastMatchesOld(file: AsyncBuffer, metadata: FileMetaData): Promise<void> {
  for (const [start, end] of RANGES) {
    const old = await readParquetColumns(file, metadata, NAMES, start, end);
    const fast = await readNumericColumns(file, metadata, NAMES, start, end, compressors);
    expect(Object.fromEntries(fast.declined)).toEqual({});
    for (const name of NAMES) {
      const values = fast.values.get(name)!;
      // Typed when the rows hold no null, numbers and nulls otherwise.
      expect(values instanceof Float64Array).toBe(!Array.from(old.get(name)!).includes(null));
      expectSameNumbers(`${name} rows ${start}-${end}`, old.get(name)!, values);
    }
    // And through readParquetColumns, the caller's entry point.
    const viaCaller = await readParquetColumns(file, metadata, NAMES, start, end, new Set(NAMES));
    for (const name of NAMES) expect(viaCaller.get(name)).toEqual(fast.values.get(name));
  }
}

describe('the numeric fast path reads what hyparquet reads, bit for bit', () => {
  it.each(['UNCOMPRESSED', 'SNAPPY', 'GZIP'] as const)('%s: every type, REQUIRED and OPTIONAL, nulls, plain and dictionary, any row range', async (codec) => {
    const { file, metadata } = fileOf(written(codec));
    // The file has what the test claims: several row groups, several pages, both encodings, this codec.
    expect(metadata.row_groups.length).toBe(ROWS / GROUP_ROWS);
    const chunks = metadata.row_groups[0].columns.map((c) => c.meta_data!);
    expect(new Set(chunks.map((m) => m.codec))).toEqual(new Set([codec]));
    expect(chunks.filter((m) => m.encodings.includes('RLE_DICTIONARY')).length).toBe(NAMES.length / 2);
    expect(chunks.some((m) => m.total_uncompressed_size > 2n * BigInt(PAGE_BYTES))).toBe(true);

    await expectFastMatchesOld(file, metadata);
  });

  it.each(['UNCOMPRESSED', 'SNAPPY', 'GZIP'] as const)('%s with version 1 data pages (levels inside the compressed page)', async (codec) => {
    const { file, metadata } = fileOf(withDataPageV1(written('GZIP'), codec));
    const meta = metadata.row_groups[1].columns[0].meta_data!;
    expect(meta.codec).toBe(codec);
    const at = Number(meta.data_page_offset);
    const first = readPageHeader(new Uint8Array(await file.slice(at, at + 100)), 0).header;
    expect(first.type).toBe(PAGE_DATA);
    expect(first.definitionLevelEncoding).toBe(ENCODING_RLE);
    await expectFastMatchesOld(file, metadata);
  });

  it('reads a table with the same numbers as the old columns through the same builder, and the same missing values for null feature cells', async () => {
    // Features: the columns with only finite numbers (NaN and ±Infinity are refused, as the next tests show).
    const features = COLUMNS.filter((c) => Array.from(c.data as ArrayLike<unknown>).every((v) => typeof v === 'bigint' || Number.isFinite(v)));
    expect(features.length).toBe(NAMES.length - 8 - 2); // less the 8 with nulls, and DOUBLE's 2 plain ones without (they hold the edges)
    const header = ['id', ...features.map((c) => c.name)];
    const bytes = written('SNAPPY', [{ name: 'id', data: Array.from({ length: ROWS }, (_, i) => `r${i}`), type: 'STRING' }, ...features]);
    const { file, metadata } = fileOf(bytes);
    const expected = new TableBuilder(header, { idColumn: 'id' }, ROWS);
    expected.addColumns(await readParquetColumns(file, metadata, header, 0, ROWS), ROWS, (i) => `row ${i + 1}`);
    const want = expected.build();
    const table = await readParquet(Buffer.from(bytes), { idColumn: 'id' });
    expect(table.featureColumns).toEqual(header.slice(1));
    expect(table.features.data).toEqual(want.features.data);
    expect(table.ids).toEqual(want.ids);

    // A null feature cell is a missing value: NaN in the table, by either path alike.
    const nulls = written('SNAPPY', [column('INT32', 'nulls', 'PLAIN', 9)]);
    const { file: f2, metadata: m2 } = fileOf(nulls);
    const old = new TableBuilder(['INT32_nulls_PLAIN'], {}, ROWS);
    old.addColumns(await readParquetColumns(f2, m2, ['INT32_nulls_PLAIN'], 0, ROWS), ROWS, (i) => `row ${i + 1}`);
    const viaOld = old.build().features.data;
    const viaFast = (await readParquet(Buffer.from(nulls))).features.data;
    expect(viaOld.some((v) => Number.isNaN(v))).toBe(true);
    expect(Array.from(viaFast, (v) => (Number.isNaN(v) ? 'missing' : v))).toEqual(Array.from(viaOld, (v) => (Number.isNaN(v) ? 'missing' : v)));
  });

  it('refuses a non-finite feature as before', async () => {
    const bytes = written('SNAPPY', [{ name: 'x', data: [1, Infinity, 3], type: 'DOUBLE', nullable: false }]);
    await expect(readParquet(Buffer.from(bytes))).rejects.toThrow('row 2, column "x": Infinity is not a finite number');
  });

  it('a label column read by the fast path checks 0/1 as before', async () => {
    const bytes = written('SNAPPY', [
      { name: 'x', data: [1.5, 2.5, 3.5], type: 'DOUBLE' },
      { name: 'label', data: [0, 1, 2], type: 'DOUBLE' },
    ]);
    await expect(readParquet(Buffer.from(bytes), { labelColumn: 'label' })).rejects.toThrow('row 3, column "label": label must be 0 or 1, found 2');
    const ok = await readParquet(Buffer.from(bytes), { labelColumn: 'label', rowEnd: 2 });
    expect([...ok.labels!]).toEqual([0, 1]);
    expect([...ok.features.data]).toEqual([1.5, 2.5]);
  });
});

describe('what the fast path does not decode goes to hyparquet, unchanged', () => {
  const others: ColumnSource[] = [
    { name: 'split', data: Float64Array.from({ length: ROWS }, (_, i) => i / 3), type: 'DOUBLE', encoding: 'BYTE_STREAM_SPLIT' },
    { name: 'delta', data: Int32Array.from({ length: ROWS }, (_, i) => i * 7 - 5), type: 'INT32', encoding: 'DELTA_BINARY_PACKED' },
    { name: 'stamp', data: Array.from({ length: ROWS }, (_, i) => new Date(i * 1000)), type: 'TIMESTAMP' },
    { name: 'flag', data: Array.from({ length: ROWS }, (_, i) => i % 2 === 0), type: 'BOOLEAN' },
    { name: 'text', data: Array.from({ length: ROWS }, (_, i) => `t${i}`), type: 'STRING' },
    COLUMNS[0],
  ];

  it('declines each with its reason and reads it as hyparquet does', async () => {
    const { file, metadata } = fileOf(written('SNAPPY', others));
    const names = others.map((c) => c.name);
    const fast = await readNumericColumns(file, metadata, names, 500, 2500, compressors);
    expect([...fast.values.keys()]).toEqual([COLUMNS[0].name]);
    expect(Object.fromEntries(fast.declined)).toEqual({
      split: 'encoding BYTE_STREAM_SPLIT',
      delta: 'encoding DELTA_BINARY_PACKED',
      stamp: expect.stringMatching(/type TIMESTAMP/),
      flag: 'physical type BOOLEAN',
      text: 'physical type BYTE_ARRAY',
    });
    const old = await readParquetColumns(file, metadata, names, 500, 2500);
    const mixed = await readParquetColumns(file, metadata, names, 500, 2500, new Set(names));
    for (const name of names) {
      if (name === COLUMNS[0].name) expectSameNumbers(name, old.get(name)!, mixed.get(name)!);
      else expect(mixed.get(name)).toEqual(old.get(name));
    }
  });

  it('signed integer annotations are decoded, unsigned ones (hyparquet reinterprets them) declined', async () => {
    const values = [-3, 0, 7, -(2 ** 15), 2 ** 15 - 1];
    const unsigned = values.map((v) => (v < 0 ? v + 2 ** 32 : v));
    const bytes = new Uint8Array(
      parquetWriteBuffer({
        columnData: [
          { name: 'small', data: Int32Array.from(values) },
          { name: 'wide', data: unsigned },
        ],
        schema: [
          { name: 'root', num_children: 2 },
          { name: 'small', type: 'INT32', converted_type: 'INT_16', logical_type: { type: 'INTEGER', bitWidth: 16, isSigned: true }, repetition_type: 'REQUIRED' },
          { name: 'wide', type: 'INT32', converted_type: 'UINT_32', logical_type: { type: 'INTEGER', bitWidth: 32, isSigned: false }, repetition_type: 'REQUIRED' },
        ],
      }),
    );
    const { file, metadata } = fileOf(bytes);
    const fast = await readNumericColumns(file, metadata, ['small', 'wide'], 0, values.length, compressors);
    expect(Array.from(fast.values.get('small')!)).toEqual(values);
    expect(fast.declined.get('wide')).toBe('converted type UINT_32');
    const mixed = await readParquetColumns(file, metadata, ['small', 'wide'], 0, values.length, new Set(['small', 'wide']));
    expect(Array.from(mixed.get('wide')!)).toEqual(unsigned);
  });

  it('a DECIMAL stored as INT64 is declined: hyparquet scales it', async () => {
    const bytes = new Uint8Array(
      parquetWriteBuffer({
        columnData: [{ name: 'price', data: Array.from({ length: 50 }, (_, i) => i * 1.25 - 7) }],
        schema: [
          { name: 'root', num_children: 1 },
          { name: 'price', type: 'INT64', converted_type: 'DECIMAL', scale: 2, precision: 18, repetition_type: 'REQUIRED' },
        ],
      }),
    );
    const { file, metadata } = fileOf(bytes);
    const fast = await readNumericColumns(file, metadata, ['price'], 0, 50, compressors);
    expect(fast.declined.get('price')).toBe('converted type DECIMAL');
    const mixed = await readParquetColumns(file, metadata, ['price'], 0, 50, new Set(['price']));
    expect(Array.from(mixed.get('price')!)).toEqual(Array.from({ length: 50 }, (_, i) => i * 1.25 - 7));
  });
});

describe('malformed column chunks', () => {
  const bytes = written('UNCOMPRESSED', [column('DOUBLE', 'required', 'PLAIN', 3), column('INT64', 'optional', 'RLE_DICTIONARY', 4)]);

  /** The file with `edit` applied to a copy of column `c`'s chunk in the first row group. */
  function edited(c: number, edit: (chunk: Uint8Array) => void): { file: AsyncBuffer; metadata: FileMetaData } {
    const copy = Uint8Array.from(bytes);
    const meta = parquetMetadata(copy.buffer as ArrayBuffer).row_groups[0].columns[c].meta_data!;
    const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
    edit(copy.subarray(start, start + Number(meta.total_compressed_size)));
    return fileOf(copy);
  }

  it('a page header with a wrong size: the fast path declines the column, the read fails with a DatasetFormatError', async () => {
    // The first page header's compressed size (field 3) made huge: 0x35 = delta 1, i32; then a 4-byte varint.
    const { file, metadata } = edited(0, (chunk) => {
      expect(chunk[0]).toBe(0x15); // field 1 (type), i32
      let at = 2;
      expect(chunk[at]).toBe(0x15); // field 2 (uncompressed size)
      at++;
      while (chunk[at] & 0x80) at++;
      at++;
      expect(chunk[at]).toBe(0x15); // field 3 (compressed size)
      chunk[at + 1] |= 0x7e; // a bigger size (zigzag: still even, so positive), same varint length
    });
    const name = 'DOUBLE_required_PLAIN';
    const fast = await readNumericColumns(file, metadata, [name], 0, ROWS, compressors);
    expect(fast.declined.get(name)).toMatch(/column "DOUBLE_required_PLAIN": a page decompressed to \d+ bytes, its header says \d+/);
    await expect(readParquetColumns(file, metadata, [name], 0, ROWS, new Set([name]))).rejects.toThrow(DatasetFormatError);
    await expect(readParquetColumns(file, metadata, [name], 0, ROWS, new Set([name]))).rejects.toThrow(/unreadable Parquet data in rows 1-3000/);
  });

  it('a chunk cut short: the decoder says so; the read gives what the old one gave', async () => {
    const name = 'INT64_optional_RLE_DICTIONARY';
    const { file, metadata } = edited(1, (chunk) => chunk.fill(0xff, chunk.length - 40));
    const fast = await readNumericColumns(file, metadata, [name], 0, ROWS, compressors);
    expect(fast.values.has(name)).toBe(false);
    expect(fast.declined.get(name)).toBeTruthy();
    const outcome = (asNumbers: Set<string>) =>
      readParquetColumns(file, metadata, [name], 0, ROWS, asNumbers).then(
        (v) => ({ values: v.get(name) }),
        (err: Error) => ({ error: `${err.name}: ${err.message}` }),
      );
    expect(await outcome(new Set([name]))).toEqual(await outcome(new Set()));
  });

  it('the page decoder throws a DatasetFormatError naming the column for a truncated chunk', async () => {
    const meta = parquetMetadata(Uint8Array.from(bytes).buffer as ArrayBuffer).row_groups[0].columns[0].meta_data!;
    const start = Number(meta.data_page_offset);
    const chunk = bytes.subarray(start, start + Number(meta.total_compressed_size) - 100);
    const out = new Float64Array(GROUP_ROWS);
    const spec = { name: 'DOUBLE_required_PLAIN', type: 'DOUBLE' as const, optional: false };
    expect(() => decodeColumnChunk(chunk, { spec, codec: 'UNCOMPRESSED', compressors, groupRows: GROUP_ROWS }, 0, GROUP_ROWS, out, 0, { mask: undefined })).toThrow(DatasetFormatError);
    expect(() => decodeColumnChunk(chunk, { spec, codec: 'UNCOMPRESSED', compressors, groupRows: GROUP_ROWS }, 0, GROUP_ROWS, out, 0, { mask: undefined })).toThrow(/column "DOUBLE_required_PLAIN": a page of \d+ bytes runs past the end of its column chunk/);
  });
});
