/**
 * What a registered dataset's columns may be: how many, how long their names, and no control
 * characters in them (a NUL cannot be stored in PostgreSQL's jsonb; a line break breaks every
 * table that prints the name). Column names travel beyond the registry row: in the
 * registration result, model records and every job's plan, all through Temporal's history, whose
 * payloads are limited (warning at 512 KB, failure at 2 MB). 1,000 columns of at most 128
 * characters keep each of those under the warning, and are wider than an anomaly detector
 * over rows usefully takes.
 */
import { DatasetFormatError } from './datasetError';

export const MAX_COLUMNS = 1000;
export const MAX_COLUMN_NAME_CHARS = 128;

/** Refuses a header over the limits or with a control character in a name, naming the count or the column. */
export function checkColumns(header: string[]): void {
  if (header.length > MAX_COLUMNS) {
    throw new DatasetFormatError(
      `the file has ${header.length} columns; a dataset has at most ${MAX_COLUMNS}: keep the columns you need (e.g. with csvcut or pandas) and upload that file`,
      1,
    );
  }
  header.forEach((name, i) => {
    if (name.length > MAX_COLUMN_NAME_CHARS) {
      throw new DatasetFormatError(
        `column ${i + 1}'s name is ${name.length} characters long ("${name.slice(0, 40)}…"); a column name has at most ${MAX_COLUMN_NAME_CHARS}`,
        1,
        name.slice(0, MAX_COLUMN_NAME_CHARS),
      );
    }
    const control = /[\u0000-\u001f\u007f]/.exec(name);
    if (control) {
      throw new DatasetFormatError(
        `column ${i + 1}'s name holds a control character (U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}): ${JSON.stringify(name.slice(0, 40))}; use printable text`,
        1,
      );
    }
  });
}
