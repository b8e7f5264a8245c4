import { DetectorOptionError } from '../../../src/scoring/detector';
import { Matrix } from '../../../src/scoring/matrix';
import {
  findNearestNeighbors,
  nearestNeighbors,
  NeighborLists,
  neighborTrainingSet,
  sampleRowIndices,
  trainingNeighbors,
} from '../../../src/scoring/neighbors';
import { SeededRandom } from '../../../src/scoring/random';

function randomMatrix(rows: number, cols: number, seed: number, levels?: number): Matrix {
  const rng = new SeededRandom(seed);
  const data = new Float64Array(rows * cols);
  // With `levels`, values are small integers: many exact ties and duplicate rows.
  for (let i = 0; i < data.length; i++) data[i] = levels ? rng.nextInt(levels) : rng.next() * 4 - 2;
  return new Matrix(rows, cols, data);
}

/**
 * The naive reference: every distance as the column-order sum of squared differences, then a
 * stable sort by distance (so ties keep index order), first k. selfOffset leaves row i + offset out.
 */
function referenceNeighbors(train: Matrix, query: Matrix, k: number, selfOffset?: number): NeighborLists {
  const distances = new Float64Array(query.rows * k);
  const indices = new Int32Array(query.rows * k);
  for (let i = 0; i < query.rows; i++) {
    const all: { d2: number; j: number }[] = [];
    for (let j = 0; j < train.rows; j++) {
      if (selfOffset !== undefined && j === i + selfOffset) continue;
      let d2 = 0;
      for (let c = 0; c < train.cols; c++) {
        const e = query.data[i * query.cols + c] - train.data[j * train.cols + c];
        d2 += e * e;
      }
      all.push({ d2, j });
    }
    all.sort((a, b) => a.d2 - b.d2 || a.j - b.j);
    for (let p = 0; p < k; p++) {
      distances[i * k + p] = Math.sqrt(all[p].d2);
      indices[i * k + p] = all[p].j;
    }
  }
  return { k, distances, indices };
}

function expectSameLists(actual: NeighborLists, expected: NeighborLists): void {
  expect(actual.k).toBe(expected.k);
  // Bit-for-bit: the blocked search must compute exactly the reference's sums.
  expect(Buffer.from(actual.distances.buffer).equals(Buffer.from(expected.distances.buffer))).toBe(true);
  expect(Array.from(actual.indices)).toEqual(Array.from(expected.indices));
}

describe('findNearestNeighbors', () => {
  it('equals a naive reference exactly across many tiles, tails and dimensions', () => {
    // d = 37 gives training tiles of 220 rows, so 1003 rows make 5 tiles with a ragged end;
    // 201 queries make 4 query tiles and an odd query row; d = 1 and 2 give one huge tile.
    for (const [nTrain, nQuery, d, k] of [
      [1003, 201, 37, 7],
      [517, 131, 3, 1],
      [300, 65, 1, 5],
      [90, 33, 2, 90],
      [5, 3, 4, 5],
    ]) {
      const train = randomMatrix(nTrain, d, nTrain + d);
      const query = randomMatrix(nQuery, d, nQuery * 7 + d);
      expectSameLists(nearestNeighbors(train, query, k), referenceNeighbors(train, query, k));
    }
  });

  it('breaks ties by the lower training index, like a stable sort', () => {
    // Values in {0, 1, 2} over 3 columns: only 27 distinct rows among 400, so ties everywhere.
    const train = randomMatrix(400, 3, 5, 3);
    const query = randomMatrix(77, 3, 6, 3);
    const result = nearestNeighbors(train, query, 12);
    expectSameLists(result, referenceNeighbors(train, query, 12));
    let ties = 0;
    for (let p = 1; p < result.distances.length; p++) if (result.distances[p] === result.distances[p - 1]) ties++;
    expect(ties).toBeGreaterThan(500);
  });

  it('leaves each training row out of its own list, but keeps its duplicates at distance 0', () => {
    const train = randomMatrix(700, 5, 9);
    expectSameLists(trainingNeighbors(train, 6), referenceNeighbors(train, train, 6, 0));
    // A slice of the training rows with its offset gives the same lists as the full self-query.
    const full = trainingNeighbors(train, 6);
    const part = nearestNeighbors(train, train.sliceRows(301, 452), 6, { selfOffset: 301 });
    expect(Array.from(part.indices)).toEqual(Array.from(full.indices.subarray(301 * 6, 452 * 6)));
    expect(Array.from(part.distances)).toEqual(Array.from(full.distances.subarray(301 * 6, 452 * 6)));

    const dup = new Matrix(4, 1, Float64Array.from([5, 5, 7, 5]));
    const lists = trainingNeighbors(dup, 2);
    expect(Array.from(lists.indices)).toEqual([1, 3, 0, 3, 0, 1, 0, 1]);
    expect(Array.from(lists.distances)).toEqual([0, 0, 0, 0, 2, 2, 0, 0]);
    const tieHeavy = randomMatrix(300, 2, 12, 4);
    expectSameLists(trainingNeighbors(tieHeavy, 9), referenceNeighbors(tieHeavy, tieHeavy, 9, 0));
  });

  it('finds the hand-worked neighbours of points on a line', () => {
    // 0, 1, 3, 6, 10 with k = 3 (each point excluded from its own list):
    //   0 → 1 (1), 3 (3), 6 (6)      1 → 0 (1), 3 (2), 6 (5)      3 → 1 (2), 0 (3), 6 (3): tie, lower index first
    //   6 → 3 (3), 10 (4), 1 (5)     10 → 6 (4), 3 (7), 1 (9)
    const line = new Matrix(5, 1, Float64Array.from([0, 1, 3, 6, 10]));
    const own = trainingNeighbors(line, 3);
    expect(Array.from(own.indices)).toEqual([1, 2, 3, 0, 2, 3, 1, 0, 3, 2, 4, 1, 3, 2, 1]);
    expect(Array.from(own.distances)).toEqual([1, 3, 6, 1, 2, 5, 2, 3, 3, 3, 4, 5, 4, 7, 9]);
    // New points: a copy of a training point finds it at distance 0.
    const fresh = nearestNeighbors(line, new Matrix(2, 1, Float64Array.from([20, 3])), 3);
    expect(Array.from(fresh.indices)).toEqual([4, 3, 2, 2, 1, 0]);
    expect(Array.from(fresh.distances)).toEqual([10, 14, 17, 0, 2, 3]);
  });

  it('writes into caller buffers, leaving anything past the lists alone', () => {
    const train = randomMatrix(50, 3, 1);
    const query = randomMatrix(10, 3, 2);
    const distances = new Float64Array(10 * 4 + 2).fill(-7);
    const indices = new Int32Array(10 * 4 + 2).fill(-7);
    findNearestNeighbors(train, query, 4, distances, indices);
    const expected = referenceNeighbors(train, query, 4);
    expect(Array.from(distances.subarray(0, 40))).toEqual(Array.from(expected.distances));
    expect(Array.from(indices.subarray(0, 40))).toEqual(Array.from(expected.indices));
    expect(Array.from(distances.subarray(40))).toEqual([-7, -7]);
  });

  it('keeps valid lists when squared distances overflow to Infinity', () => {
    // Squares overflow beyond ~1.3e154: 1e160 apart is Infinity, 1e150 apart is finite.
    const x3 = 1e160 + 1e150;
    const train = new Matrix(4, 1, Float64Array.from([1e160, -1e160, 1e160, x3]));
    const self = trainingNeighbors(train, 3);
    // Row 0: row 2 at 0, row 3 at about 1e150, row 1 at Infinity.
    expect(Array.from(self.indices.subarray(0, 3))).toEqual([2, 3, 1]);
    expect(Array.from(self.distances.subarray(0, 3))).toEqual([0, x3 - 1e160, Infinity]);
    // Row 1: nothing finite; the other rows in index order at Infinity, itself still left out.
    expect(Array.from(self.indices.subarray(3, 6))).toEqual([0, 2, 3]);
    expect(Array.from(self.distances.subarray(3, 6))).toEqual([Infinity, Infinity, Infinity]);
    const far = nearestNeighbors(train, new Matrix(1, 1, Float64Array.from([-1.5e308])), 4);
    expect(Array.from(far.indices)).toEqual([0, 1, 2, 3]);
    expect(Array.from(far.distances)).toEqual([Infinity, Infinity, Infinity, Infinity]);
    for (const lists of [self, far]) expect(Math.min(...lists.indices)).toBeGreaterThanOrEqual(0);
  });

  it('rejects impossible requests', () => {
    const train = randomMatrix(6, 2, 1);
    expect(() => nearestNeighbors(train, randomMatrix(2, 3, 2), 1)).toThrow('query has 3 columns but the training set has 2');
    expect(() => nearestNeighbors(train, train, 7)).toThrow('k must be an integer in [1, 6] for 6 training rows; got 7');
    expect(() => nearestNeighbors(train, train, 0)).toThrow(/got 0/);
    expect(() => trainingNeighbors(train, 6)).toThrow('k must be an integer in [1, 5] for 6 training rows (excluding self); got 6');
    expect(() => nearestNeighbors(train, train.sliceRows(2, 6), 2, { selfOffset: 3 })).toThrow(/selfOffset 3 with 4 query rows/);
    expect(() => findNearestNeighbors(train, train, 2, new Float64Array(11), new Int32Array(12))).toThrow(/must hold 12 values/);
  });
});

describe('sampleRowIndices', () => {
  it('draws m distinct sorted rows, the same for the same seed', () => {
    const a = sampleRowIndices(1000, 100, 3);
    expect(a.length).toBe(100);
    for (let i = 1; i < a.length; i++) expect(a[i]).toBeGreaterThan(a[i - 1]);
    expect(a[0]).toBeGreaterThanOrEqual(0);
    expect(a[99]).toBeLessThan(1000);
    expect(Array.from(sampleRowIndices(1000, 100, 3))).toEqual(Array.from(a));
    expect(Array.from(sampleRowIndices(1000, 100, 4))).not.toEqual(Array.from(a));
    expect(Array.from(sampleRowIndices(5, 5, 0))).toEqual([0, 1, 2, 3, 4]);
    expect(sampleRowIndices(5, 0, 0).length).toBe(0);
  });

  it('picks every row equally often', () => {
    const counts = new Array(10).fill(0);
    for (let seed = 0; seed < 3000; seed++) for (const i of sampleRowIndices(10, 3, seed)) counts[i]++;
    // Expected 900 each (sd ≈ 25).
    for (const c of counts) expect(Math.abs(c - 900)).toBeLessThan(120);
  });
});

describe('neighborTrainingSet', () => {
  const params = { nNeighbors: 3, maxTrainRows: 50, seed: 1 };

  it('copies small training sets whole and samples large ones in row order', () => {
    const X = randomMatrix(40, 2, 3);
    const kept = neighborTrainingSet('knn', X, params);
    expect(kept.data).not.toBe(X.data);
    expect(Array.from(kept.data)).toEqual(Array.from(X.data));
    const big = randomMatrix(500, 2, 4);
    const sampled = neighborTrainingSet('knn', big, params);
    expect(sampled.rows).toBe(50);
    expect(Array.from(sampled.data)).toEqual(Array.from(big.selectRows(sampleRowIndices(500, 50, 1)).data));
  });

  it('refuses fewer rows than nNeighbors + 1, naming the option', () => {
    const X = randomMatrix(3, 2, 3);
    expect(() => neighborTrainingSet('lof', X, params)).toThrow(
      'lof: option "nNeighbors" (3) must be less than the number of training rows (3): each training row is scored by its 3 nearest other rows; lower nNeighbors or fit on more rows',
    );
    try {
      neighborTrainingSet('lof', X, params);
    } catch (error) {
      expect(error).toBeInstanceOf(DetectorOptionError);
      expect((error as DetectorOptionError).option).toBe('nNeighbors');
    }
    expect(neighborTrainingSet('lof', randomMatrix(4, 2, 3), params).rows).toBe(4);
    expect(() => neighborTrainingSet('lof', randomMatrix(40, 2, 3), { ...params, maxTrainRows: 3 })).toThrow(
      'lof: option "nNeighbors" (3) must be less than option "maxTrainRows" (3)',
    );
  });
});
