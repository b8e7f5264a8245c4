/**
 * A dense row-major matrix of float64 values: the one data shape every detector reads.
 * Rows are observations, columns are features. Views (`row`, `sliceRows`) share memory so a
 * scoring worker can walk a huge chunk without copying it.
 */
export class Matrix {
  constructor(
    readonly rows: number,
    readonly cols: number,
    readonly data: Float64Array,
  ) {
    if (!Number.isSafeInteger(rows) || rows < 0) {
      throw new RangeError(`Matrix rows must be a non-negative integer, got ${rows}`);
    }
    if (!Number.isSafeInteger(cols) || cols < 0) {
      throw new RangeError(`Matrix cols must be a non-negative integer, got ${cols}`);
    }
    if (data.length !== rows * cols) {
      throw new RangeError(
        `Matrix data length ${data.length} does not match ${rows} rows × ${cols} cols = ${rows * cols}`,
      );
    }
  }

  static zeros(rows: number, cols: number): Matrix {
    // Validate before allocating so a bad size reports the Matrix message, not a typed-array one.
    if (!Number.isSafeInteger(rows) || rows < 0 || !Number.isSafeInteger(cols) || cols < 0) {
      throw new RangeError(`Matrix.zeros needs non-negative integer sizes, got ${rows} × ${cols}`);
    }
    return new Matrix(rows, cols, new Float64Array(rows * cols));
  }

  get(r: number, c: number): number {
    this.checkRow(r);
    if (!Number.isInteger(c) || c < 0 || c >= this.cols) {
      throw new RangeError(`column ${c} is out of range [0, ${this.cols})`);
    }
    return this.data[r * this.cols + c];
  }

  /** A view of row `r`; writes through to the matrix. */
  row(r: number): Float64Array {
    this.checkRow(r);
    const start = r * this.cols;
    return this.data.subarray(start, start + this.cols);
  }

  /** Rows [start, end) as a view sharing this matrix's memory (used to score in chunks). */
  sliceRows(start: number, end: number): Matrix {
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > this.rows) {
      throw new RangeError(`row slice [${start}, ${end}) is out of range [0, ${this.rows}]`);
    }
    return new Matrix(end - start, this.cols, this.data.subarray(start * this.cols, end * this.cols));
  }

  /** A new matrix holding copies of the given rows, in the given order (repeats allowed). */
  selectRows(indices: Int32Array | Uint32Array): Matrix {
    const cols = this.cols;
    const out = new Float64Array(indices.length * cols);
    for (let i = 0; i < indices.length; i++) {
      const r = indices[i];
      if (r < 0 || r >= this.rows) {
        throw new RangeError(`row index ${r} at position ${i} is out of range [0, ${this.rows})`);
      }
      out.set(this.data.subarray(r * cols, r * cols + cols), i * cols);
    }
    return new Matrix(indices.length, cols, out);
  }

  private checkRow(r: number): void {
    if (!Number.isInteger(r) || r < 0 || r >= this.rows) {
      throw new RangeError(`row ${r} is out of range [0, ${this.rows})`);
    }
  }
}
