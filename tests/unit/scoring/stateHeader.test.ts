/**
 * Every detector's fromState rejects a state saved by another algorithm, with no features or
 * with a non-finite threshold — the checks they share through checkStateHeader.
 */
import { detectorFromState, fitDetector, Matrix, SeededRandom, supportedAlgorithms } from '../../../src/scoring';

const COMPOSITE_OPTIONS: Record<string, unknown> = {
  pipeline: { standardize: 'zscore', detector: { algorithm: 'hbos' } },
  ensemble: { members: [{ algorithm: 'hbos' }, { algorithm: 'ecod' }] },
  impute: { missing: 'median', detector: { algorithm: 'hbos' } },
  encode: { columns: ['number', 'timestamp', 'number'], detector: { algorithm: 'hbos' } },
};

function data(rows: number, cols: number): Matrix {
  const rng = new SeededRandom(7);
  const values = new Float64Array(rows * cols);
  for (let i = 0; i < values.length; i++) values[i] = rng.next() * 10;
  return new Matrix(rows, cols, values);
}

describe.each(supportedAlgorithms())('%s fromState', (algorithm) => {
  const state = fitDetector(algorithm, data(120, 3), COMPOSITE_OPTIONS[algorithm]).toState();

  it('loads its own state', () => {
    expect(detectorFromState(state).algorithm).toBe(algorithm);
  });

  it.each([0, -1, 1.5])('refuses nFeatures %p', (nFeatures) => {
    expect(() => detectorFromState({ ...state, nFeatures })).toThrow(/invalid model state|nFeatures/);
  });

  it.each([NaN, Infinity])('refuses a threshold of %p', (threshold) => {
    expect(() => detectorFromState({ ...state, threshold })).toThrow(`invalid model state: threshold is ${threshold}`);
  });
});
