/**
 * An exact k-nearest-neighbour index (Euclidean): a KD-tree on flat typed arrays.
 *
 * Build: the root holds every training row; a node with more than LEAF_SIZE rows is split at the
 * median of the column where its rows spread most (a deterministic quickselect), so leaves hold
 * LEAF_SIZE/2..LEAF_SIZE rows and the tree is balanced. Nodes are stored in depth-first order
 * (a node's left child is the next node) with their row range, right child, the tight bounding box
 * of their rows and the lowest training index among them. The rows are copied once in tree
 * order, so a leaf is one contiguous block of memory.
 *
 * Search: depth first, nearer child first, with a per-query k-best list sorted by (distance,
 * training index); a block's query rows go in the order of the leaves they descend to (leafOrder). A node is skipped only when its box is strictly farther than the current k-th
 * candidate, or exactly as far and every row in it has a higher index (so it cannot win a tie).
 *
 * Exactness: a distance is the plain column-order sum of (q - t)², exactly as neighbors.ts's
 * brute force computes it, and the box bound is the same sum with t clamped to the box. Floating
 * point subtraction, squaring and addition are monotone, so the bound never exceeds the computed
 * distance of any row inside the box, bit for bit; with the (distance, index) order the result is
 * the very list brute force gives: the same k distances to the last bit and the same indices.
 *
 * Cost: O(n log n) to build; a query visits few leaves in low dimension (d ≤ ~20 on real data)
 * and degrades towards brute force as d grows. Memory: a second copy of the training rows plus
 * about 2 × (2n / LEAF_SIZE) × d float64 box bounds.
 */
import { Matrix } from './matrix';

/** Rows per leaf at most: a leaf scan of 16-32 rows amortises the box tests around it. */
export const KD_LEAF_SIZE = 32;

export interface KnnResultBuffers {
  readonly distances: Float64Array;
  readonly indices: Int32Array;
}

export class KdTreeIndex {
  private constructor(
    readonly rows: number,
    readonly cols: number,
    /** The training rows in tree order. */
    private readonly points: Float64Array,
    /** Tree position → training index. */
    private readonly order: Int32Array,
    private readonly nodeStart: Int32Array,
    private readonly nodeEnd: Int32Array,
    /** Right child of an inner node; -1 for a leaf (the left child is always node + 1). */
    private readonly nodeRight: Int32Array,
    private readonly nodeMinIndex: Int32Array,
    private readonly lower: Float64Array,
    private readonly upper: Float64Array,
    private readonly maxDepth: number,
  ) {}

  /** Builds the tree over `train` (which it does not keep; the rows are copied in tree order). */
  static build(train: Matrix, leafSize = KD_LEAF_SIZE): KdTreeIndex {
    const n = train.rows;
    const d = train.cols;
    const T = train.data;
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    const capacity = 2 * Math.ceil((2 * n) / leafSize) + 3;
    const nodeStart = new Int32Array(capacity);
    const nodeEnd = new Int32Array(capacity);
    const nodeRight = new Int32Array(capacity);
    const nodeMinIndex = new Int32Array(capacity);
    const lower = new Float64Array(capacity * d);
    const upper = new Float64Array(capacity * d);
    let nodes = 0;
    let maxDepth = 0;
    // Children are created depth first, left before right; depth is ~log2(n / leafSize).
    const build = (start: number, end: number, depth: number): number => {
      const node = nodes++;
      maxDepth = Math.max(maxDepth, depth);
      nodeStart[node] = start;
      nodeEnd[node] = end;
      const lo = node * d;
      let minIndex = order[start];
      for (let c = 0; c < d; c++) {
        lower[lo + c] = Infinity;
        upper[lo + c] = -Infinity;
      }
      for (let p = start; p < end; p++) {
        const r = order[p];
        if (r < minIndex) minIndex = r;
        const o = r * d;
        for (let c = 0; c < d; c++) {
          const v = T[o + c];
          if (v < lower[lo + c]) lower[lo + c] = v;
          if (v > upper[lo + c]) upper[lo + c] = v;
        }
      }
      nodeMinIndex[node] = minIndex;
      let dim = 0;
      let spread = -1;
      for (let c = 0; c < d; c++) {
        const s = upper[lo + c] - lower[lo + c];
        if (s > spread) {
          spread = s;
          dim = c;
        }
      }
      // Rows that are all identical are split too: the lowest-index test then prunes the halves
      // that cannot win a tie, so a heap of duplicates is not scanned whole.
      if (end - start <= leafSize) {
        nodeRight[node] = -1;
        return node;
      }
      const mid = start + ((end - start) >> 1);
      selectByColumn(order, T, d, dim, start, end, mid);
      build(start, mid, depth + 1);
      nodeRight[node] = build(mid, end, depth + 1);
      return node;
    };
    if (n > 0) build(0, n, 0);
    const points = new Float64Array(n * d);
    for (let p = 0; p < n; p++) points.set(T.subarray(order[p] * d, order[p] * d + d), p * d);
    return new KdTreeIndex(
      n,
      d,
      points,
      order,
      nodeStart.slice(0, nodes),
      nodeEnd.slice(0, nodes),
      nodeRight.slice(0, nodes),
      nodeMinIndex.slice(0, nodes),
      lower.slice(0, nodes * d),
      upper.slice(0, nodes * d),
      maxDepth,
    );
  }

  /**
   * The query rows in the order of the leaves their nearer-child descent reaches (nodes are
   * numbered depth first, so leaf order is a space-filling order; then by row number). Searching
   * in this order finds the leaves and boxes the previous query read still in cache. Each row's
   * search is independent of the others, so the lists do not depend on the order.
   */
  private leafOrder(query: Matrix, boxBound: (node: number, qa: number) => number): Int32Array {
    const leaf = new Int32Array(query.rows);
    for (let i = 0; i < query.rows && this.rows > 0; i++) {
      let node = 0;
      for (let right = this.nodeRight[0]; right >= 0; right = this.nodeRight[node]) {
        node = boxBound(node + 1, i * this.cols) <= boxBound(right, i * this.cols) ? node + 1 : right;
      }
      leaf[i] = node;
    }
    return Int32Array.from({ length: query.rows }, (_, i) => i).sort((a, b) => leaf[a] - leaf[b] || a - b);
  }

  get nodeCount(): number {
    return this.nodeStart.length;
  }

  /**
   * Writes the k nearest training rows of query rows [0, query.rows) into out at [i·k, i·k + k),
   * as SQUARED distances, sorted by (distance, index). With selfOffset ≥ 0, query row i is training
   * row selfOffset + i and is left out of its own list. Returns how many training rows the search
   * compared with (a measure of how well the tree prunes on this data). Lists hold -1 / Infinity where fewer than k rows had a finite distance.
   */
  searchSquared(query: Matrix, k: number, out: KnnResultBuffers, selfOffset: number): number {
    const d = this.cols;
    const Q = query.data;
    const P = this.points;
    const order = this.order;
    const nodeStart = this.nodeStart;
    const nodeEnd = this.nodeEnd;
    const nodeRight = this.nodeRight;
    const nodeMinIndex = this.nodeMinIndex;
    const lower = this.lower;
    const upper = this.upper;
    const dist = out.distances;
    const idx = out.indices;
    const stackNode = new Int32Array(2 * this.maxDepth + 4);
    const stackBound = new Float64Array(2 * this.maxDepth + 4);
    const boxBound = (node: number, qa: number): number => {
      const o = node * d;
      let s = 0;
      for (let c = 0; c < d; c++) {
        const v = Q[qa + c];
        const lo = lower[o + c];
        if (v < lo) {
          const e = v - lo;
          s += e * e;
        } else {
          const hi = upper[o + c];
          if (v > hi) {
            const e = v - hi;
            s += e * e;
          }
        }
      }
      return s;
    };
    let scanned = 0;
    const queryOrder = this.leafOrder(query, boxBound);
    for (let o = 0; o < query.rows; o++) {
      const i = queryOrder[o];
      const qa = i * d;
      const base = i * k;
      const last = base + k - 1;
      const self = selfOffset < 0 ? -1 : selfOffset + i;
      dist.fill(Infinity, base, base + k);
      idx.fill(-1, base, base + k);
      if (this.rows === 0) continue;
      let top = 0;
      stackNode[0] = 0;
      stackBound[0] = boxBound(0, qa);
      top = 1;
      while (top > 0) {
        top--;
        const node = stackNode[top];
        const bound = stackBound[top];
        let w = dist[last];
        if (bound > w || (bound === w && nodeMinIndex[node] > idx[last])) continue;
        const right = nodeRight[node];
        if (right < 0) {
          let wi = idx[last];
          scanned += nodeEnd[node] - nodeStart[node];
          for (let p = nodeStart[node], pEnd = nodeEnd[node]; p < pEnd; p++) {
            const o = p * d;
            let s = 0;
            let c = 0;
            // Partial sums only grow, so a row already beyond the k-th is abandoned early.
            for (; c + 4 <= d && s <= w; c += 4) {
              let e = Q[qa + c] - P[o + c];
              s += e * e;
              e = Q[qa + c + 1] - P[o + c + 1];
              s += e * e;
              e = Q[qa + c + 2] - P[o + c + 2];
              s += e * e;
              e = Q[qa + c + 3] - P[o + c + 3];
              s += e * e;
            }
            if (s > w) continue;
            for (; c < d; c++) {
              const e = Q[qa + c] - P[o + c];
              s += e * e;
            }
            if (s > w) continue;
            const j = order[p];
            if ((s < w || j < wi) && j !== self) {
              // Insert (s, j) in (distance, index) order.
              let q = last;
              while (q > base && (dist[q - 1] > s || (dist[q - 1] === s && idx[q - 1] > j))) {
                dist[q] = dist[q - 1];
                idx[q] = idx[q - 1];
                q--;
              }
              dist[q] = s;
              idx[q] = j;
              w = dist[last];
              wi = idx[last];
            }
          }
          continue;
        }
        const left = node + 1;
        const bl = boxBound(left, qa);
        const br = boxBound(right, qa);
        // Push the farther child first so the nearer one is searched first.
        if (bl <= br) {
          stackNode[top] = right;
          stackBound[top++] = br;
          stackNode[top] = left;
          stackBound[top++] = bl;
        } else {
          stackNode[top] = left;
          stackBound[top++] = bl;
          stackNode[top] = right;
          stackBound[top++] = br;
        }
      }
    }
    return scanned;
  }
}

/**
 * Reorders order[start, end) so that order[mid] holds the row whose column `dim` would sit at mid
 * in sorted order, smaller-or-equal values before it and greater-or-equal after (Hoare quickselect
 * with a median-of-three pivot: deterministic, O(end - start) on average).
 */
function selectByColumn(order: Int32Array, T: Float64Array, d: number, dim: number, start: number, end: number, mid: number): void {
  let lo = start;
  let hi = end - 1;
  const key = (p: number): number => T[order[p] * d + dim];
  while (hi > lo) {
    const a = key(lo);
    const b = key((lo + hi) >> 1);
    const c = key(hi);
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (key(i) < pivot) i++;
      while (key(j) > pivot) j--;
      if (i <= j) {
        const t = order[i];
        order[i] = order[j];
        order[j] = t;
        i++;
        j--;
      }
    }
    if (mid <= j) hi = j;
    else if (mid >= i) lo = i;
    else return;
  }
}
