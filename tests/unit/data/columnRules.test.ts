import { MAX_COLUMN_NAME_CHARS, MAX_COLUMNS } from '../../../src/data/columnRules';
import { DatasetFormatError, readCsv } from '../../../src/data';
import { DatasetProfiler } from '../../../src/data/profile';

function profileOf(csv: string): unknown {
  const profiler = new DatasetProfiler();
  profiler.add(readCsv(csv));
  return profiler.result();
}

describe('a registered dataset is at most MAX_COLUMNS wide, with names of at most MAX_COLUMN_NAME_CHARS', () => {
  const wide = (columns: number) => `${Array.from({ length: columns }, (_, i) => `c${i}`).join(',')}\n${Array(columns).fill('1').join(',')}\n`;

  it('accepts exactly the limit', () => {
    expect(profileOf(wide(MAX_COLUMNS))).toMatchObject({ rows: 1 });
    expect(profileOf(`${'n'.repeat(MAX_COLUMN_NAME_CHARS)},b\n1,2\n`)).toMatchObject({ rows: 1 });
  });

  it('refuses one column more, saying how many there are and the limit', () => {
    expect(() => profileOf(wide(MAX_COLUMNS + 1))).toThrow(DatasetFormatError);
    expect(() => profileOf(wide(100_000))).toThrow(`the file has 100000 columns; a dataset has at most ${MAX_COLUMNS}`);
  });

  it('refuses an over-long column name, naming the column by position', () => {
    expect(() => profileOf(`a,${'é'.repeat(MAX_COLUMN_NAME_CHARS + 1)}\n1,2\n`)).toThrow(
      `column 2's name is ${MAX_COLUMN_NAME_CHARS + 1} characters long ("${'é'.repeat(40)}…"); a column name has at most ${MAX_COLUMN_NAME_CHARS}`,
    );
  });

  it('refuses a control character in a column name (a NUL cannot be stored)', () => {
    expect(() => profileOf('a\u0000b,c\n1,2\n')).toThrow(`column 1's name holds a control character (U+0000): "a\\u0000b"; use printable text`);
    expect(() => profileOf('a,"line\nbreak"\n1,2\n')).toThrow("column 2's name holds a control character (U+000A)");
  });
});
