/**
 * Category code → position, as an open-addressing hash table in typed arrays: scoring looks up
 * one code per category cell, and a JS Map per cell would cost an object lookup (and a column
 * of 10,000 frequency levels a Map of that size per model). Keys are the category codes of
 * src/data/cellValues.ts (integers 0 ≤ code < 2^52) or MISSING_LEVEL (−1); nothing else is stored.
 */

/** The key of a category column's "missing" level: a missing cell (NaN) is looked up as this. */
export const MISSING_LEVEL = -1;

const TWO_32 = 4294967296;

export class CodeIndex {
  private readonly keys: Float64Array;
  private readonly positions: Int32Array;
  private readonly mask: number;

  /** `codes` must be distinct; position i is the answer for codes[i]. */
  constructor(codes: ArrayLike<number>) {
    let capacity = 8;
    while (capacity < codes.length * 2) capacity *= 2;
    this.keys = new Float64Array(capacity).fill(NaN);
    this.positions = new Int32Array(capacity).fill(-1);
    this.mask = capacity - 1;
    for (let i = 0; i < codes.length; i++) {
      let slot = this.slotOf(codes[i]);
      while (this.positions[slot] >= 0) {
        if (this.keys[slot] === codes[i]) throw new RangeError(`code ${codes[i]} appears twice`);
        slot = (slot + 1) & this.mask;
      }
      this.keys[slot] = codes[i];
      this.positions[slot] = i;
    }
  }

  /** The position of `code`, or −1 when it is not in the table (NaN looks up MISSING_LEVEL). */
  get(code: number): number {
    const key = code === code ? code : MISSING_LEVEL;
    const { keys, positions, mask } = this;
    for (let slot = this.slotOf(key); ; slot = (slot + 1) & mask) {
      const position = positions[slot];
      if (position < 0 || keys[slot] === key) return position;
    }
  }

  private slotOf(code: number): number {
    // Low and high 32 bits mixed (−1 and non-integers included: they only need to land somewhere).
    const low = code >>> 0;
    const high = Math.floor(code / TWO_32) | 0;
    return (Math.imul(low ^ Math.imul(high, 0x9e3779b1), 0x85ebca6b) >>> 7) & this.mask;
  }
}
