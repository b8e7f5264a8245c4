/**
 * The approximate index's stated quality, on every ODDS dataset (tests/accuracy/data, the same
 * files as ../shared/datasets/odds): PyOD's seed-0 split, standardised with the training mean
 * and standard deviation as the accuracy test does, then
 *   - k-th-neighbour recall ≥ 0.99: over all query rows, the share of the k returned neighbours
 *     that are no farther than the exact k-th neighbour (ties count), for the training rows'
 *     own lists (fit) and the test rows' (scoring), k = 5 (KNN's default) and 20 (LOF's);
 *   - the same recall for the training rows' lists a fit takes from the HNSW build itself;
 *   - ROC-AUC of KNN and LOF fitted with index 'hnsw' within 0.005 of the exact ones.
 */
import * as fs from 'fs';
import * as path from 'path';
import { KNN } from '../../../src/scoring/knn';
import { LOF } from '../../../src/scoring/lof';
import { Matrix } from '../../../src/scoring/matrix';
import { rocAuc } from '../../../src/scoring/metrics';
import { buildNeighborIndex, NeighborIndex } from '../../../src/scoring/neighborIndex';
import { searchNeighbors, trainingNeighbors } from '../../../src/scoring/neighbors';
import { trainTestSplit } from '../../accuracy/numpySplit';

const DATA_DIR = path.join(__dirname, '..', '..', 'accuracy', 'data');
const DATASETS = ['cardio', 'glass', 'ionosphere', 'pendigits', 'pima', 'satellite', 'shuttle', 'wbc'];

function load(name: string): { train: Matrix; test: Matrix; testLabels: Uint8Array } {
  const lines = fs.readFileSync(path.join(DATA_DIR, `${name}.csv`), 'utf8').trim().split('\n').slice(1);
  const cols = lines[0].split(',').length - 1;
  const X = new Float64Array(lines.length * cols);
  const labels = new Uint8Array(lines.length);
  lines.forEach((line, r) => {
    const fields = line.split(',');
    for (let c = 0; c < cols; c++) X[r * cols + c] = Number(fields[c]);
    labels[r] = Number(fields[cols]);
  });
  const split = trainTestSplit(lines.length, 0.4, 0);
  const pick = (rows: Int32Array): Matrix => {
    const out = new Float64Array(rows.length * cols);
    rows.forEach((r, i) => out.set(X.subarray(r * cols, r * cols + cols), i * cols));
    return new Matrix(rows.length, cols, out);
  };
  const train = pick(split.train);
  const test = pick(split.test);
  for (let c = 0; c < cols; c++) {
    let mean = 0;
    for (let r = 0; r < train.rows; r++) mean += train.data[r * cols + c] / train.rows;
    let variance = 0;
    for (let r = 0; r < train.rows; r++) variance += (train.data[r * cols + c] - mean) ** 2 / train.rows;
    const sd = variance > 0 ? Math.sqrt(variance) : 1;
    for (const m of [train, test]) for (let r = 0; r < m.rows; r++) m.data[r * cols + c] = (m.data[r * cols + c] - mean) / sd;
  }
  return { train, test, testLabels: Uint8Array.from(split.test, (r) => labels[r]) };
}

/** Share of approximate neighbours no farther than the exact k-th (ties count as found). */
function recall(exact: Float64Array, approximate: Float64Array, k: number): number {
  let found = 0;
  for (let i = 0; i < exact.length / k; i++) {
    const kth = exact[i * k + k - 1];
    for (let p = 0; p < k; p++) if (approximate[i * k + p] <= kth) found++;
  }
  return found / exact.length;
}

function distances(index: NeighborIndex, query: Matrix, k: number, self: boolean): Float64Array {
  const out = new Float64Array(query.rows * k);
  searchNeighbors(index, query, k, out, new Int32Array(query.rows * k), self ? { selfOffset: 0 } : {});
  return out;
}

describe('HNSW index on the ODDS datasets', () => {
  it.each(DATASETS)('%s: k-th-neighbour recall ≥ 0.99 and KNN/LOF ROC-AUC within 0.005 of exact', (name) => {
    const { train, test, testLabels } = load(name);
    const exact = buildNeighborIndex('kdtree', train, 0);
    const approximate = buildNeighborIndex('hnsw', train, 0);
    for (const k of [5, 20]) {
      expect(recall(distances(exact, train, k, true), distances(approximate, train, k, true), k)).toBeGreaterThanOrEqual(0.99);
      expect(recall(distances(exact, test, k, false), distances(approximate, test, k, false), k)).toBeGreaterThanOrEqual(0.99);
    }
    // The lists a fit takes from the build (HNSW fitted for this k) instead of searching.
    for (const k of [5, 20]) {
      const fitted = trainingNeighbors(train, k, buildNeighborIndex('hnsw', train, 0, k));
      expect(recall(distances(exact, train, k, true), fitted.distances, k)).toBeGreaterThanOrEqual(0.99);
    }
    const auc = (model: { score(X: Matrix): Float64Array }): number => rocAuc(testLabels, model.score(test));
    expect(Math.abs(auc(KNN.fit(train, { index: 'hnsw' })) - auc(KNN.fit(train, { index: 'kdtree' })))).toBeLessThanOrEqual(0.005);
    expect(Math.abs(auc(LOF.fit(train, { index: 'hnsw' })) - auc(LOF.fit(train, { index: 'kdtree' })))).toBeLessThanOrEqual(0.005);
  });
});
