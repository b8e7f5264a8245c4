import { parquetWriteBuffer } from 'hyparquet-writer';
import { readCsv } from '../../../src/data/csv';
import { readJsonLines } from '../../../src/data/jsonLines';
import { readParquet } from '../../../src/data/parquet';

describe('booleans in feature columns read as 1 and 0', () => {
  it('CSV: true/false in three cases, bare, quoted or padded', () => {
    const table = readCsv('id,is_gift,a\nr1,true,1\nr2,"FALSE",2\nr3, True ,3\nr4,false,NA\n');
    expect(Array.from(table.features.data)).toEqual([1, 1, 0, 2, 1, 3, 0, NaN]);
  });

  it('CSV: other spellings stay errors naming line and column, and the label keeps its rule', () => {
    expect(() => readCsv('a,b\n1,2\n3,yes\n')).toThrow('line 3, column "b": "yes" is not a number');
    expect(() => readCsv('a,b\n1,tRUE\n')).toThrow('line 2, column "b": "tRUE" is not a number');
    expect(() => readCsv('a,label\n1,true\n')).toThrow('line 2, column "label": label must be 0 or 1, found "true"');
  });

  it('JSON lines: JSON booleans; the string "true" is not one', () => {
    expect(Array.from(readJsonLines('{"a":true,"b":1}\n{"a":false,"b":null}\n').features.data)).toEqual([1, 1, 0, NaN]);
    expect(() => readJsonLines('{"a":"true"}\n')).toThrow('line 1, column "a": "true" is not a number');
  });

  it('Parquet: a BOOLEAN column, nulls missing', async () => {
    const bytes = Buffer.from(parquetWriteBuffer({ columnData: [{ name: 'flag', data: [true, false, null], type: 'BOOLEAN', nullable: true }] }));
    expect(Array.from((await readParquet(bytes)).features.data)).toEqual([1, 0, NaN]);
  });
});
