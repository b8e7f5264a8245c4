/**
 * An approximate k-nearest-neighbour index (Euclidean) for higher dimensions: a hierarchical
 * navigable small-world graph (HNSW; Malkov & Yashunin 2018), on flat typed arrays.
 *
 * Build: rows are inserted in index order; row i gets a level drawn from the seeded generator
 * (geometric, mean 1/ln M), is linked on each of its levels to up to M (2M on level 0) of the
 * candidates an efConstruction-wide beam search finds, chosen by the paper's diversity heuristic,
 * and its new neighbours shrink their own lists with the same heuristic when they overflow. One
 * thread and one seeded generator make the graph, and so the model bytes, deterministic.
 *
 * Search: greedy descent through the upper levels, then a beam of width max(efSearch, 4k, 1.5d) on
 * level 0, both on float32 copies of the rows; what the beam found is then re-ranked by the exact
 * float64 distance, computed the way neighbors.ts computes it (skipping only finds whose float32
 * distance rules them out, with a bound on float32's rounding), and the k best are returned
 * in (distance, index) order (so a neighbour that is found has the exact brute-force distance
 * bits). Recall is not guaranteed: tests/unit/scoring/hnswIndex.test.ts holds k-th-neighbour
 * recall ≥ 0.99 and ROC-AUC within 0.005 of exact on the ODDS datasets with the defaults here.
 *
 * Layout: links0 holds every row's level-0 list in a slot of 1 + 2M int32 (count, then ids);
 * linksUpper holds the lists of levels 1..level(i) of the rows that have them, M + 1 int32 per
 * level, starting at upperOffset[i] (derived from the levels). The entry point is the first row
 * with the highest level, so the model needs only levels, links0 and linksUpper.
 */
import { Matrix } from './matrix';
import { SeededRandom } from './random';

/** Links per row and level above 0 (twice that on level 0): hnswlib's usual default. */
export const HNSW_M = 16;
/**
 * Beam width while building: wider gives a better graph and a slower build. 64 builds in ~60% of
 * the time 100 took, and on 100k × 16 Gaussian rows searches at the same recall (0.989 at
 * ef 96); on the ODDS datasets the worst recall went from 0.9978 to 0.9972.
 */
export const HNSW_EF_CONSTRUCTION = 64;
/** Beam width while searching, at least HNSW_EF_PER_NEIGHBOR · k, HNSW_EF_PER_COLUMN · d and k + 1. */
export const HNSW_EF_SEARCH = 64;
/**
 * A beam must grow with k: at a fixed 64, recall@20 on 100k × 16 Gaussian rows fell to 0.986
 * while recall@5 held at 0.989.
 */
export const HNSW_EF_PER_NEIGHBOR = 4;
/**
 * And with the dimension: at 64 columns beams of 64 gave recall@5 0.864 on 100k Gaussian rows,
 * where beams of ~100 had given 0.936; 1.5 · d brings 64 columns back to ~96 and leaves 16 at 64.
 */
export const HNSW_EF_PER_COLUMN = 1.5;

/**
 * The build's beam for d columns: HNSW_EF_CONSTRUCTION, widened like the search's with the
 * dimension and, when the build also collects the training rows' k nearest (their recall is the
 * build beam's), to HNSW_EF_PER_NEIGHBOR · k.
 */
export function hnswEfConstruction(trainingK: number, d: number): number {
  return Math.max(HNSW_EF_CONSTRUCTION, HNSW_EF_PER_NEIGHBOR * trainingK, Math.ceil(HNSW_EF_PER_COLUMN * d));
}

/**
 * Binary heaps of (distance, id) pairs on typed arrays, one class per direction so the hot
 * comparisons carry no direction flag; ties go by id so the order is total (and the graph
 * deterministic).
 */
abstract class PairHeap {
  size = 0;
  protected keys: Float64Array;
  protected ids: Int32Array;

  constructor(capacity: number) {
    this.keys = new Float64Array(capacity);
    this.ids = new Int32Array(capacity);
  }

  protected grow(): void {
    const keys = new Float64Array(this.keys.length * 2);
    keys.set(this.keys);
    const ids = new Int32Array(this.ids.length * 2);
    ids.set(this.ids);
    this.keys = keys;
    this.ids = ids;
  }

  topKey(): number {
    return this.keys[0];
  }

  topId(): number {
    return this.ids[0];
  }
}

/** Smallest (distance, id) on top: the candidates still to expand. */
class MinPairHeap extends PairHeap {
  push(key: number, id: number): void {
    if (this.size === this.keys.length) this.grow();
    const keys = this.keys;
    const ids = this.ids;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pk = keys[parent];
      if (pk < key || (pk === key && ids[parent] < id)) break;
      keys[i] = pk;
      ids[i] = ids[parent];
      i = parent;
    }
    keys[i] = key;
    ids[i] = id;
  }

  pop(): void {
    const keys = this.keys;
    const ids = this.ids;
    const n = --this.size;
    const key = keys[n];
    const id = ids[n];
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      let ck = keys[child];
      if (child + 1 < n) {
        const rk = keys[child + 1];
        if (rk < ck || (rk === ck && ids[child + 1] < ids[child])) {
          child++;
          ck = rk;
        }
      }
      if (ck > key || (ck === key && ids[child] > id)) break;
      keys[i] = ck;
      ids[i] = ids[child];
      i = child;
    }
    keys[i] = key;
    ids[i] = id;
  }
}

/** Largest (distance, id) on top: the ef best found so far, worst first. */
class MaxPairHeap extends PairHeap {
  push(key: number, id: number): void {
    if (this.size === this.keys.length) this.grow();
    const keys = this.keys;
    const ids = this.ids;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pk = keys[parent];
      if (pk > key || (pk === key && ids[parent] > id)) break;
      keys[i] = pk;
      ids[i] = ids[parent];
      i = parent;
    }
    keys[i] = key;
    ids[i] = id;
  }

  pop(): void {
    const keys = this.keys;
    const ids = this.ids;
    const n = --this.size;
    const key = keys[n];
    const id = ids[n];
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      let ck = keys[child];
      if (child + 1 < n) {
        const rk = keys[child + 1];
        if (rk > ck || (rk === ck && ids[child + 1] > ids[child])) {
          child++;
          ck = rk;
        }
      }
      if (ck < key || (ck === key && ids[child] < id)) break;
      keys[i] = ck;
      ids[i] = ids[child];
      i = child;
    }
    keys[i] = key;
    ids[i] = id;
  }

  /** Empties the heap into `keys`/`ids` in ascending (distance, id) order; returns the count. */
  drainAscending(keys: Float64Array, ids: Int32Array): number {
    const count = this.size;
    // A max-heap pops the largest first: fill from the back.
    for (let p = count - 1; p >= 0; p--) {
      keys[p] = this.keys[0];
      ids[p] = this.ids[0];
      this.pop();
    }
    return count;
  }
}

export class HnswIndex {
  private readonly m: number;
  private readonly m0: number;
  private readonly d: number;
  private readonly T: Float64Array;
  /**
   * The training rows as float32 (scaled by a power of two when values would overflow float32),
   * which the graph is built and walked on: half the memory traffic of float64, and a 16-column
   * row fits one cache line. Only the order of candidates comes from these; every distance a
   * search returns is recomputed exactly from T.
   */
  private readonly V: Float32Array;
  /** The power of two V's values are T's times. */
  private readonly vScale: number;
  /** The largest Euclidean norm of a row of V: bounds what rounding to float32 moved a distance. */
  private readonly vMaxNorm: number;
  /** The current query row, as V holds rows. */
  private readonly q32: Float32Array;
  private readonly upperOffset: Int32Array;
  private entry = -1;
  private topLevel = -1;
  /**
   * visited[i] === stamp marks row i as seen by the current search. One byte a row (cleared every
   * 255 searches) rather than four: the array is touched at random once per candidate, and a
   * quarter of the size stays in cache far better (the search waits on memory, not arithmetic).
   */
  private readonly visited: Uint8Array;
  private stamp = 0;
  private readonly candidates: MinPairHeap;
  private readonly results: MaxPairHeap;
  private scratchKeys: Float64Array;
  /** Training neighbour lists collected while building (listK per row; 0 when not collecting). */
  private listK = 0;
  private listKeys: Float64Array | null = null;
  private listIds: Int32Array | null = null;
  private scratchIds: Int32Array;

  private constructor(
    private readonly train: Matrix,
    readonly levels: Uint8Array,
    readonly links0: Int32Array,
    readonly linksUpper: Int32Array,
  ) {
    const n = train.rows;
    this.d = train.cols;
    this.T = train.data;
    this.vScale = float32Scale(train.data);
    this.V = new Float32Array(n * this.d);
    for (let p = 0; p < this.V.length; p++) this.V[p] = train.data[p] * this.vScale;
    this.vMaxNorm = maxRowNorm(this.V, n, this.d);
    this.q32 = new Float32Array(this.d);
    this.m0 = n === 0 ? 2 * HNSW_M : links0.length / n - 1;
    this.m = this.m0 >> 1;
    this.upperOffset = new Int32Array(n);
    let offset = 0;
    for (let i = 0; i < n; i++) {
      this.upperOffset[i] = offset;
      offset += levels[i] * (this.m + 1);
    }
    if (offset !== linksUpper.length) throw new RangeError(`HNSW upper links hold ${linksUpper.length} values; the levels need ${offset}`);
    this.visited = new Uint8Array(n);
    this.candidates = new MinPairHeap(256);
    this.results = new MaxPairHeap(256);
    this.scratchKeys = new Float64Array(256);
    this.scratchIds = new Int32Array(256);
  }

  /**
   * Builds the graph over `train` (kept by reference: it must not change). With trainingK > 0 it
   * also collects, for takeTrainingNeighbors, each row's trainingK nearest other rows among all
   * the pairs the build measures (see offerPair).
   */
  static build(train: Matrix, seed: number, trainingK = 0, efConstruction = hnswEfConstruction(trainingK, train.cols)): HnswIndex {
    const n = train.rows;
    const rng = new SeededRandom(seed);
    const levels = new Uint8Array(n);
    const scale = 1 / Math.log(HNSW_M);
    let upper = 0;
    for (let i = 0; i < n; i++) {
      levels[i] = Math.min(30, Math.floor(-Math.log(1 - rng.next()) * scale));
      upper += levels[i] * (HNSW_M + 1);
    }
    const index = new HnswIndex(train, levels, new Int32Array(n * (2 * HNSW_M + 1)), new Int32Array(upper));
    if (trainingK > 0) index.startTrainingLists(trainingK);
    for (let i = 0; i < n; i++) index.insert(i, efConstruction);
    return index;
  }

  /** Rebuilds a stored graph; throws a RangeError when the arrays do not fit together. */
  static fromArrays(train: Matrix, levels: Uint8Array, links0: Int32Array, linksUpper: Int32Array): HnswIndex {
    const n = train.rows;
    if (levels.length !== n || links0.length % Math.max(n, 1) !== 0 || links0.length < n * 3) {
      throw new RangeError(`HNSW arrays do not match ${n} rows (levels ${levels.length}, links ${links0.length})`);
    }
    const index = new HnswIndex(train, levels, links0, linksUpper);
    const m0 = index.m0;
    for (let i = 0; i < n; i++) {
      const count = links0[i * (m0 + 1)];
      if (count < 0 || count > m0) throw new RangeError(`HNSW row ${i} has ${count} links`);
      for (let p = 1; p <= count; p++) {
        const j = links0[i * (m0 + 1) + p];
        if (j < 0 || j >= n) throw new RangeError(`HNSW row ${i} links to row ${j}`);
      }
    }
    for (let i = 0; i < n; i++) {
      for (let level = 1; level <= levels[i]; level++) {
        const at = index.upperSlot(i, level);
        const count = linksUpper[at];
        if (count < 0 || count > index.m) throw new RangeError(`HNSW row ${i} has ${count} links on level ${level}`);
        for (let p = 1; p <= count; p++) {
          const j = linksUpper[at + p];
          if (j < 0 || j >= n || levels[j] < level) throw new RangeError(`HNSW row ${i} links to row ${j} on level ${level}`);
        }
      }
      if (levels[i] > index.topLevel) {
        index.topLevel = levels[i];
        index.entry = i;
      }
    }
    return index;
  }

  private upperSlot(i: number, level: number): number {
    return this.upperOffset[i] + (level - 1) * (this.m + 1);
  }

  /** Where row i's list on `level` starts (its count), and in which array. */
  private listOf(i: number, level: number): { links: Int32Array; at: number } {
    return level === 0 ? { links: this.links0, at: i * (this.m0 + 1) } : { links: this.linksUpper, at: this.upperSlot(i, level) };
  }

  /** Squared distance between query values at Q[qa..] and training row j, in column order. */
  private distance(Q: Float64Array, qa: number, j: number): number {
    const d = this.d;
    const T = this.T;
    const o = j * d;
    let s = 0;
    for (let c = 0; c < d; c++) {
      const e = Q[qa + c] - T[o + c];
      s += e * e;
    }
    return s;
  }

  /**
   * Squared float32-domain distance between V-scaled values at Q[qa..] and row j of V: the
   * graph's own metric (four partial sums, so not the exact column-order bits; see distance).
   */
  private distance32(Q: Float32Array, qa: number, j: number): number {
    const d = this.d;
    const V = this.V;
    const o = j * d;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let c = 0;
    for (; c + 3 < d; c += 4) {
      const e0 = Q[qa + c] - V[o + c];
      const e1 = Q[qa + c + 1] - V[o + c + 1];
      const e2 = Q[qa + c + 2] - V[o + c + 2];
      const e3 = Q[qa + c + 3] - V[o + c + 3];
      s0 += e0 * e0;
      s1 += e1 * e1;
      s2 += e2 * e2;
      s3 += e3 * e3;
    }
    for (; c < d; c++) {
      const e = Q[qa + c] - V[o + c];
      s0 += e * e;
    }
    return s0 + s1 + (s2 + s3);
  }

  /** Greedy walk on one level from `start` to a local minimum; returns it. */
  private greedy(Q: Float32Array, qa: number, start: number, level: number): number {
    let best = start;
    let bestDistance = this.distance32(Q, qa, start);
    for (let improved = true; improved; ) {
      improved = false;
      const at = this.upperSlot(best, level);
      const count = this.linksUpper[at];
      for (let p = 1; p <= count; p++) {
        const j = this.linksUpper[at + p];
        const s = this.distance32(Q, qa, j);
        if (s < bestDistance || (s === bestDistance && j < best)) {
          bestDistance = s;
          best = j;
          improved = true;
        }
      }
    }
    return best;
  }

  /**
   * Beam search on one level from the entries in scratch[0, entries): leaves the ef best rows
   * found in the results heap (drainResults sorts them out); returns how many.
   */
  private searchLevel(Q: Float32Array, qa: number, entries: number, ef: number, level: number, inserting = -1): number {
    // While row `inserting` is being linked, every level-0 distance it measures also feeds the
    // training rows' neighbour lists (each pair is measured once: visited stamps).
    const offer = level === 0 && inserting >= 0 && this.listK > 0;
    const candidates = this.candidates;
    const results = this.results;
    const visited = this.visited;
    candidates.size = 0;
    results.size = 0;
    this.stamp = (this.stamp + 1) & 0xff;
    if (this.stamp === 0) {
      visited.fill(0);
      this.stamp = 1;
    }
    const stamp = this.stamp;
    for (let e = 0; e < entries; e++) {
      const j = this.scratchIds[e];
      if (visited[j] === stamp) continue;
      visited[j] = stamp;
      const s = this.scratchKeys[e];
      if (offer) this.offerPair(inserting, j, s);
      candidates.push(s, j);
      results.push(s, j);
      if (results.size > ef) results.pop();
    }
    const links = level === 0 ? this.links0 : this.linksUpper;
    while (candidates.size > 0) {
      const s = candidates.topKey();
      if (results.size >= ef && s > results.topKey()) break;
      const current = candidates.topId();
      candidates.pop();
      const at = level === 0 ? current * (this.m0 + 1) : this.upperSlot(current, level);
      const count = links[at];
      for (let p = 1; p <= count; p++) {
        const j = links[at + p];
        if (visited[j] === stamp) continue;
        visited[j] = stamp;
        const sj = this.distance32(Q, qa, j);
        if (offer) this.offerPair(inserting, j, sj);
        if (results.size < ef || sj < results.topKey()) {
          candidates.push(sj, j);
          results.push(sj, j);
          if (results.size > ef) results.pop();
        }
      }
    }
    return results.size;
  }

  /** Moves searchLevel's results into scratchKeys/scratchIds in ascending (distance, id) order. */
  private drainResults(): number {
    const size = this.results.size;
    if (this.scratchKeys.length < size) {
      this.scratchKeys = new Float64Array(size * 2);
      this.scratchIds = new Int32Array(size * 2);
    }
    return this.results.drainAscending(this.scratchKeys, this.scratchIds);
  }

  /**
   * The paper's neighbour-selection heuristic: from `count` candidates in ascending order (in
   * keys/ids), keep a candidate only if it is nearer to the new row than to every one kept, up
   * to `limit`; writes the kept ids into links at [at + 1, ...] and their number at links[at].
   */
  private selectNeighbors(keys: Float64Array, ids: Int32Array, count: number, limit: number, links: Int32Array, at: number): void {
    const V = this.V;
    const d = this.d;
    let kept = 0;
    for (let p = 0; p < count && kept < limit; p++) {
      const j = ids[p];
      let diverse = true;
      for (let r = 0; r < kept; r++) {
        if (this.distance32(V, j * d, links[at + 1 + r]) < keys[p]) {
          diverse = false;
          break;
        }
      }
      if (diverse) links[at + 1 + kept++] = j;
    }
    links[at] = kept;
  }

  /** Slack kept beyond the k asked for, so the exact re-rank can reorder near-ties of float32. */
  private static readonly LIST_SLACK = 2;

  private startTrainingLists(k: number): void {
    this.listK = k + HnswIndex.LIST_SLACK;
    this.listKeys = new Float64Array(this.train.rows * this.listK).fill(Infinity);
    this.listIds = new Int32Array(this.train.rows * this.listK).fill(-1);
  }

  /**
   * Offers the pair (a, b) at float32-domain distance s to both rows' lists. A row's neighbours
   * inserted before it are the ones its own insertion search measures; those inserted after it
   * measure it in theirs when it is near them. So the lists come out as good as a search with
   * beam efConstruction, without a second pass over the training rows (recall: hnswIndex.test.ts).
   */
  private offerPair(a: number, b: number, s: number): void {
    this.offerOne(a, b, s);
    this.offerOne(b, a, s);
  }

  private offerOne(row: number, id: number, s: number): void {
    const keys = this.listKeys!;
    const ids = this.listIds!;
    const base = row * this.listK;
    let q = base + this.listK - 1;
    if (s > keys[q] || (s === keys[q] && ids[q] >= 0 && id > ids[q])) return;
    while (q > base && (keys[q - 1] > s || (keys[q - 1] === s && (ids[q - 1] < 0 || ids[q - 1] > id)))) {
      keys[q] = keys[q - 1];
      ids[q] = ids[q - 1];
      q--;
    }
    keys[q] = s;
    ids[q] = id;
  }

  /**
   * Every training row's k nearest other rows (squared exact distances, (distance, index) order,
   * empty slots (Infinity, -1)) from the lists the build collected, re-ranked exactly as
   * searchSquared re-ranks; frees the lists. Returns false when they were not collected for k.
   */
  takeTrainingNeighbors(k: number, out: { distances: Float64Array; indices: Int32Array }): boolean {
    const listK = this.listK;
    const ids = this.listIds;
    this.listK = 0;
    this.listKeys = null;
    this.listIds = null;
    if (ids === null || listK - HnswIndex.LIST_SLACK !== k) return false;
    // A row offered fewer than k others (possible only in a tiny or oddly connected set) makes
    // the caller search instead.
    for (let i = 0; i < this.train.rows; i++) if (ids[i * listK + k - 1] < 0) return false;
    const T = this.T;
    const d = this.d;
    const D = out.distances;
    const I = out.indices;
    for (let i = 0; i < this.train.rows; i++) {
      const base = i * k;
      const last = base + k - 1;
      D.fill(Infinity, base, base + k);
      I.fill(-1, base, base + k);
      for (let p = i * listK; p < (i + 1) * listK; p++) {
        const j = ids[p];
        if (j < 0) break;
        const s = this.distance(T, i * d, j);
        if (s > D[last] || (s === D[last] && I[last] >= 0 && j > I[last])) continue;
        let q = last;
        while (q > base && (D[q - 1] > s || (D[q - 1] === s && (I[q - 1] < 0 || I[q - 1] > j)))) {
          D[q] = D[q - 1];
          I[q] = I[q - 1];
          q--;
        }
        D[q] = s;
        I[q] = j;
      }
    }
    return true;
  }

  private insert(i: number, efConstruction: number): void {
    const V = this.V;
    const d = this.d;
    const qa = i * d;
    const level = this.levels[i];
    if (this.entry < 0) {
      this.entry = i;
      this.topLevel = level;
      return;
    }
    let ep = this.entry;
    for (let l = this.topLevel; l > level; l--) ep = this.greedy(V, qa, ep, l);
    this.scratchKeys[0] = this.distance32(V, qa, ep);
    this.scratchIds[0] = ep;
    let entries = 1;
    const pruneKeys = new Float64Array(2 * HNSW_M + 2);
    const pruneIds = new Int32Array(2 * HNSW_M + 2);
    for (let l = Math.min(level, this.topLevel); l >= 0; l--) {
      this.searchLevel(V, qa, entries, efConstruction, l, i);
      const found = this.drainResults();
      const limit = l === 0 ? this.m0 : this.m;
      const own = this.listOf(i, l);
      this.selectNeighbors(this.scratchKeys, this.scratchIds, found, limit, own.links, own.at);
      for (let p = 1; p <= own.links[own.at]; p++) {
        const j = own.links[own.at + p];
        const theirs = this.listOf(j, l);
        const count = theirs.links[theirs.at];
        if (count < limit) {
          theirs.links[theirs.at + 1 + count] = i;
          theirs.links[theirs.at] = count + 1;
          continue;
        }
        // Full: re-select j's list from its links plus i, nearest first.
        let n = 0;
        for (let r = 0; r <= count; r++) {
          const id = r < count ? theirs.links[theirs.at + 1 + r] : i;
          const s = this.distance32(V, j * d, id);
          let q = n++;
          while (q > 0 && (pruneKeys[q - 1] > s || (pruneKeys[q - 1] === s && pruneIds[q - 1] > id))) {
            pruneKeys[q] = pruneKeys[q - 1];
            pruneIds[q] = pruneIds[q - 1];
            q--;
          }
          pruneKeys[q] = s;
          pruneIds[q] = id;
        }
        this.selectNeighbors(pruneKeys, pruneIds, n, limit, theirs.links, theirs.at);
      }
      entries = found;
    }
    if (level > this.topLevel) {
      this.topLevel = level;
      this.entry = i;
    }
  }

  /**
   * The greedy descent of every query row through the upper levels: `entries[i]` is where row i
   * enters level 0, and `order` lists the rows by the path they descended (the row reached on
   * each level, top down; then by row number). Rows in one cell of the upper levels lie near one
   * another, so searching them in this order finds the training rows and links the previous
   * searches read still in cache: the search waits on memory far more than it computes. Each
   * row's search is independent of the others, so the lists do not depend on the order.
   */
  private descendAll(query: Matrix): { order: Int32Array; entries: Int32Array } {
    const d = this.d;
    const Q = query.data;
    const q32 = this.q32;
    const levels = Math.max(this.topLevel, 0);
    const path = new Int32Array(query.rows * Math.max(levels, 1));
    const entries = new Int32Array(query.rows);
    for (let i = 0; i < query.rows; i++) {
      for (let c = 0; c < d; c++) q32[c] = clampFloat32(Q[i * d + c] * this.vScale);
      let ep = this.entry;
      for (let l = levels; l > 0; l--) {
        ep = this.greedy(q32, 0, ep, l);
        path[i * levels + levels - l] = ep;
      }
      entries[i] = ep;
    }
    const order = Int32Array.from({ length: query.rows }, (_, i) => i);
    order.sort((a, b) => {
      for (let t = 0; t < levels; t++) {
        const diff = path[a * levels + t] - path[b * levels + t];
        if (diff !== 0) return diff;
      }
      return a - b;
    });
    return { order, entries };
  }

  /**
   * The (approximately) k nearest training rows of each query row into out at [i·k, i·k + k), as
   * SQUARED distances in (distance, index) order. With selfOffset ≥ 0, query row i is training row
   * selfOffset + i and is left out of its own list. Needs k < the number of training rows.
   */
  searchSquared(query: Matrix, k: number, out: { distances: Float64Array; indices: Int32Array }, selfOffset: number, efSearch = HNSW_EF_SEARCH): void {
    const d = this.d;
    const Q = query.data;
    const q32 = this.q32;
    const scale = this.vScale;
    const D = out.distances;
    const I = out.indices;
    const ef = Math.max(efSearch, HNSW_EF_PER_NEIGHBOR * k, Math.ceil(HNSW_EF_PER_COLUMN * d), k + 1);
    const { order, entries } = this.descendAll(query);
    for (let o = 0; o < query.rows; o++) {
      const i = order[o];
      const qa = i * d;
      const base = i * k;
      const last = base + k - 1;
      const self = selfOffset < 0 ? -1 : selfOffset + i;
      for (let c = 0; c < d; c++) q32[c] = clampFloat32(Q[qa + c] * scale);
      const ep = entries[i];
      this.scratchKeys[0] = this.distance32(q32, 0, ep);
      this.scratchIds[0] = ep;
      this.searchLevel(q32, 0, 1, ef, 0);
      const found = this.drainResults();
      // Re-rank what the beam found by the exact distance, keeping the k best in (distance,
      // index) order; an empty slot is (Infinity, -1) and loses to any row. The finds come
      // nearest first by the float32 distance, which is within `slack` of the exact one (in
      // Euclidean terms): once a find's float32 distance minus that slack is beyond the exact
      // k-th so far, neither it nor any later find can enter the list, so their float64 rows
      // (a cache miss each) are never read. The list is the one a full re-rank gives.
      let qNorm = 0;
      for (let c = 0; c < d; c++) qNorm += q32[c] * q32[c];
      const slack = float32Slack(Math.sqrt(qNorm), this.vMaxNorm, d);
      const keys = this.scratchKeys;
      const ids = this.scratchIds;
      D.fill(Infinity, base, base + k);
      I.fill(-1, base, base + k);
      for (let p = 0; p < found; p++) {
        const j = ids[p];
        if (j === self) continue;
        if (I[last] >= 0) {
          const lower = (Math.sqrt(keys[p]) * (1 - 1e-9) - slack) / scale;
          if (lower > 0 && lower * lower * (1 - 1e-9) > D[last]) break;
        }
        const s = this.distance(Q, qa, j);
        if (s > D[last] || (s === D[last] && I[last] >= 0 && j > I[last])) continue;
        let q = last;
        while (q > base && (D[q - 1] > s || (D[q - 1] === s && (I[q - 1] < 0 || I[q - 1] > j)))) {
          D[q] = D[q - 1];
          I[q] = I[q - 1];
          q--;
        }
        D[q] = s;
        I[q] = j;
      }
    }
  }
}

/**
 * How far (Euclidean, in V's scale) rounding a query of norm qNorm and rows of norm at most
 * vMaxNorm to float32 can move a distance between them: each value moves by at most 2^-24 of
 * itself (plus 2^-149 below float32's normal range), so the difference vector moves by at most
 * 2^-24 (qNorm + vMaxNorm); doubled for the rounding of the norms and sums themselves. Infinity
 * when the query was clamped or is not finite (then every find is re-ranked).
 */
function float32Slack(qNorm: number, vMaxNorm: number, d: number): number {
  const slack = 2 ** -23 * (qNorm + vMaxNorm) + d * 2 ** -126;
  return qNorm < FLOAT32_MAX && Number.isFinite(slack) ? slack : Infinity;
}

/** The largest Euclidean norm of the n rows of d values in V. */
function maxRowNorm(V: Float32Array, n: number, d: number): number {
  let max = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = i * d; c < i * d + d; c++) s += V[c] * V[c];
    if (s > max) max = s;
  }
  return Math.sqrt(max);
}

/** Largest finite float32 magnitude. */
const FLOAT32_MAX = 3.4028234663852886e38;

/** v as float32, with values beyond float32's range held at its largest magnitude (never ±Infinity). */
function clampFloat32(v: number): number {
  return v > FLOAT32_MAX ? FLOAT32_MAX : v < -FLOAT32_MAX ? -FLOAT32_MAX : v;
}

/**
 * A power of two that brings the largest |value| to at most 2^100, so squares of differences of
 * the float32 copies stay finite; 1 for ordinary data. Powers of two scale distances exactly
 * and keep their order.
 */
function float32Scale(values: Float64Array): number {
  let max = 0;
  for (let p = 0; p < values.length; p++) {
    const a = Math.abs(values[p]);
    if (a > max) max = a;
  }
  return max > 2 ** 100 ? 2 ** (100 - Math.ceil(Math.log2(max))) : 1;
}
