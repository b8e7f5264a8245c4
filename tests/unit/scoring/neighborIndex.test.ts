import { decodeModel, encodeModel } from '../../../src/scoring/codec';
import { Detector, DetectorInputError, DetectorOptionError, DetectorState } from '../../../src/scoring/detector';
import { KNN } from '../../../src/scoring/knn';
import { LOF } from '../../../src/scoring/lof';
import { Matrix } from '../../../src/scoring/matrix';
import { chooseIndexKind, probeNeighborIndex } from '../../../src/scoring/neighborIndex';
import { SeededRandom } from '../../../src/scoring/random';
import { detectorFromState, fitDetector } from '../../../src/scoring/registry';

function clustered(rows: number, cols: number, seed: number): Matrix {
  const rng = new SeededRandom(seed);
  const data = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const centre = rng.nextInt(4) * 3;
    for (let c = 0; c < cols; c++) data[r * cols + c] = centre + rng.next() + rng.next() - 1;
  }
  return new Matrix(rows, cols, data);
}

const bytes = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function withoutSettings(state: DetectorState): DetectorState {
  const { settings: _dropped, ...rest } = state;
  return rest;
}

const FITS: [string, (X: Matrix, options: object) => Detector][] = [
  ['knn', (X, options) => KNN.fit(X, options)],
  ['knn-median', (X, options) => KNN.fit(X, options, 'median')],
  ['lof', (X, options) => LOF.fit(X, options)],
];

describe('neighbour index choice', () => {
  it("'auto' searches small sets exactly, large ones with the KD-tree where it prunes well, else HNSW", () => {
    expect(chooseIndexKind('auto', 49_999, 48)).toBe('kdtree');
    expect(chooseIndexKind('auto', 1_000, 36)).toBe('kdtree');
    expect(chooseIndexKind('auto', 49_999, 128)).toBe('brute');
    expect(chooseIndexKind('auto', 50_000, 64)).toBe('probe');
    expect(chooseIndexKind('auto', 50_000, 65)).toBe('hnsw');
    // The probe: 60,000 rows on a 2-d grid prune well; uniform rows in 40-d do not (the tree
    // compares each probe with nearly all 8,000 rows, beyond the 4,096 allowed).
    const grid = new Matrix(60_000, 2, Float64Array.from({ length: 120_000 }, (_, i) => (i % 2 === 0 ? Math.floor(i / 2) % 300 : Math.floor(i / 600))));
    expect(probeNeighborIndex(grid, 5, 0).kind).toBe('kdtree');
    const rng = new SeededRandom(3);
    const noise = new Matrix(8_000, 40, Float64Array.from({ length: 8_000 * 40 }, () => rng.next()));
    expect(probeNeighborIndex(noise, 5, 0).kind).toBe('hnsw');
    for (const forced of ['kdtree', 'hnsw', 'brute'] as const) expect(chooseIndexKind(forced, 1_000_000, 64)).toBe(forced);
  });

  it('rejects a bad index option with a DetectorOptionError naming it and the allowed values', () => {
    const X = clustered(60, 2, 1);
    for (const algorithm of ['knn', 'knn-mean', 'lof']) {
      for (const [value, shown] of [['ball_tree', '"ball_tree"'], [2, '2'], [null, 'object'], ['KDTREE', '"KDTREE"']] as const) {
        let caught: unknown;
        try {
          fitDetector(algorithm, X, { index: value });
        } catch (error) {
          caught = error;
        }
        expect(caught).toBeInstanceOf(DetectorOptionError);
        expect((caught as DetectorOptionError).option).toBe('index');
        expect((caught as Error).message).toBe(`${algorithm}: option "index" must be one of "auto", "kdtree", "hnsw", "brute"; got ${shown}`);
      }
    }
  });

  it.each(FITS)('%s: the KD-tree and brute force give the same threshold and scores, bit for bit', (_name, fit) => {
    const train = clustered(3000, 5, 2);
    const test = clustered(700, 5, 3);
    const tree = fit(train, { index: 'kdtree' });
    const brute = fit(train, { index: 'brute' });
    expect(tree.threshold).toBe(brute.threshold);
    expect(bytes(tree.score(test)).equals(bytes(brute.score(test)))).toBe(true);
    expect((tree as KNN | LOF).indexKind).toBe('kdtree');
    expect((fit(train, {}) as KNN | LOF).indexKind).toBe('kdtree');
  });

  it.each(FITS)('%s with HNSW: same seed and data give the same model bytes; the graph is stored and reloaded', (_name, fit) => {
    const train = clustered(2500, 30, 4);
    const test = clustered(300, 30, 5);
    const model = fit(train, { index: 'hnsw', seed: 7 });
    const file = encodeModel(model);
    expect(bytes(encodeModel(fit(train, { index: 'hnsw', seed: 7 }))).equals(bytes(file))).toBe(true);
    // Another seed draws other levels, so another graph.
    expect(bytes(encodeModel(fit(train, { index: 'hnsw', seed: 8 }))).equals(bytes(file))).toBe(false);
    const loaded = decodeModel(file);
    const state = loaded.toState();
    expect(state.settings).toEqual({ index: 'hnsw' });
    expect(state.sections.map((s) => s.name)).toEqual(expect.arrayContaining(['hnswLevels', 'hnswLinks0', 'hnswLinksUpper']));
    expect(bytes(loaded.score(test)).equals(bytes(model.score(test)))).toBe(true);
    expect(bytes(encodeModel(loaded)).equals(bytes(file))).toBe(true);
  });

  it.each(FITS)('%s: a model saved before indexes existed (no settings) loads with the exact KD-tree and scores as before', (_name, fit) => {
    const train = clustered(1500, 4, 6);
    const test = clustered(200, 4, 7);
    const brute = fit(train, { index: 'brute' });
    const old = withoutSettings(decodeModel(encodeModel(brute)).toState());
    const loaded = detectorFromState(old) as KNN | LOF;
    expect(loaded.indexKind).toBe('kdtree');
    expect(bytes(loaded.score(test)).equals(bytes(brute.score(test)))).toBe(true);
  });

  it('rejects a damaged HNSW graph or an unknown index in a model state', () => {
    const model = KNN.fit(clustered(400, 30, 8), { index: 'hnsw' });
    const state = model.toState();
    const links0 = (state.sections.find((s) => s.name === 'hnswLinks0')!.data as Int32Array).slice();
    links0[2] = 400;
    const damaged: DetectorState = { ...state, sections: state.sections.map((s) => (s.name === 'hnswLinks0' ? { name: s.name, data: links0 } : s)) };
    expect(() => KNN.fromState(damaged)).toThrow(DetectorInputError);
    expect(() => KNN.fromState(damaged)).toThrow(/knn: invalid model state: HNSW row 0 links to row 400/);
    const missing: DetectorState = { ...state, sections: state.sections.filter((s) => s.name !== 'hnswLevels') };
    expect(() => KNN.fromState(missing)).toThrow('knn: model state has no "hnswLevels" section');
    expect(() => KNN.fromState({ ...state, settings: { index: 'octree' } })).toThrow('knn: invalid model state: unknown neighbour index "octree"');
  });
});
