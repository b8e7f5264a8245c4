import { parquetWriteBuffer } from 'hyparquet-writer';
import { readCsv } from '../../../src/data/csv';
import { csvBatches } from '../../../src/data/csvStream';
import { jsonLinesBatches, readJsonLines } from '../../../src/data/jsonLines';
import { parquetBatches, readParquet } from '../../../src/data/parquet';
import { DatasetProfiler } from '../../../src/data/profile';
import { datasetBatches, formatFromFileName, readDataset } from '../../../src/data/readDataset';
import { isHeldOut, RowReservoir } from '../../../src/data/reservoir';

async function* chunked(text: string | Buffer, size: number): AsyncGenerator<Buffer> {
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text);
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function collect<T>(gen: AsyncGenerator<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of gen) out.push(x);
  return out;
}

const pq = (options: Parameters<typeof parquetWriteBuffer>[0]): Buffer => Buffer.from(parquetWriteBuffer(options));

const CSV = 'id,a,b,label\nr1,1,2,0\nr2,3,4,1\n"r,3",5,6,0\n';

describe('readDataset: one table shape for every format', () => {
  const expected = { header: ['id', 'a', 'b', 'label'], featureColumns: ['a', 'b'], labelColumn: 'label', idColumn: 'id', totalRows: 3 };

  it('reads CSV, JSON lines and Parquet into the same table', async () => {
    const jsonl = '{"id":"r1","a":1,"b":2,"label":0}\n{"id":"r2","a":3,"b":4,"label":1}\n\n{"id":"r,3","a":5,"b":"6","label":false}\n';
    const parquet = Buffer.from(
      parquetWriteBuffer({
        columnData: [
          { name: 'id', data: ['r1', 'r2', 'r,3'], type: 'STRING' },
          { name: 'a', data: [1, 3, 5], type: 'DOUBLE' },
          { name: 'b', data: [2n, 4n, 6n], type: 'INT64' },
          { name: 'label', data: [0, 1, 0], type: 'INT32' },
        ],
      }),
    );
    for (const [bytes, format] of [[Buffer.from(CSV), 'csv'], [Buffer.from(jsonl), 'jsonl'], [parquet, 'parquet']] as const) {
      const table = await readDataset(bytes, format);
      expect(table).toMatchObject(expected);
      expect([...table.features.data]).toEqual([1, 2, 3, 4, 5, 6]);
      expect([...table.labels!]).toEqual([0, 1, 0]);
      expect(table.ids).toEqual(['r1', 'r2', 'r,3']);
    }
  });

  it('knows formats by extension and names the unknown ones', () => {
    expect(formatFromFileName('x.CSV')).toBe('csv');
    expect(formatFromFileName('x.ndjson')).toBe('jsonl');
    expect(formatFromFileName('x.parquet')).toBe('parquet');
    expect(() => formatFromFileName('data.xlsx')).toThrow(/unknown file type "\.xlsx"; supported: \.csv/);
  });
});

describe('JSON lines errors', () => {
  it.each([
    ['', /empty file/],
    ['{"a":1}\n{"a":1,"b":2}\n', /line 2: expected 1 columns .*unexpected "b"/],
    ['{"a":1,"label":0}\n{"a":1}\n', /line 2: expected 2 columns .*missing "label"/],
    ['{"a":1,"a":2}\n', /duplicate column name "a"/],
    ['{"a":1}\n{"a":"x"}\n', /line 2, column "a": "x" is not a number/],
    ['{"a":1}\n{"a":""}\n', /line 2, column "a": the cell is an empty text/],
    ['{"a":1,"label":2}\n', /line 1, column "label": label must be 0 or 1, found 2/],
    ['{"a":1}\n[1]\n', /line 2: expected a JSON object/],
    ['{"a":1}\n{"a":\n', /line 2: not valid JSON/],
  ])('%j → %s', (text, error) => {
    expect(() => readJsonLines(text)).toThrow(error);
  });
});

describe('Parquet errors', () => {
  it('names a non-numeric feature cell by row and column', async () => {
    const bytes = pq({ columnData: [{ name: 'a', data: [1, 2], type: 'DOUBLE' }, { name: 'b', data: ['1', 'x'], type: 'STRING' }] });
    await expect(readParquet(bytes)).rejects.toThrow(/row 2, column "b": "x" is not a number/);
  });
  it('refuses a bad label and a file that is not Parquet', async () => {
    const label = pq({ columnData: [{ name: 'a', data: [1, 2], type: 'DOUBLE' }, { name: 'label', data: [0, 3], type: 'INT32' }] });
    await expect(readParquet(label)).rejects.toThrow(/row 2, column "label": label must be 0 or 1, found 3/);
    await expect(readParquet(Buffer.from('a,b\n1,2\n'))).rejects.toThrow(/not a Parquet file/);
    await expect(readParquet(Buffer.alloc(0))).rejects.toThrow(/empty file/);
  });
  it('reads row group by row group', async () => {
    const bytes = pq({ columnData: [{ name: 'a', data: Float64Array.from({ length: 10 }, (_, i) => i), type: 'DOUBLE' }], rowGroupSize: 4 });
    const batches = await collect(parquetBatches(bytes));
    expect(batches.map((b) => [b.firstRow, b.features.rows])).toEqual([[0, 4], [4, 4], [8, 2]]);
  });
});

describe('streaming CSV batches', () => {
  function bigCsv(rows: number): string {
    const lines = ['id,x,"y, quoted",label'];
    for (let i = 0; i < rows; i++) lines.push(`${i % 7 === 0 ? `"id\n${i}"` : `r${i}`},${i},${i * 0.5},${i % 2}`);
    return `${lines.join('\r\n')}\r\n`;
  }

  it('yields exactly the rows readCsv reads, whatever the chunk and batch sizes', async () => {
    const text = bigCsv(1000);
    const whole = readCsv(text);
    for (const [chunk, batchBytes] of [[1, 64], [7, 100], [4096, 1000], [1 << 20, 1 << 20]]) {
      const batches = await collect(csvBatches(chunked(text, chunk), { batchBytes }));
      const data = batches.flatMap((b) => [...b.features.data]);
      expect(data).toEqual([...whole.features.data]);
      expect(batches.flatMap((b) => b.ids)).toEqual(whole.ids);
      expect(batches[batches.length - 1].totalRows).toBe(1000);
      batches.forEach((b, i) => i > 0 && expect(b.firstRow).toBe(batches[i - 1].firstRow + batches[i - 1].features.rows));
    }
  });

  it('reports errors with the line number in the whole file', async () => {
    const text = `${bigCsv(500)}r,1,x,0\n`;
    // Line numbers count the quoted line feeds too, exactly as readCsv does.
    const expected = (() => {
      try {
        readCsv(text);
      } catch (err) {
        return (err as Error).message;
      }
      return '';
    })();
    expect(expected).toMatch(/column "y, quoted": "x" is not a number/);
    await expect(collect(csvBatches(chunked(text, 97), { batchBytes: 300 }))).rejects.toThrow(expected);
    await expect(collect(csvBatches(chunked('a,b\n1,2\n3\n', 2), { batchBytes: 2 }))).rejects.toThrow('line 3: expected 2 columns, found 1');
    await expect(collect(csvBatches(chunked('a,a\n1,2\n', 3)))).rejects.toThrow(/duplicate column name "a"/);
    await expect(collect(csvBatches(chunked('', 3)))).rejects.toThrow(/empty file/);
    await expect(collect(csvBatches(chunked('a,b\n', 3)))).rejects.toThrow(/header but no data rows/);
    await expect(collect(csvBatches(chunked('a,b\n1,2\n\n3,4\n', 1), { batchBytes: 9 }))).rejects.toThrow(/line 3: blank line between data rows/);
  });

  it('streams JSON lines in batches', async () => {
    const text = Array.from({ length: 25 }, (_, i) => JSON.stringify({ a: i, b: -i })).join('\n');
    const batches = await collect(jsonLinesBatches(chunked(text, 13), { batchRows: 10 }));
    expect(batches.map((b) => b.features.rows)).toEqual([10, 10, 5]);
    expect(batches[2].features.data[0]).toBe(20);
  });

  it('datasetBatches dispatches on the format', async () => {
    const rows = await collect(datasetBatches(chunked(CSV, 5), 'csv'));
    expect(rows.reduce((n, b) => n + b.features.rows, 0)).toBe(3);
    await expect(collect(datasetBatches(chunked(CSV, 5), 'xls'))).rejects.toThrow(/unknown dataset format "xls"/);
  });
});

describe('profile and reservoir', () => {
  it('computes per-column min, max, mean and null count across batches', () => {
    const profiler = new DatasetProfiler();
    profiler.add(readCsv('id,a,label\nx,1,0\n,3,1\n'));
    profiler.add(readCsv('id,a,label\ny,-4,1\n'));
    const profile = profiler.result();
    expect(profile.rows).toBe(3);
    expect(profile.columns).toEqual([
      { name: 'id', role: 'id', type: 'text', min: null, max: null, mean: null, nullCount: 1 },
      { name: 'a', role: 'feature', type: 'number', min: -4, max: 3, mean: 0, nullCount: 0 },
      { name: 'label', role: 'label', type: 'number', min: 0, max: 1, mean: 2 / 3, nullCount: 0, positives: 2 },
    ]);
  });

  it('samples uniformly, deterministically, keeping at most its capacity', () => {
    const n = 20000;
    const data = Float64Array.from({ length: n }, (_, i) => i);
    const counts = new Float64Array(10);
    for (let seed = 0; seed < 50; seed++) {
      const r = new RowReservoir(100, 1, seed);
      for (let i = 0; i < n; i++) r.offer(data, i);
      expect(r.size).toBe(100);
      for (const v of r.rows().data) counts[Math.floor(v / (n / 10))]++;
    }
    for (const c of counts) expect(c).toBeGreaterThan(400); // 500 expected per decile
    const a = new RowReservoir(10, 1, 3);
    const b = new RowReservoir(10, 1, 3);
    for (let i = 0; i < 1000; i++) {
      a.offer(data, i);
      b.offer(data, i);
    }
    expect([...a.rows().data]).toEqual([...b.rows().data]);
  });

  it('holds out a seeded share of rows', () => {
    let held = 0;
    for (let i = 0; i < 100000; i++) if (isHeldOut(i, 5, 0.2)) held++;
    expect(held / 100000).toBeCloseTo(0.2, 2);
    expect(isHeldOut(123, 5, 0.2)).toBe(isHeldOut(123, 5, 0.2));
  });
});
