/**
 * A dataset that cannot be read as it is: a missing header, a cell that is not a number, a row
 * with the wrong number of columns, ... No retry can fix it, so callers (activities) turn it into
 * a non-retryable failure. The message says what is wrong and where, so a user can fix the file.
 */
export class DatasetFormatError extends Error {
  constructor(
    message: string,
    /** 1-based line in the file (the header is line 1), when the problem is on one line. */
    readonly line?: number,
    /** Name of the column the problem is in, when it is in one column. */
    readonly column?: string,
  ) {
    super(message);
    this.name = 'DatasetFormatError';
  }
}

/** The stored bytes do not hold what the plan says (another row count than the record's): no retry fixes it. */
export class DatasetMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetMismatchError';
  }
}
