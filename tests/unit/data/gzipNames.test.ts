import { wrongFileSignature } from '../../../src/data/fileSignature';
import { formatFromFileName } from '../../../src/data/formats';
import { gzipSync } from 'node:zlib';

describe('gzip-compressed uploads: names and signatures', () => {
  it.each([
    ['orders.csv.gz', 'csv'],
    ['orders.CSV.GZ', 'csv'],
    ['orders.jsonl.gz', 'jsonl'],
    ['orders.ndjson.gz', 'jsonl'],
  ])('%s is %s, compressed', (name, format) => {
    expect(formatFromFileName(name)).toBe(format);
  });

  it('a .parquet.gz or a bare .gz is refused, saying what to upload', () => {
    expect(() => formatFromFileName('orders.parquet.gz')).toThrow('Parquet compresses its own pages: upload the .parquet file itself');
    expect(() => formatFromFileName('orders.gz')).toThrow('unknown file type');
  });

  it('a .gz name needs gzip bytes; gzip bytes under a plain name are refused, naming the .gz way', () => {
    const gz = gzipSync('a\n1\n');
    const text = Buffer.from('a\n1\n');
    expect(wrongFileSignature('csv', gz, gz, true)).toBeUndefined();
    expect(wrongFileSignature('csv', text, text, true)).toMatch(/named \.gz, but not gzip-compressed/);
    expect(wrongFileSignature('csv', gz, gz)).toBe('gzip-compressed, not CSV text: decompress it (gunzip), or name it .csv.gz to upload it compressed');
  });
});
