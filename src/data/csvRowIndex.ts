/** How a CSV's row index counts rows (CsvLayoutScanner: header first, quoted newlines inside a row) and where it is stored. */
import { CsvIndexBuilder } from './csvIndex';
import { CsvLayoutScanner } from './csvLayout';
import type { RowIndexKind } from './rowIndexStore';
import { datasetKey } from '../storage/keys';

export const csvRowIndex: RowIndexKind = {
  key: (sha256) => `${datasetKey(sha256, 'csv')}.index`,
  builder: () => new CsvIndexBuilder(),
  rowStartIn(bytes, row) {
    // The scanner takes its first line as the header: an empty one, so the rows count from 0.
    const scanner = new CsvLayoutScanner(row);
    scanner.push(Buffer.from('\n'));
    scanner.push(bytes);
    return scanner.finish().chunkStarts[1] - 1;
  },
};
