/**
 * The HNSW search's exact re-rank: it reads the float64 rows only of the finds whose float32
 * distance leaves them a chance, so with a beam wide enough to find every row the lists must be
 * brute force's, bit for bit: also where float32 cannot tell rows apart (near-ties below its
 * precision), where values are scaled to fit float32, and with the query left out of its own list.
 */
import { bruteForceSquared } from '../../../src/scoring/bruteForceIndex';
import { HnswIndex } from '../../../src/scoring/hnswIndex';
import { Matrix } from '../../../src/scoring/matrix';
import { SeededRandom } from '../../../src/scoring/random';

/** rows × cols around a few centres, each value offset by jitter · U(-1, 1), times `scale`. */
function nearTies(rows: number, cols: number, jitter: number, scale: number, seed: number): Matrix {
  const rng = new SeededRandom(seed);
  const data = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const centre = rng.nextInt(3);
    for (let c = 0; c < cols; c++) data[r * cols + c] = (centre + jitter * (2 * rng.next() - 1)) * scale;
  }
  return new Matrix(rows, cols, data);
}

function expectBruteForce(train: Matrix, query: Matrix, k: number, selfOffset: number): void {
  const n = query.rows * k;
  const got = { distances: new Float64Array(n), indices: new Int32Array(n) };
  const want = { distances: new Float64Array(n), indices: new Int32Array(n) };
  // The graph comes from well-spread rows (rows float32 cannot tell apart would make a graph
  // with few links); a beam as wide as the training set then finds every row, and only the
  // re-rank decides the lists.
  const graph = HnswIndex.build(nearTies(train.rows, train.cols, 0.5, 1, 13), 3);
  HnswIndex.fromArrays(train, graph.levels, graph.links0, graph.linksUpper).searchSquared(query, k, got, selfOffset, train.rows);
  bruteForceSquared(train, query, k, want.distances, want.indices, selfOffset);
  expect(Array.from(got.indices)).toEqual(Array.from(want.indices));
  expect(Buffer.from(got.distances.buffer).equals(Buffer.from(want.distances.buffer))).toBe(true);
}

describe('HNSW exact re-rank', () => {
  it.each([
    ['near-ties below float32 precision', 1e-9, 1],
    ['near-ties at float32 precision', 3e-7, 1],
    ['ordinary spread', 0.5, 1],
    ['values beyond float32 range (scaled)', 1e-9, 1e120],
    ['tiny values (float32 subnormal)', 0.5, 1e-42],
  ])('%s: lists are brute force bit for bit', (_name, jitter, scale) => {
    const train = nearTies(300, 5, jitter, scale, 11);
    for (const k of [1, 5, 20]) {
      expectBruteForce(train, nearTies(60, 5, jitter, scale, 12), k, -1);
      expectBruteForce(train, train.sliceRows(100, 160), k, 100);
    }
  });
});
