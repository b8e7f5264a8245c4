import { Matrix } from '../../../src/scoring/matrix';
import { buildNeighborIndex } from '../../../src/scoring/neighborIndex';
import { nearestNeighbors, NeighborLists, searchNeighbors } from '../../../src/scoring/neighbors';
import { SeededRandom } from '../../../src/scoring/random';

type Shape = 'random' | 'duplicated' | 'clustered';

/** random: uniform; duplicated: small integers (many exact ties and duplicate rows); clustered: tight Gaussian-ish blobs. */
function data(shape: Shape, rows: number, cols: number, seed: number): Matrix {
  const rng = new SeededRandom(seed);
  const out = new Float64Array(rows * cols);
  const centres = new Float64Array(8 * cols);
  for (let i = 0; i < centres.length; i++) centres[i] = rng.next() * 20 - 10;
  for (let r = 0; r < rows; r++) {
    const centre = rng.nextInt(8);
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      if (shape === 'random') out[i] = rng.next() * 4 - 2;
      else if (shape === 'duplicated') out[i] = rng.nextInt(3);
      else out[i] = centres[centre * cols + c] + (rng.next() + rng.next() + rng.next() - 1.5) * 0.3;
    }
  }
  return new Matrix(rows, cols, out);
}

function kdTreeNeighbors(train: Matrix, query: Matrix, k: number, selfOffset?: number): NeighborLists {
  const distances = new Float64Array(query.rows * k);
  const indices = new Int32Array(query.rows * k);
  searchNeighbors(buildNeighborIndex('kdtree', train, 0), query, k, distances, indices, selfOffset === undefined ? {} : { selfOffset });
  return { k, distances, indices };
}

function expectIdentical(actual: NeighborLists, expected: NeighborLists): void {
  // Bit for bit, and the same neighbours in the same (distance, index) order.
  expect(Buffer.from(actual.distances.buffer).equals(Buffer.from(expected.distances.buffer))).toBe(true);
  expect(Array.from(actual.indices)).toEqual(Array.from(expected.indices));
}

describe('KD-tree index', () => {
  const cases: [Shape, number][] = [];
  for (const shape of ['random', 'duplicated', 'clustered'] as Shape[]) for (const d of [2, 3, 8, 16, 37, 64, 128]) cases.push([shape, d]);

  it.each(cases)('equals brute force exactly on %s data, d = %i (new rows and training rows excluding self)', (shape, d) => {
    const rows = d >= 64 ? 700 : 1500;
    const train = data(shape, rows, d, 11 + d);
    const query = data(shape, 150, d, 97 + d);
    for (const k of [1, 7, 20]) {
      expectIdentical(kdTreeNeighbors(train, query, k), nearestNeighbors(train, query, k));
      // Training rows as queries: itself left out, its duplicates kept at distance 0.
      expectIdentical(kdTreeNeighbors(train, train, k, 0), nearestNeighbors(train, train, k, { selfOffset: 0 }));
    }
    // A slice of the training set as queries, with its offset.
    const part = train.sliceRows(100, 180);
    expectIdentical(kdTreeNeighbors(train, part, 5, 100), nearestNeighbors(train, part, 5, { selfOffset: 100 }));
  });

  it('breaks ties among thousands of identical rows by the lowest training index, like brute force', () => {
    const train = new Matrix(5000, 4, new Float64Array(5000 * 4).fill(1.5));
    train.data.fill(-3, 4000 * 4, 4010 * 4);
    const query = new Matrix(3, 4, Float64Array.from([1.5, 1.5, 1.5, 1.5, -3, -3, -3, -3, 0, 0, 0, 0]));
    expectIdentical(kdTreeNeighbors(train, query, 12), nearestNeighbors(train, query, 12));
    expectIdentical(kdTreeNeighbors(train, train, 12, 0), nearestNeighbors(train, train, 12, { selfOffset: 0 }));
  });

  it('handles overflowing distances as brute force does', () => {
    const train = new Matrix(6, 1, Float64Array.from([0, 1, 2, 1e200, -1e200, 3]));
    const query = new Matrix(2, 1, Float64Array.from([0.5, 1e200]));
    expectIdentical(kdTreeNeighbors(train, query, 5), nearestNeighbors(train, query, 5));
  });

  it('searches a one-row and a single-leaf training set', () => {
    const one = new Matrix(1, 3, Float64Array.from([1, 2, 3]));
    const query = data('random', 4, 3, 5);
    expectIdentical(kdTreeNeighbors(one, query, 1), nearestNeighbors(one, query, 1));
    const small = data('clustered', 20, 3, 6);
    expectIdentical(kdTreeNeighbors(small, query, 19), nearestNeighbors(small, query, 19));
  });
});
