import { DetectorOptionError } from '../../../src/scoring/detector';
import { Matrix } from '../../../src/scoring/matrix';
import { SeededRandom } from '../../../src/scoring/random';
import { checkDetectorOptions, fitDetector, supportedAlgorithms } from '../../../src/scoring/registry';

/**
 * The data-free option check the workflows run must refuse what fitting refuses, with the same
 * error: the detectors' option specs stay the one source of what is allowed.
 */
const random = new SeededRandom(5);
const X = new Matrix(200, 3, Float64Array.from({ length: 600 }, () => random.next()));

const bad: Array<[string, unknown]> = [
  ...supportedAlgorithms()
    .filter((a) => a !== 'pipeline' && a !== 'ensemble')
    .flatMap((a): Array<[string, unknown]> => [
      [a, { contamination: -5 }],
      [a, { noSuchOption: 1 }],
      [a, { contamination: '0.1' }],
      [a, [1]],
    ]),
  ['isolation-forest', { nTrees: 0 }],
  ['knn', { nNeighbors: 30, maxTrainRows: 30 }],
  ['lof', { nNeighbors: 2.5 }],
  ['ensemble', { members: [] }],
  ['ensemble', { members: [{ algorithm: 'pca' }], normalization: 'max' }],
  ['ensemble', { members: [{ algorithm: 'hbos', options: { nBins: -1 } }] }],
  ['ensemble', { members: [{ algorithm: 'ensemble', options: { members: [{ algorithm: 'nope' }] } }] }],
  ['pipeline', { standardize: 'zscore' }],
  ['pipeline', { detector: { algorithm: 'pca', options: { weighted: 3 } } }],
  ['nope', {}],
];

function errorOf(work: () => unknown): DetectorOptionError | undefined {
  try {
    work();
  } catch (err) {
    return err as DetectorOptionError;
  }
  return undefined;
}

describe('checking detector options without data', () => {
  it.each(bad)('refuses %s %j exactly as fitting does', (algorithm, options) => {
    const fromFit = errorOf(() => fitDetector(algorithm, X, options));
    expect(fromFit).toBeInstanceOf(DetectorOptionError);
    const fromCheck = errorOf(() => checkDetectorOptions(algorithm, options));
    expect(fromCheck).toBeInstanceOf(DetectorOptionError);
    expect({ message: fromCheck?.message, option: fromCheck?.option }).toEqual({ message: fromFit?.message, option: fromFit?.option });
  });

  it.each([
    ['isolation-forest', { nTrees: 10, seed: 3 }],
    ['knn-median', { nNeighbors: 5 }],
    ['ensemble', { members: [{ algorithm: 'pca' }, { algorithm: 'copod' }], normalization: 'rank' }],
    ['pipeline', { standardize: 'robust', detector: { algorithm: 'robust-z' } }],
  ])('accepts %s %j, as fitting does', (algorithm, options) => {
    expect(() => fitDetector(algorithm, X, options)).not.toThrow();
    expect(() => checkDetectorOptions(algorithm, options)).not.toThrow();
  });
});
