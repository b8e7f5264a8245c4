import { DatasetFormatError, readCsv } from '../../../src/data';
import type { CsvReadOptions } from '../../../src/data';

/** Runs `readCsv` expecting a DatasetFormatError and returns it. */
function formatError(input: Buffer | string, options?: CsvReadOptions): DatasetFormatError {
  try {
    readCsv(input, options);
  } catch (err) {
    expect(err).toBeInstanceOf(DatasetFormatError);
    return err as DatasetFormatError;
  }
  throw new Error('expected readCsv to throw a DatasetFormatError');
}

/** A deterministic generator (mulberry32) so generated data is the same on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `rows` data rows of `cols` features f0..f{cols-1} plus label; cell (r, c) = r * 100 + c + 0.25. */
function grid(rows: number, cols: number): string {
  const header = [...Array(cols).keys()].map((c) => `f${c}`).join(',') + ',label';
  const lines = [header];
  for (let r = 0; r < rows; r++) {
    const cells = [...Array(cols).keys()].map((c) => String(r * 100 + c + 0.25));
    lines.push(`${cells.join(',')},${r % 3 === 0 ? 1 : 0}`);
  }
  return lines.join('\n') + '\n';
}

describe('readCsv: a good file', () => {
  const csv = ['id,f0,label,f1,f2', 'a,1.5,0,-2,3e2', 'b,0,1,4.25,-0.5', 'c,7,0,8,9'].join('\n') + '\n';

  it('reads header, features, labels and ids', () => {
    const t = readCsv(csv);
    expect(t.header).toEqual(['id', 'f0', 'label', 'f1', 'f2']);
    expect(t.featureColumns).toEqual(['f0', 'f1', 'f2']);
    expect(t.features.rows).toBe(3);
    expect(t.features.cols).toBe(3);
    expect(Array.from(t.features.data)).toEqual([1.5, -2, 300, 0, 4.25, -0.5, 7, 8, 9]);
    expect(t.labels).toBeInstanceOf(Uint8Array);
    expect(Array.from(t.labels!)).toEqual([0, 1, 0]);
    expect(t.ids).toEqual(['a', 'b', 'c']);
    expect(t.totalRows).toBe(3);
    expect(t.firstRow).toBe(0);
  });

  it('reads a Buffer the same as a string', () => {
    const t = readCsv(Buffer.from(csv, 'utf8'));
    expect(Array.from(t.features.data)).toEqual([1.5, -2, 300, 0, 4.25, -0.5, 7, 8, 9]);
    expect(t.ids).toEqual(['a', 'b', 'c']);
  });

  it('puts features in the order featureColumns asks for and skips the others', () => {
    const t = readCsv(csv, { featureColumns: ['f2', 'f0'] });
    expect(t.featureColumns).toEqual(['f2', 'f0']);
    expect(t.features.cols).toBe(2);
    expect(Array.from(t.features.data)).toEqual([300, 1.5, -0.5, 0, 9, 7]);
    expect(Array.from(t.labels!)).toEqual([0, 1, 0]);
  });

  it('uses the label and id columns it is told to, and has neither when the file has none', () => {
    const t = readCsv('key,x,y,is_anomaly\nk1,1,2,1\nk2,3,4,0\n', { labelColumn: 'is_anomaly', idColumn: 'key' });
    expect(t.featureColumns).toEqual(['x', 'y']);
    expect(Array.from(t.labels!)).toEqual([1, 0]);
    expect(t.ids).toEqual(['k1', 'k2']);

    const plain = readCsv('x,y\n1,2\n3,4\n');
    expect(plain.featureColumns).toEqual(['x', 'y']);
    expect(plain.labels).toBeUndefined();
    expect(plain.ids).toBeUndefined();
    expect(Array.from(plain.features.data)).toEqual([1, 2, 3, 4]);
  });

  it('accepts id cells with any text, including empty ones', () => {
    const t = readCsv('id,f0\nhost-1 (eu),1\n,2\nÜnïcødé ✓,3\n');
    expect(t.ids).toEqual(['host-1 (eu)', '', 'Ünïcødé ✓']);
  });

  it('accepts spaces around numbers, a file without a final newline and 0.0/1.0 labels', () => {
    const t = readCsv('f0, f1 ,label\n 1 , 2,1.0\n3,4 ,0.0');
    expect(t.header).toEqual(['f0', 'f1', 'label']);
    expect(Array.from(t.features.data)).toEqual([1, 2, 3, 4]);
    expect(Array.from(t.labels!)).toEqual([1, 0]);
  });

  it('reads a large generated file exactly', () => {
    const rows = 20000;
    const cols = 12;
    const t = readCsv(grid(rows, cols));
    expect(t.totalRows).toBe(rows);
    expect(t.features.rows).toBe(rows);
    expect(t.features.data.length).toBe(rows * cols);
    for (const r of [0, 1, 777, rows - 1]) {
      for (let c = 0; c < cols; c++) expect(t.features.get(r, c)).toBe(r * 100 + c + 0.25);
    }
    expect(t.labels![0]).toBe(1);
    expect(t.labels![1]).toBe(0);
    expect(t.labels![rows - 1]).toBe((rows - 1) % 3 === 0 ? 1 : 0);
  });
});

describe('readCsv: numbers are exactly what Number(text) gives', () => {
  const tricky = [
    '0.1', '0.2', '0.3', '1e-7', '-3.5E+2', '123456789.123456789', '9007199254740993', '0.1e1', '.5', '5.',
    '-0', '-0.0', '+1.25', '1e22', '1e23', '1.7976931348623157e308', '5e-324', '2.2250738585072014e-308',
    '000123.4500', '1E0', '3.14159265358979', '0.000001', '1234567890123456', '123456789012345.6',
    '4.35', '0.29', '1.005', '8.589973e9', '-1e-22', '99999999999999.99', '0.30000000000000004',
    ' 123456789012345678 ', '1.5e-300', '-2.5e+300', '\t-0.1234567890123456789e5', '1e-23',
  ];

  it('on tricky values', () => {
    const csv = 'v\n' + tricky.join('\n') + '\n';
    const t = readCsv(csv);
    expect(t.features.rows).toBe(tricky.length);
    tricky.forEach((text, i) => {
      const got = t.features.data[i];
      if (!Object.is(got, Number(text))) throw new Error(`${text}: got ${got}, Number gives ${Number(text)}`);
    });
    expect(Object.is(t.features.data[tricky.indexOf('-0')], -0)).toBe(true);
  });

  it('on quoted numbers', () => {
    const t = readCsv('a,b\n"0.1","-3.5E+2"\n');
    expect(Array.from(t.features.data)).toEqual([0.1, -350]);
  });

  it('on 20,000 random decimals of many shapes', () => {
    const next = random(42);
    const texts: string[] = [];
    for (let i = 0; i < 20000; i++) {
      const kind = i % 5;
      const x = (next() - 0.5) * 10 ** Math.floor(next() * 40 - 20);
      if (kind === 0) texts.push(String(x));
      else if (kind === 1) texts.push(x.toFixed(Math.floor(next() * 18)));
      else if (kind === 2) texts.push(x.toExponential(Math.floor(next() * 20)));
      else if (kind === 3) texts.push(x.toPrecision(1 + Math.floor(next() * 21)));
      else texts.push(`${Math.floor(next() * 1e6)}.${String(Math.floor(next() * 1e9)).padStart(9, '0')}e${Math.floor(next() * 60) - 30}`);
    }
    const rows: string[] = [];
    for (let i = 0; i < texts.length; i += 4) rows.push(texts.slice(i, i + 4).join(','));
    const t = readCsv('a,b,c,d\n' + rows.join('\n') + '\n');
    expect(t.features.data.length).toBe(texts.length);
    const wrong = texts.filter((text, i) => !Object.is(t.features.data[i], Number(text)));
    expect(wrong).toEqual([]);
  });
});

describe('readCsv: rowStart/rowEnd window', () => {
  const csv = ['id,f0,f1,label', ...[...Array(10).keys()].map((r) => `r${r},${r},${r * 10},${r % 2}`)].join('\n') + '\n';

  it('materialises only the rows in [rowStart, rowEnd)', () => {
    const t = readCsv(csv, { rowStart: 3, rowEnd: 7 });
    expect(t.totalRows).toBe(10);
    expect(t.firstRow).toBe(3);
    expect(t.features.rows).toBe(4);
    expect(Array.from(t.features.data)).toEqual([3, 30, 4, 40, 5, 50, 6, 60]);
    expect(Array.from(t.labels!)).toEqual([1, 0, 1, 0]);
    expect(t.ids).toEqual(['r3', 'r4', 'r5', 'r6']);
  });

  it('clamps a window past the end of the file', () => {
    const tail = readCsv(csv, { rowStart: 8, rowEnd: 100 });
    expect(tail.totalRows).toBe(10);
    expect(tail.firstRow).toBe(8);
    expect(Array.from(tail.features.data)).toEqual([8, 80, 9, 90]);
    expect(tail.ids).toEqual(['r8', 'r9']);

    const beyond = readCsv(csv, { rowStart: 12 });
    expect(beyond.totalRows).toBe(10);
    expect(beyond.features.rows).toBe(0);
    expect(beyond.features.data.length).toBe(0);
    expect(beyond.ids).toEqual([]);
  });

  it('from rowStart to the end when rowEnd is not given', () => {
    const t = readCsv(csv, { rowStart: 9 });
    expect(Array.from(t.features.data)).toEqual([9, 90]);
  });

  it('still checks the column count of rows outside the window', () => {
    const bad = csv.replace('r8,8,80,0', 'r8,8,0');
    const err = formatError(bad, { rowStart: 0, rowEnd: 2 });
    expect(err.message).toBe('line 10: expected 4 columns, found 3');
    expect(err.line).toBe(10);
  });

  it('rejects a window that is not one', () => {
    expect(() => readCsv(csv, { rowStart: -1 })).toThrow(RangeError);
    expect(() => readCsv(csv, { rowStart: 5, rowEnd: 4 })).toThrow(RangeError);
    expect(() => readCsv(csv, { rowStart: 1.5 })).toThrow(RangeError);
  });
});

describe('readCsv: line endings, BOM, blank lines', () => {
  it('accepts CRLF, a UTF-8 BOM and a trailing newline', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('id,f0,label\r\nx,1.5,1\r\ny,2,0\r\n')]);
    const t = readCsv(bytes);
    expect(t.header).toEqual(['id', 'f0', 'label']);
    expect(Array.from(t.features.data)).toEqual([1.5, 2]);
    expect(Array.from(t.labels!)).toEqual([1, 0]);
    expect(t.ids).toEqual(['x', 'y']);
    expect(t.totalRows).toBe(2);
  });

  it('accepts a BOM in a string', () => {
    const t = readCsv('\uFEFFf0,f1\n1,2\n');
    expect(t.header).toEqual(['f0', 'f1']);
  });

  it('skips blank trailing lines', () => {
    const t = readCsv('f0,f1\r\n1,2\r\n3,4\r\n\r\n\n  \n\t\r\n');
    expect(t.totalRows).toBe(2);
    expect(Array.from(t.features.data)).toEqual([1, 2, 3, 4]);
  });

  it('reads bare CR line endings too (and grows its buffers when it under-estimated the rows)', () => {
    const t = readCsv(grid(100, 3).replace(/\n/g, '\r'));
    expect(t.totalRows).toBe(100);
    expect(t.features.get(99, 2)).toBe(9902.25);
  });

  it('counts lines correctly after CRLF when reporting errors', () => {
    const err = formatError('f0,f1\r\n1,2\r\n3,x\r\n');
    expect(err.message).toBe('line 3, column "f1": "x" is not a number');
  });
});

describe('readCsv: quoted fields (RFC 4180)', () => {
  it('reads quotes in header names and id cells, and quoted numbers', () => {
    const csv = [
      '"id","f,0","say ""hi""",label',
      '"a, b",1,"2.5","1"',
      '"he said ""no""",3,4,0',
      '"two\nlines",5,6,1',
      'plain,7,8,0',
    ].join('\r\n');
    const t = readCsv(csv);
    expect(t.header).toEqual(['id', 'f,0', 'say "hi"', 'label']);
    expect(t.featureColumns).toEqual(['f,0', 'say "hi"']);
    expect(t.ids).toEqual(['a, b', 'he said "no"', 'two\nlines', 'plain']);
    expect(Array.from(t.features.data)).toEqual([1, 2.5, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(t.labels!)).toEqual([1, 0, 1, 0]);
    expect(t.totalRows).toBe(4);
  });

  it('counts the lines inside a quoted field when reporting a later error', () => {
    const err = formatError('id,f0\n"multi\nline\nid",1\nb,oops\n');
    expect(err.message).toBe('line 5, column "f0": "oops" is not a number');
    expect(err.line).toBe(5);
  });

  it('rejects a quoted field that is never closed', () => {
    const err = formatError('id,f0\na,1\n"b,2\n');
    expect(err.message).toMatch(/^line 3, column "id": a quoted field is never closed/);
    expect(err.line).toBe(3);
    expect(err.column).toBe('id');
  });

  it('rejects text after a closing quote', () => {
    const err = formatError('id,f0\n"a"b,1\n');
    expect(err.message).toMatch(/^line 2, column "id": unexpected text after the closing quote/);
  });
});

describe('readCsv: malformed files', () => {
  it('empty file', () => {
    for (const input of ['', '\n\n', '\uFEFF', Buffer.alloc(0), '  \r\n']) {
      const err = formatError(input);
      expect(err.message).toBe('empty file: no header line');
    }
  });

  it('missing header: a first line of numbers', () => {
    const err = formatError('1,2,3\n4,5,6\n');
    expect(err.message).toMatch(/^line 1: missing header \(the first line must name the columns, e\.g\. f0,f1,label\)/);
    expect(err.line).toBe(1);
  });

  it('an empty header line followed by data', () => {
    const err = formatError('\n1,2\n');
    expect(err.message).toMatch(/^line 1: the header line is empty/);
  });

  it('header but no data rows', () => {
    for (const input of ['f0,f1\n', 'f0,f1', 'f0,f1\r\n\r\n']) {
      expect(formatError(input).message).toBe('empty file: header but no data rows');
    }
  });

  it('a cell that is not a number names line and column', () => {
    const rows = ['f0,f1,f2,f3,label'];
    for (let r = 0; r < 8; r++) rows.push(`${r},1,2,${r === 5 ? 'abc' : 3},0`);
    const err = formatError(rows.join('\n'));
    expect(err.message).toBe('line 7, column "f3": "abc" is not a number');
    expect(err.line).toBe(7);
    expect(err.column).toBe('f3');
  });

  it('texts that are not missing-value tokens are not numbers (tokens are case as listed)', () => {
    expect(formatError('f0,f1\n1,na\n').message).toBe('line 2, column "f1": "na" is not a number');
    expect(formatError('f0,f1\n1,2\nNone,3\n').message).toBe('line 3, column "f0": "None" is not a number');
  });

  it('infinite values are rejected', () => {
    expect(formatError('f0,f1\n1,Infinity\n').message).toBe('line 2, column "f1": "Infinity" is not a finite number');
    expect(formatError('f0,f1\n1,1e999\n').message).toBe('line 2, column "f1": "1e999" is not a finite number');
  });

  it('an empty numeric cell, blank or quoted, is a missing value (NaN)', () => {
    for (const input of ['f0,f1,f2\n1,2,3\n4,,6\n', 'f0,f1,f2\n1,2,3\n4, ,6\n', 'f0,f1,f2\n1,2,3\n4,"",6\n']) {
      expect(Array.from(readCsv(input).features.data)).toEqual([1, 2, 3, 4, NaN, 6]);
    }
  });

  it('a row with the wrong number of columns', () => {
    const cols = 21; // 21 features + label = 22 columns
    const lines = [[...Array(cols).keys()].map((c) => `f${c}`).join(',') + ',label'];
    for (let r = 0; r < 12; r++) {
      const cells = [...Array(cols).keys()].map((c) => String(c + 0.5));
      if (r === 10) cells.pop(); // line 12 has 21 columns
      lines.push(cells.join(',') + ',1');
    }
    const err = formatError(lines.join('\n') + '\n');
    // The shifted row puts a 20.5 in the label column: the column count is the error to report.
    expect(err.message).toBe('line 12: expected 22 columns, found 21');
    expect(err.line).toBe(12);
  });

  it('a row with too many columns', () => {
    const err = formatError('f0,f1\n1,2\n3,4,5\n');
    expect(err.message).toBe('line 3: expected 2 columns, found 3');
  });

  it('a blank line between data rows', () => {
    const err = formatError('f0,f1\n1,2\n\n3,4\n');
    expect(err.message).toMatch(/^line 3: blank line between data rows/);
    expect(err.line).toBe(3);
  });

  it('duplicate column names', () => {
    const err = formatError('f0,f1,f0\n1,2,3\n');
    expect(err.message).toBe('line 1, column "f0": duplicate column name "f0" (columns 1 and 3); column names must be unique');
    expect(err.line).toBe(1);
    expect(err.column).toBe('f0');
  });

  it('an empty header name', () => {
    const err = formatError('f0,,f2\n1,2,3\n');
    expect(err.message).toMatch(/^line 1: column 2 of the header has an empty name/);
    expect(err.line).toBe(1);
  });

  it('a label that is not 0 or 1', () => {
    const lines = ['f0,label'];
    for (let r = 0; r < 9; r++) lines.push(`${r},${r === 7 ? 2 : r % 2}`);
    const err = formatError(lines.join('\n'));
    expect(err.message).toBe('line 9, column "label": label must be 0 or 1, found 2');
    expect(err.line).toBe(9);
    expect(err.column).toBe('label');
    expect(formatError('f0,label\n1,yes\n').message).toBe('line 2, column "label": label must be 0 or 1, found "yes"');
    expect(formatError('f0,label\n1,\n').message).toBe('line 2, column "label": label must be 0 or 1, found an empty cell');
  });

  it('an unknown feature, label or id column names it', () => {
    const csv = 'f0,f1,label\n1,2,0\n';
    const feature = formatError(csv, { featureColumns: ['f0', 'f9'] });
    expect(feature.message).toBe('feature column "f9" is not in the header (columns: f0, f1, label)');
    expect(feature.column).toBe('f9');
    expect(formatError(csv, { labelColumn: 'y' }).message).toBe('label column "y" is not in the header (columns: f0, f1, label)');
    expect(formatError(csv, { idColumn: 'key' }).message).toBe('id column "key" is not in the header (columns: f0, f1, label)');
  });

  it('the label column is never a feature', () => {
    const err = formatError('f0,f1,label\n1,2,0\n', { featureColumns: ['f0', 'label'] });
    expect(err.message).toBe('column "label" is the label column and cannot also be a feature column');
    expect(err.column).toBe('label');
  });

  it('a file with no feature columns', () => {
    expect(formatError('id,label\na,1\n').message).toMatch(/^no feature columns/);
  });
});

describe('role column names', () => {
  it('names the label and id columns it found, and none when absent', () => {
    const withRoles = readCsv('id,f0,label\na,1,0\nb,2,1\n');
    expect(withRoles.labelColumn).toBe('label');
    expect(withRoles.idColumn).toBe('id');
    const plain = readCsv('f0,f1\n1,2\n');
    expect(plain.labelColumn).toBeUndefined();
    expect(plain.idColumn).toBeUndefined();
  });
});

describe('readCsv: rows in a separate body', () => {
  const header = Buffer.from('\ufeffid,f0,"f,1",label\r\n');
  const body = Buffer.from('a,1.5,"2",0\r\n"b\nc",3,4e2,1\r\n');

  it('reads the same table as header and body joined', () => {
    const joined = readCsv(Buffer.concat([header, body]), { firstDataLine: 40 });
    const separate = readCsv(header, { body, firstDataLine: 40 });
    expect(separate).toEqual(joined);
    expect(separate.ids).toEqual(['a', 'b\nc']);
  });

  it('names the line of a bad row as the joined file would', () => {
    const bad = Buffer.from('a,1,2,0\nb,x,2,0\n');
    expect(() => readCsv(header, { body: bad })).toThrow(/^line 3, column "f0"/);
    expect(() => readCsv(header, { body: bad, firstDataLine: 100 })).toThrow(/^line 101, column "f0"/);
  });
});

describe('readCsv: parsing into a given buffer', () => {
  const header = Buffer.from('id,f0,f1\n');

  it('fills the buffer and returns a view of it, block after block', () => {
    const into = new Float64Array(8);
    const first = readCsv(header, { body: Buffer.from('a,1,2\nb,3,4\n'), into });
    expect(first.features.data.buffer).toBe(into.buffer);
    expect(Array.from(first.features.data)).toEqual([1, 2, 3, 4]);
    const second = readCsv(header, { body: Buffer.from('c,5,6\n'), into });
    expect(second.features.data.buffer).toBe(into.buffer);
    expect(second.features.rows).toBe(1);
    expect(Array.from(second.features.data)).toEqual([5, 6]);
    expect(second.ids).toEqual(['c']);
  });

  it('outgrows a buffer that is too small into a new array, with every row', () => {
    const into = new Float64Array(3); // one row and a half
    const table = readCsv(header, { body: Buffer.from('a,1,2\nb,3,4\nc,5,6\n'), into });
    expect(table.features.data.buffer).not.toBe(into.buffer);
    expect(Array.from(table.features.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
