import { readCsv } from '../../../src/data/csv';
import { CsvLayoutScanner } from '../../../src/data/csvLayout';
import { SeededRandom } from '../../../src/scoring/random';

/** Feeds `bytes` to the scanner in random pieces, as a network stream would. */
function layoutOf(bytes: Buffer, rowsPerChunk: number, seed: number) {
  const random = new SeededRandom(seed);
  const scanner = new CsvLayoutScanner(rowsPerChunk);
  for (let p = 0; p < bytes.length; ) {
    const size = 1 + random.nextInt(17);
    scanner.push(bytes.subarray(p, p + size));
    p += size;
  }
  return scanner.finish();
}

/** Every chunk read as header + byte range must equal the same rows read from the whole file. */
function expectChunksMatchWholeFile(text: string, rowsPerChunk: number): void {
  const bytes = Buffer.from(text, 'utf8');
  const whole = readCsv(bytes);
  for (const seed of [1, 2, 3]) {
    const layout = layoutOf(bytes, rowsPerChunk, seed);
    expect(layout.dataRows).toBe(whole.totalRows);
    expect(layout.chunkStarts).toHaveLength(Math.ceil(whole.totalRows / rowsPerChunk) + 1);
    const header = bytes.subarray(0, layout.headerEnd);
    for (let c = 0; c + 1 < layout.chunkStarts.length; c++) {
      const slice = bytes.subarray(layout.chunkStarts[c], layout.chunkStarts[c + 1]);
      const chunk = readCsv(Buffer.concat([header, slice]));
      const reference = readCsv(bytes, { rowStart: c * rowsPerChunk, rowEnd: (c + 1) * rowsPerChunk });
      expect(Array.from(chunk.features.data)).toEqual(Array.from(reference.features.data));
      expect(chunk.ids).toEqual(reference.ids);
    }
  }
}

describe('CSV chunk layout', () => {
  it('splits plain rows at every rowsPerChunk-th row', () => {
    const rows = Array.from({ length: 23 }, (_, i) => `${i},${i * 2}`);
    expectChunksMatchWholeFile(`a,b\n${rows.join('\n')}\n`, 5);
    expectChunksMatchWholeFile(`a,b\n${rows.join('\n')}`, 4); // no final newline
    expectChunksMatchWholeFile(`a,b\n${rows.join('\n')}\n\n \n`, 23); // blank trailing lines
  });

  it('handles CRLF, a BOM, and quoted fields holding commas, quotes and newlines', () => {
    const rows = Array.from({ length: 12 }, (_, i) => `"id ${i}\r\nsecond ""line"", x",${i}.5,"${-i}"`);
    expectChunksMatchWholeFile(`\ufeffid,f0,f1\r\n${rows.join('\r\n')}\r\n`, 5);
  });

  it('gives exact offsets and counts on a small file', () => {
    const layout = layoutOf(Buffer.from('h\n1\n2\n3\n'), 2, 7);
    expect(layout).toEqual({ headerEnd: 2, dataRows: 3, chunkStarts: [2, 6, 8] });
    expect(new CsvLayoutScanner(10).finish()).toEqual({ headerEnd: 0, dataRows: 0, chunkStarts: [0] });
  });

  it('reports line numbers of the whole file from a chunk', () => {
    const bytes = Buffer.from('f0,f1\n1,2\n3,4\n5,x\n');
    const layout = layoutOf(bytes, 2, 1);
    const chunk = Buffer.concat([bytes.subarray(0, layout.headerEnd), bytes.subarray(layout.chunkStarts[1], layout.chunkStarts[2])]);
    expect(() => readCsv(chunk, { firstDataLine: 2 + 2 })).toThrow('line 4, column "f1": "x" is not a number');
  });
});
