import { parquetWriteBuffer } from 'hyparquet-writer';
import { readCsv } from '../../../src/data/csv';
import { csvBatches } from '../../../src/data/csvStream';
import { DatasetFormatError } from '../../../src/data/datasetError';
import { readJsonLines } from '../../../src/data/jsonLines';
import { MISSING_CSV_TOKENS } from '../../../src/data/missingValues';
import { readParquet } from '../../../src/data/parquet';
import { DatasetProfiler } from '../../../src/data/profile';

function formatError(read: () => unknown): DatasetFormatError {
  try {
    read();
  } catch (err) {
    if (err instanceof DatasetFormatError) return err;
    throw err;
  }
  throw new Error('expected a DatasetFormatError');
}

describe('missing feature values in CSV', () => {
  it.each(MISSING_CSV_TOKENS.map((t) => [t]))('the cell %j, bare, quoted or padded, reads as NaN', (token) => {
    for (const cell of [token, `"${token}"`, ` ${token}\t`]) {
      const table = readCsv(`id,a,b,label\nr1,1.5,${cell},0\nr2,${cell},4,1\n`);
      expect(Array.from(table.features.data)).toEqual([1.5, NaN, NaN, 4]);
      expect(Array.from(table.labels!)).toEqual([0, 1]);
    }
  });

  it('the streaming reader reads them the same way', async () => {
    const text = 'a,b\n1,NA\nnull,2\n,3\nN/A,nan\n';
    const batches = [];
    for await (const batch of csvBatches([Buffer.from(text)], { batchBytes: 8 })) batches.push(...batch.features.data);
    expect(batches).toEqual([1, NaN, NaN, 2, NaN, 3, NaN, NaN]);
  });

  it('other text stays an error naming line and column', () => {
    for (const [cell, why] of [['none', '"none" is not a number'], ['Null', '"Null" is not a number'], ['NA NA', '"NA NA" is not a number'], ['Infinity', '"Infinity" is not a finite number']]) {
      const err = formatError(() => readCsv(`a,b\n1,2\n3,${cell}\n`));
      expect(err.message).toBe(`line 3, column "b": ${why}`);
      expect([err.line, err.column]).toEqual([3, 'b']);
    }
  });

  it('label and id keep their rules: a missing label is refused, an empty id is kept', () => {
    expect(formatError(() => readCsv('a,label\n1,NA\n')).message).toBe('line 2, column "label": label must be 0 or 1, found "NA"');
    expect(formatError(() => readCsv('a,label\n1,\n')).message).toBe('line 2, column "label": label must be 0 or 1, found an empty cell');
    expect(readCsv('id,a\n,NA\n').ids).toEqual(['']);
  });
});

describe('missing feature values in JSON lines', () => {
  it('null and an absent feature key read as NaN', () => {
    const table = readJsonLines('{"id":"r1","a":1,"b":null,"label":0}\n{"id":"r2","b":2,"label":1}\n');
    expect(Array.from(table.features.data)).toEqual([1, NaN, NaN, 2]);
  });

  it('a chunk whose first object lacks a feature asked for reads it as missing there', () => {
    const table = readJsonLines('{"a":1}\n{"a":2,"b":3}\n', { featureColumns: ['a', 'b'] });
    expect(Array.from(table.features.data)).toEqual([1, NaN, 2, 3]);
  });

  it('strings are never missing, and an absent label or id is still refused', () => {
    expect(formatError(() => readJsonLines('{"a":1}\n{"a":"NA"}\n')).message).toBe('line 2, column "a": "NA" is not a number');
    expect(formatError(() => readJsonLines('{"a":1,"label":0}\n{"a":1}\n')).message).toMatch(/^line 2: expected 2 columns .*missing "label"$/);
    expect(formatError(() => readJsonLines('{"a":1,"label":null}\n')).message).toBe('line 1, column "label": label must be 0 or 1, found an empty cell');
    expect(formatError(() => readJsonLines('{"id":"x","a":1}\n{"a":1}\n')).message).toMatch(/missing "id"/);
  });
});

describe('missing feature values in Parquet', () => {
  it('nulls read as NaN; a text that is not a number still names row and column', async () => {
    const nulls = Buffer.from(
      parquetWriteBuffer({
        columnData: [
          { name: 'a', data: [1, null, 3], type: 'DOUBLE', nullable: true },
          { name: 'b', data: [null, 5, 6], type: 'INT32', nullable: true },
        ],
      }),
    );
    expect(Array.from((await readParquet(nulls)).features.data)).toEqual([1, NaN, NaN, 5, 3, 6]);
    const text = Buffer.from(parquetWriteBuffer({ columnData: [{ name: 'a', data: ['1', null, 'x'], type: 'STRING', nullable: true }] }));
    await expect(readParquet(text)).rejects.toThrow('row 3, column "a": "x" is not a number');
  });
});

describe('the profile counts missing values', () => {
  it('per feature column, with min, max and mean over the present values', () => {
    const profiler = new DatasetProfiler();
    profiler.add(readCsv('id,a,b,c\nr1,1,NA,\nr2,,4,NaN\nr3,3,8,null\n'));
    const columns = profiler.result().columns;
    expect(columns.map((c) => [c.name, c.nullCount, c.min, c.max, c.mean])).toEqual([
      ['id', 0, null, null, null],
      ['a', 1, 1, 3, 2],
      ['b', 1, 4, 8, 6],
      ['c', 3, null, null, null],
    ]);
  });
});
