import { crc32 } from 'node:zlib';
import { readCsv } from '../../../src/data/csv';
import {
  blockSpan,
  CsvIndexBuilder,
  CsvIndexError,
  decodeCsvIndex,
  encodeCsvIndex,
  firstCorruptBlock,
  indexedRowStart,
  type CsvIndex,
} from '../../../src/data/csvIndex';
import { SeededRandom } from '../../../src/scoring/random';

/** Builds the index from `bytes` fed in random pieces, as a network stream delivers them. */
function indexOf(bytes: Buffer, rowStride: number, blockBytes: number, seed: number): CsvIndex {
  const random = new SeededRandom(seed);
  const builder = new CsvIndexBuilder(rowStride, blockBytes);
  for (let p = 0; p < bytes.length; ) {
    const size = 1 + random.nextInt(40);
    builder.push(bytes.subarray(p, p + size));
    p += size;
  }
  return builder.finish();
}

const csvWithQuotes = () => {
  const rows = Array.from({ length: 57 }, (_, i) => (i % 7 === 3 ? `"row\n${i}",${i},${i / 4}` : `r${i},${i},${-i}`));
  return Buffer.from(`id,a,b\r\n${rows.join('\r\n')}\r\n\r\n`, 'utf8');
};

describe('CSV row index', () => {
  it('records where every stride-th row starts, as the CSV reader counts rows (quoted newlines, CRLF, blank end)', () => {
    const bytes = csvWithQuotes();
    const whole = readCsv(bytes);
    for (const seed of [1, 2, 3]) {
      const index = indexOf(bytes, 5, 64, seed);
      expect(index.dataRows).toBe(whole.totalRows);
      expect(index.fileBytes).toBe(bytes.length);
      expect(index.rowStarts).toHaveLength(Math.ceil(whole.totalRows / 5) + 1);
      const header = bytes.subarray(0, index.headerEnd);
      for (let k = 0; k + 1 < index.rowStarts.length; k++) {
        const stride = readCsv(Buffer.concat([header, bytes.subarray(index.rowStarts[k], index.rowStarts[k + 1])]));
        const reference = readCsv(bytes, { rowStart: k * 5, rowEnd: (k + 1) * 5 });
        expect(stride.ids).toEqual(reference.ids);
        expect(Array.from(stride.features.data)).toEqual(Array.from(reference.features.data));
      }
    }
  });

  it('keeps a CRC-32 of every block, the last one short', () => {
    const bytes = csvWithQuotes();
    const index = indexOf(bytes, 5, 100, 4);
    expect(index.blockCrcs).toHaveLength(Math.ceil(bytes.length / 100));
    index.blockCrcs.forEach((crc, i) => expect(crc).toBe(crc32(bytes.subarray(i * 100, (i + 1) * 100))));
  });

  it('survives encoding, and refuses what is not a whole index', () => {
    const index = indexOf(csvWithQuotes(), 5, 64, 5);
    const encoded = encodeCsvIndex(index);
    expect(decodeCsvIndex(encoded)).toEqual(index);
    expect(() => decodeCsvIndex(encoded.subarray(0, encoded.length - 4))).toThrow(CsvIndexError);
    const badMagic = Buffer.from(encoded);
    badMagic[0] ^= 1;
    expect(() => decodeCsvIndex(badMagic)).toThrow(/bad magic/);
    const wrongRows = Buffer.from(encoded);
    wrongRows.writeDoubleLE(index.dataRows + 10, 16);
    expect(() => decodeCsvIndex(wrongRows)).toThrow(/inconsistent/);
  });

  it('verifies a range read by whole blocks and names the block with a changed byte', () => {
    const bytes = csvWithQuotes();
    const index = indexOf(bytes, 5, 64, 6);
    const { readStart, readEnd } = blockSpan(index, 130, 300);
    expect([readStart, readEnd]).toEqual([128, 320]);
    expect(blockSpan(index, 0, bytes.length)).toEqual({ readStart: 0, readEnd: bytes.length });
    expect(firstCorruptBlock(index, readStart, bytes.subarray(readStart, readEnd))).toBe(-1);
    const changed = Buffer.from(bytes);
    changed[250] ^= 0x20;
    expect(firstCorruptBlock(index, readStart, changed.subarray(readStart, readEnd))).toBe(3);
    expect(() => blockSpan(index, 10, bytes.length + 1)).toThrow(RangeError);
  });

  it('gives indexed row starts on the stride and at the end only', () => {
    const index = indexOf(csvWithQuotes(), 5, 64, 7);
    expect(indexedRowStart(index, 10)).toBe(index.rowStarts[2]);
    expect(indexedRowStart(index, 11)).toBeUndefined();
    expect(indexedRowStart(index, index.dataRows)).toBe(index.rowStarts[index.rowStarts.length - 1]);
  });

  it('indexes a header-only file as no rows', () => {
    const index = indexOf(Buffer.from('a,b\n'), 5, 64, 8);
    expect(index.dataRows).toBe(0);
    expect(Array.from(index.rowStarts)).toEqual([4]);
  });
});
