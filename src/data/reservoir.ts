/**
 * Seeded reservoir sampling of rows while streaming (Vitter's Algorithm R): after n rows, each
 * of them is in the sample with probability k/n, and memory is k rows whatever n is. The same
 * seed and the same rows give the same sample.
 */
import { Matrix } from '../scoring/matrix';
import { SeededRandom } from '../scoring/random';

export class RowReservoir {
  private readonly data: Float64Array;
  private readonly labels: Uint8Array;
  private readonly random: SeededRandom;
  /** Rows offered so far. */
  seen = 0;

  constructor(
    readonly capacity: number,
    readonly cols: number,
    seed: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`reservoir capacity must be a positive integer, got ${capacity}`);
    this.data = new Float64Array(capacity * cols);
    this.labels = new Uint8Array(capacity);
    this.random = new SeededRandom(seed >>> 0);
  }

  /** Offers row `r` of `source` (and its label, if any). */
  offer(source: Float64Array, r: number, label = 0): void {
    const cols = this.cols;
    let slot: number;
    if (this.seen < this.capacity) slot = this.seen;
    else {
      const j = this.seen < 4294967296 ? this.random.nextInt(this.seen + 1) : Math.floor(this.random.next() * (this.seen + 1));
      slot = j < this.capacity ? j : -1;
    }
    this.seen++;
    if (slot < 0) return;
    this.data.set(source.subarray(r * cols, r * cols + cols), slot * cols);
    this.labels[slot] = label;
  }

  get size(): number {
    return Math.min(this.seen, this.capacity);
  }

  rows(): Matrix {
    return new Matrix(this.size, this.cols, this.data.slice(0, this.size * this.cols));
  }

  sampleLabels(): Uint8Array {
    return this.labels.slice(0, this.size);
  }
}

/**
 * Assigns row `index` to the held-out split with probability `fraction`, from the seed and the
 * row's position only: the same rows are held out on every run and however the file is batched.
 */
export function isHeldOut(index: number, seed: number, fraction: number): boolean {
  let h = Math.imul(index ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(seed | 0, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296 < fraction;
}
