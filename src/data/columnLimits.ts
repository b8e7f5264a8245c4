/**
 * How wide a registered dataset may be. Column names travel beyond the registry row: in the
 * registration result, model records and every job's plan, all through Temporal's history, whose
 * payloads are limited (warning at 512 KB, failure at 2 MB). 1,000 columns of at most 128
 * characters keep each of those under the warning, and are wider than an anomaly detector
 * over rows usefully takes.
 */
import { DatasetFormatError } from './datasetError';

export const MAX_COLUMNS = 1000;
export const MAX_COLUMN_NAME_CHARS = 128;

/** Refuses a header over the limits, naming the count or the column. */
export function checkColumnLimits(header: string[]): void {
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
  });
}
