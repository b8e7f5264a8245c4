import { DatasetFormatError, readCsv } from '../../../src/data';
import { csvBatches } from '../../../src/data/csvStream';
import { jsonLinesBatches, readJsonLines } from '../../../src/data/jsonLines';
import { datasetBatches } from '../../../src/data/readDataset';

async function* chunked(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** The DatasetFormatError `work` throws (sync or async). */
async function refusal(work: () => unknown): Promise<DatasetFormatError> {
  try {
    const result = work();
    if (result && typeof (result as AsyncGenerator)[Symbol.asyncIterator] === 'function') for await (const _ of result as AsyncGenerator) void _;
    else await result;
  } catch (err) {
    expect(err).toBeInstanceOf(DatasetFormatError);
    return err as DatasetFormatError;
  }
  throw new Error('expected a DatasetFormatError');
}

const NON_DECIMAL = ['0x10', '0X1F', '0b101', '0B11', '0o17', '-0x10', ' +0b1 '];

describe('numbers are plain decimals only', () => {
  it.each(NON_DECIMAL)('a CSV feature cell %j is refused, naming line and column', async (text) => {
    const err = await refusal(() => readCsv(`a,b\n1,2\n3,${text}\n`));
    expect(err.message).toBe(`line 3, column "b": ${JSON.stringify(text)} is not a decimal number (hexadecimal, binary and octal numerals are not read as numbers)`);
    expect(err.line).toBe(3);
  });

  it('a hexadecimal label is refused as a label', async () => {
    expect((await refusal(() => readCsv('a,label\n1,0x1\n'))).message).toBe('line 2, column "label": label must be 0 or 1, found "0x1"');
  });

  it('the same holds when the CSV is streamed in small pieces', async () => {
    const err = await refusal(() => csvBatches(chunked(Buffer.from(`a,b\n${'1,2\n'.repeat(50)}3,0b101\n`), 7), { batchBytes: 64 }));
    expect(err.message).toMatch(/^line 52, column "b": "0b101" is not a decimal number/);
  });

  it.each(NON_DECIMAL)('a JSON lines string %j is refused', async (text) => {
    const err = await refusal(() => readJsonLines(`{"a":1,"b":2}\n{"a":3,"b":${JSON.stringify(text)}}\n`));
    expect(err.message).toBe(`line 2, column "b": ${JSON.stringify(text)} is not a decimal number (hexadecimal, binary and octal numerals are not read as numbers)`);
  });

  it('NaN and Infinity as text are not numbers; decimals of every shape still are', async () => {
    expect((await refusal(() => readJsonLines('{"a":"NaN"}\n'))).message).toBe('line 1, column "a": "NaN" is not a number');
    expect((await refusal(() => readJsonLines('{"a":"-Infinity"}\n'))).message).toBe('line 1, column "a": "-Infinity" is not a finite number');
    expect((await refusal(() => readCsv('a\n+Infinity\n'))).message).toBe('line 2, column "a": "+Infinity" is not a finite number');
    const decimals = ['1', '-2.5', '+.5', '5.', '1e3', '-1.5E-3', ' 7 ', '"8"'];
    expect(Array.from(readCsv(`a\n${decimals.join('\n')}\n`).features.data)).toEqual([1, -2.5, 0.5, 5, 1000, -0.0015, 7, 8]);
    expect(Array.from(readJsonLines(decimals.map((d) => `{"a":${d.startsWith('"') ? d : JSON.stringify(d)}}`).join('\n')).features.data)).toEqual([1, -2.5, 0.5, 5, 1000, -0.0015, 7, 8]);
  });

  it('a header of non-decimal numerals is a header, not a missing one', () => {
    expect(readCsv('0x1,0b1\n1,2\n').header).toEqual(['0x1', '0b1']);
  });
});

describe('text must be UTF-8', () => {
  const latin1Header = Buffer.concat([Buffer.from('id,temp'), Buffer.from([0xe9]), Buffer.from('rature,label\nr1,1.5,0\n')]);

  it('a Latin-1 header is refused on line 1, not stored mojibaked', async () => {
    const err = await refusal(() => readCsv(latin1Header));
    expect(err.message).toBe('line 1: not valid UTF-8 text (byte 0xE9 at byte 8 of the line): save the file as UTF-8');
    expect(err.line).toBe(1);
    await expect(refusal(() => csvBatches(chunked(latin1Header, 5)))).resolves.toMatchObject({ line: 1 });
  });

  it('an invalid byte in a data line names that line, in the whole file and in a stream', async () => {
    const bytes = Buffer.concat([Buffer.from(`id,a\n${'x,1\n'.repeat(30)}caf`), Buffer.from([0xe9]), Buffer.from(',2\nz,3\n')]);
    expect((await refusal(() => readCsv(bytes))).message).toMatch(/^line 32: not valid UTF-8 text \(byte 0xE9 at byte 4 of the line\)/);
    expect((await refusal(() => csvBatches(chunked(bytes, 9), { batchBytes: 40 }))).line).toBe(32);
  });

  it('a quoted field spanning lines counts its lines', async () => {
    const bytes = Buffer.concat([Buffer.from('id,a\n"one\ntwo",1\nb'), Buffer.from([0xc3, 0x28]), Buffer.from(',2\n')]);
    expect((await refusal(() => readCsv(bytes))).line).toBe(4);
  });

  it('truncated and overlong sequences are invalid too; valid multi-byte text is kept', async () => {
    for (const bad of [[0xe2, 0x82], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80]]) {
      expect((await refusal(() => readCsv(Buffer.concat([Buffer.from('a,n'), Buffer.from(bad), Buffer.from('\n1,2\n')])))).line).toBe(1);
    }
    const t = readCsv(Buffer.from('\ufeffid,température,😀\nÄ,1,2\n'));
    expect(t.header).toEqual(['id', 'température', '😀']);
    expect(t.ids).toEqual(['Ä']);
  });

  it('JSON lines: the line with the invalid byte is named, whole or streamed', async () => {
    const bytes = Buffer.concat([Buffer.from('{"a":1}\n\n{"a":2,"n'), Buffer.from([0xff]), Buffer.from('":3}\n')]);
    expect((await refusal(() => readJsonLines(bytes))).message).toMatch(/^line 3: not valid UTF-8 text \(byte 0xFF at byte 10 of the line\)/);
    expect((await refusal(() => jsonLinesBatches(chunked(bytes, 4)))).line).toBe(3);
  });
});

describe('a file that is something else under a text extension', () => {
  it.each([
    ['csv', [0x1f, 0x8b, 0x08, 0x00], /^gzip-compressed, not CSV text/],
    ['jsonl', [0x1f, 0x8b, 0x08, 0x00], /^gzip-compressed, not JSON lines text/],
    ['csv', [0x50, 0x4b, 0x03, 0x04], /^a ZIP archive \(an Excel workbook is one\)/],
    ['csv', [0x50, 0x41, 0x52, 0x31], /^a Parquet file, not CSV text: name it \.parquet/],
  ] as const)('%s starting with %j is refused by its signature', async (format, head, message) => {
    const err = await refusal(() => datasetBatches(chunked(Buffer.concat([Buffer.from(head), Buffer.from('rest,of\n1,2\n')]), 3), format));
    expect(err.message).toMatch(message);
  });
});
