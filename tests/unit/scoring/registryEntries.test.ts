import { getDetectorFactory, supportedAlgorithms, trainableAlgorithms } from '../../../src/scoring/registry';

/** What each registry entry declares for the platform: seed, whether offered, default training rows. */
describe('detector registry entries', () => {
  it('declares a seed exactly for detectors whose options include one', () => {
    const seeded = supportedAlgorithms().filter((name) => getDetectorFactory(name).takesSeed);
    expect(seeded).toEqual(['isolation-forest', 'knn', 'knn-mean', 'knn-median', 'lof']);
  });

  it('offers every detector but the pipeline, the imputer and the encoder as an algorithm (they are `standardize`, `missing` and the column types)', () => {
    expect(supportedAlgorithms().filter((name) => !trainableAlgorithms().includes(name))).toEqual(['pipeline', 'impute', 'encode']);
  });

  it('keeps as many training rows as each detector needs, and follows the options that set it', () => {
    expect(getDetectorFactory('isolation-forest').trainingRows({})).toBe(65_536);
    expect(getDetectorFactory('isolation-forest').trainingRows({ thresholdRows: 0 })).toBe(1_000_000);
    expect(getDetectorFactory('isolation-forest').trainingRows({ thresholdRows: 10 })).toBe(1024);
    for (const name of ['knn', 'knn-mean', 'knn-median', 'lof']) {
      expect(getDetectorFactory(name).trainingRows({})).toBe(20_000);
      expect(getDetectorFactory(name).trainingRows({ maxTrainRows: 500 })).toBe(500);
    }
    for (const name of ['hbos', 'ecod', 'copod', 'robust-z', 'pca', 'ensemble']) expect(getDetectorFactory(name).trainingRows({})).toBe(100_000);
  });
});
