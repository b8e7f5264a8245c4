/**
 * Exact k-nearest-neighbour search (Euclidean) by blocked brute force: the 'brute' neighbour
 * index, and the reference every other index is tested against.
 *
 * The query rows are walked in tiles of QUERY_TILE rows against tiles of training rows small
 * enough to stay in cache (about 64 KB), and inside a tile pair a register micro-kernel computes
 * 2 query rows × 4 training rows at once, so every value loaded is used four (or two) times. Each
 * query row keeps its k best candidates in its slice of the caller's output arrays, an insertion
 * buffer sorted by (distance, training index); a candidate is only compared against the current
 * k-th distance unless it gets in. There are no per-row objects and no allocations in the search.
 *
 * Distances are computed as the plain sum over columns, in column order, of (q - t)², never as
 * |q|² + |t|² - 2 q·t. Measured on this machine (Node 20, one core, shared and noisy) with
 * 20,000 training rows × 600 queries: the norms/dot-product form was no faster than the plain
 * form with the same 4-way unrolling (~1.0 vs ~1.1 G row-pair-features/s at d = 9, 21, 36),
 * because without BLAS or SIMD a subtraction costs next to nothing next to the loads; the 2 × 4
 * kernel then gained another ~1.3-1.5×. The plain form is also exact: a duplicate row is at
 * distance 0 (the dot form leaves ~1e-8 of cancellation noise, which LOF turns into wildly
 * different densities), distances are symmetric, and every tiling yields the very same bits.
 *
 * Ties are broken by the lower training index (the list is the first k rows of a stable sort by
 * distance), so results are deterministic. Cost: O(n_train × n_query × d) time.
 */
import { Matrix } from './matrix';

/** Query rows per tile. */
const QUERY_TILE = 64;
/** Training values (rows × columns) per tile: 8192 float64 = 64 KB, comfortably within L2. */
const TRAIN_TILE_VALUES = 8192;

/** Inserts candidate (s, j) into the sorted list at [base, base + k); returns the new k-th value. */
function insert(distances: Float64Array, indices: Int32Array, base: number, k: number, s: number, j: number): number {
  let p = base + k - 1;
  // Strictly greater: an equal distance already in the list has a lower index and stays first.
  while (p > base && distances[p - 1] > s) {
    distances[p] = distances[p - 1];
    indices[p] = indices[p - 1];
    p--;
  }
  distances[p] = s;
  indices[p] = j;
  return distances[base + k - 1];
}

/**
 * Writes the k nearest training rows of every query row into distances/indices at [i·k, i·k + k)
 * as SQUARED distances, sorted by (distance, index); selfOffset ≥ 0 leaves query row i's own
 * training row selfOffset + i out. Slots no row beat Infinity in hold index -1. The caller checks
 * the arguments (neighbors.ts's searchNeighbors).
 */
export function bruteForceSquared(
  train: Matrix,
  query: Matrix,
  k: number,
  distances: Float64Array,
  indices: Int32Array,
  selfOffset: number,
): void {
  const d = train.cols;
  const nTrain = train.rows;
  const nQuery = query.rows;
  const excludeSelf = selfOffset >= 0;
  const total = nQuery * k;
  const T = train.data;
  const Q = query.data;
  distances.fill(Infinity, 0, total);
  indices.fill(-1, 0, total);
  // A multiple of 4 so the 4-wide kernel covers whole tiles except the last.
  const trainTile = Math.max(16, Math.floor(TRAIN_TILE_VALUES / Math.max(d, 1) / 4) * 4);
  // -1 never equals a training index, so the search never excludes anything without selfOffset.
  const selfShift = excludeSelf ? selfOffset : -1 - nQuery;

  for (let q0 = 0; q0 < nQuery; q0 += QUERY_TILE) {
    const q1 = Math.min(q0 + QUERY_TILE, nQuery);
    for (let t0 = 0; t0 < nTrain; t0 += trainTile) {
      const t1 = Math.min(t0 + trainTile, nTrain);
      let q = q0;
      // Two query rows at a time.
      for (; q + 1 < q1; q += 2) {
        const qa = q * d;
        const qb = qa + d;
        const ba = q * k;
        const bb = ba + k;
        const selfA = q + selfShift;
        const selfB = selfA + 1;
        let wa = distances[ba + k - 1];
        let wb = distances[bb + k - 1];
        let j = t0;
        for (; j + 3 < t1; j += 4) {
          const o0 = j * d;
          const o1 = o0 + d;
          const o2 = o1 + d;
          const o3 = o2 + d;
          let a0 = 0;
          let a1 = 0;
          let a2 = 0;
          let a3 = 0;
          let b0 = 0;
          let b1 = 0;
          let b2 = 0;
          let b3 = 0;
          for (let c = 0; c < d; c++) {
            const u = Q[qa + c];
            const v = Q[qb + c];
            const x0 = T[o0 + c];
            const x1 = T[o1 + c];
            const x2 = T[o2 + c];
            const x3 = T[o3 + c];
            let e = u - x0;
            a0 += e * e;
            e = u - x1;
            a1 += e * e;
            e = u - x2;
            a2 += e * e;
            e = u - x3;
            a3 += e * e;
            e = v - x0;
            b0 += e * e;
            e = v - x1;
            b1 += e * e;
            e = v - x2;
            b2 += e * e;
            e = v - x3;
            b3 += e * e;
          }
          // Candidates arrive in increasing training index, which keeps ties in index order.
          if (a0 < wa && j !== selfA) wa = insert(distances, indices, ba, k, a0, j);
          if (a1 < wa && j + 1 !== selfA) wa = insert(distances, indices, ba, k, a1, j + 1);
          if (a2 < wa && j + 2 !== selfA) wa = insert(distances, indices, ba, k, a2, j + 2);
          if (a3 < wa && j + 3 !== selfA) wa = insert(distances, indices, ba, k, a3, j + 3);
          if (b0 < wb && j !== selfB) wb = insert(distances, indices, bb, k, b0, j);
          if (b1 < wb && j + 1 !== selfB) wb = insert(distances, indices, bb, k, b1, j + 1);
          if (b2 < wb && j + 2 !== selfB) wb = insert(distances, indices, bb, k, b2, j + 2);
          if (b3 < wb && j + 3 !== selfB) wb = insert(distances, indices, bb, k, b3, j + 3);
        }
        for (; j < t1; j++) {
          const o = j * d;
          let a = 0;
          let b = 0;
          for (let c = 0; c < d; c++) {
            const x = T[o + c];
            let e = Q[qa + c] - x;
            a += e * e;
            e = Q[qb + c] - x;
            b += e * e;
          }
          if (a < wa && j !== selfA) wa = insert(distances, indices, ba, k, a, j);
          if (b < wb && j !== selfB) wb = insert(distances, indices, bb, k, b, j);
        }
      }
      // The odd query row left in the tile.
      for (; q < q1; q++) {
        const qa = q * d;
        const ba = q * k;
        const selfA = q + selfShift;
        let wa = distances[ba + k - 1];
        for (let j = t0; j < t1; j++) {
          const o = j * d;
          let a = 0;
          for (let c = 0; c < d; c++) {
            const e = Q[qa + c] - T[o + c];
            a += e * e;
          }
          if (a < wa && j !== selfA) wa = insert(distances, indices, ba, k, a, j);
        }
      }
    }
  }

}
