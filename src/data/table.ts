/**
 * The table every dataset format reads into: the feature columns as one typed-array Matrix
 * (never an object per row), with the labels and ids beside it. Neutral: CSV, JSON lines and
 * Parquet all return it.
 */
import type { Matrix } from '../scoring/matrix';

export interface DatasetTable {
  /** All column names in file order. */
  header: string[];
  /** The columns in `features`, in order. */
  featureColumns: string[];
  /** rows × featureColumns.length, only the data rows in [rowStart, rowEnd). */
  features: Matrix;
  /** From the label column when present (values are 0 or 1), one per row of `features`. */
  labels?: Uint8Array;
  /** From the id column when present, one per row of `features`. */
  ids?: string[];
  /** The label and id columns' names, when the file has them. */
  labelColumn?: string;
  idColumn?: string;
  /** With `withCategoryText`: code → text of every distinct category value in these rows. */
  categoryText?: Map<number, string>;
  /** Data rows in the whole file. */
  totalRows: number;
  /** Index of features row 0 within the file's data rows (= rowStart). */
  firstRow: number;
}
