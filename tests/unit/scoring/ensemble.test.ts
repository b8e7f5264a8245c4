import { createHash } from 'node:crypto';
import { decodeModel, encodeModel, ModelCodecError } from '../../../src/scoring/codec';
import { Detector, DetectorInputError, DetectorOptionError, DetectorState } from '../../../src/scoring/detector';
import { Ensemble } from '../../../src/scoring/ensemble';
import { IsolationForest } from '../../../src/scoring/isolationForest';
import { Matrix } from '../../../src/scoring/matrix';
import { rocAuc } from '../../../src/scoring/metrics';
import { Pca } from '../../../src/scoring/pca';
import { Pipeline } from '../../../src/scoring/pipeline';
import { fitDetector, fitEnsemble, supportedAlgorithms } from '../../../src/scoring/registry';
import { thresholdFromContamination } from '../../../src/scoring/threshold';
import { clusterWithOutliers } from './syntheticData';

function sameBits(a: Float64Array, b: Float64Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Fraction of `reference` that is ≤ s. */
function ecdf(reference: Float64Array, s: number): number {
  return reference.filter((r) => r <= s).length / reference.length;
}

function stateDetector(state: DetectorState): Detector {
  return {
    algorithm: state.algorithm,
    nFeatures: state.nFeatures,
    threshold: state.threshold,
    params: state.params,
    score: () => new Float64Array(0),
    predict: () => new Uint8Array(0),
    toState: () => state,
  };
}

function codecFailure(input: Uint8Array): string {
  try {
    decodeModel(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ModelCodecError);
    return `${(error as ModelCodecError).reason}: ${(error as Error).message}`;
  }
  throw new Error('expected a ModelCodecError');
}

function optionError(fn: () => unknown): DetectorOptionError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DetectorOptionError);
    return error as DetectorOptionError;
  }
  throw new Error('expected a DetectorOptionError');
}

/** A signed model file with the given JSON header and no section bytes. */
function craftFile(header: unknown): Uint8Array {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const bodyLength = Math.ceil((20 + json.length) / 8) * 8;
  const file = new Uint8Array(bodyLength + 32);
  const view = new DataView(file.buffer);
  file.set([0x4e, 0x4d, 0x4c, 0x59], 0);
  view.setUint16(4, 1, true);
  view.setBigUint64(8, BigInt(file.length), true);
  view.setUint32(16, json.length, true);
  file.set(json, 20);
  file.set(createHash('sha256').update(file.subarray(0, bodyLength)).digest(), bodyLength);
  return file;
}

describe('Ensemble', () => {
  const { X, labels } = clusterWithOutliers(800, 12, 5, 21);
  const members = [
    { algorithm: 'isolation-forest', options: { nTrees: 40, seed: 5 } },
    { algorithm: 'pca', options: {} },
  ];

  it('averages the members\' training-score ECDFs, with the threshold from contamination', () => {
    const ensemble = fitEnsemble(X, { members, contamination: 0.05 });
    expect(ensemble).toBeInstanceOf(Ensemble);
    expect(ensemble.algorithm).toBe('ensemble');
    expect(ensemble.normalization).toBe('ecdf');
    expect(ensemble.params).toEqual({ contamination: 0.05, ecdfPoints: 10_000 });
    const forest = IsolationForest.fit(X, { nTrees: 40, seed: 5 });
    const pca = Pca.fit(X);
    expect(ensemble.members[0].score(X)).toEqual(forest.score(X));
    const forestTrain = forest.score(X);
    const pcaTrain = pca.score(X);

    const scores = ensemble.score(X);
    for (const i of [0, 17, 799, 800, 811]) {
      expect(scores[i]).toBeCloseTo((ecdf(forestTrain, forestTrain[i]) + ecdf(pcaTrain, pcaTrain[i])) / 2, 14);
    }
    expect(ensemble.threshold).toBe(thresholdFromContamination(scores, 0.05));
    // New data maps through the training ECDFs (a score beyond every training score maps to 1).
    const probe = new Matrix(2, 5, Float64Array.from([30, 30, 30, 30, 30, 0, 0, 0, 0, 0]));
    const probeScores = ensemble.score(probe);
    const forestProbe = forest.score(probe);
    const pcaProbe = pca.score(probe);
    expect(ecdf(pcaTrain, pcaProbe[0])).toBe(1);
    for (const i of [0, 1]) {
      expect(probeScores[i]).toBeCloseTo((ecdf(forestTrain, forestProbe[i]) + ecdf(pcaTrain, pcaProbe[i])) / 2, 14);
    }
    for (const s of scores) {
      expect(s).toBeGreaterThan(0);
      expect(s).toBeLessThanOrEqual(1);
    }
    expect(rocAuc(labels, scores)).toBeGreaterThan(0.99);
    const predicted = ensemble.predict(X);
    for (let i = 800; i < 812; i++) expect(predicted[i]).toBe(1);
    // A row scores the same alone as in a batch: the normalisation is fitted, not batch-relative.
    expect(ensemble.score(X.sliceRows(805, 806))[0]).toBe(scores[805]);
  });

  it('ranks within the scored batch in "rank" mode', () => {
    const ensemble = fitEnsemble(X, { members, normalization: 'rank' });
    expect(ensemble.normalization).toBe('rank');
    const forest = ensemble.members[0];
    const pca = ensemble.members[1];
    const batch = X.sliceRows(790, 812);
    const f = forest.score(batch);
    const p = pca.score(batch);
    const scores = ensemble.score(batch);
    for (let i = 0; i < batch.rows; i++) expect(scores[i]).toBeCloseTo((ecdf(f, f[i]) + ecdf(p, p[i])) / 2, 14);
    // The training scores use the training batch, so threshold = percentile of score(X).
    expect(ensemble.threshold).toBe(thresholdFromContamination(ensemble.score(X), 0.1));
    // A single row is its own whole batch.
    expect(Array.from(ensemble.score(X.sliceRows(3, 4)))).toEqual([1]);
    expect(ensemble.score(X.sliceRows(0, 0)).length).toBe(0);
    expect(ensemble.predict(X)).toEqual(Uint8Array.from(ensemble.score(X), (s) => (s > ensemble.threshold ? 1 : 0)));
  });

  it('keeps at most ecdfPoints evenly spaced training scores per member', () => {
    const ensemble = fitEnsemble(X, { members, ecdfPoints: 50 });
    const state = ensemble.toState();
    const reference = state.sections.find((s) => s.name === 'reference.0')?.data as Float64Array;
    expect(reference.length).toBe(50);
    const sorted = Float64Array.from(ensemble.members[0].score(X)).sort();
    expect(reference[0]).toBe(sorted[0]);
    expect(reference[49]).toBe(sorted[811]);
    const scores = ensemble.score(X);
    // Step ECDF on 50 points: multiples of 1/50 averaged over 2 members.
    for (const s of scores) expect(Math.abs(s * 100 - Math.round(s * 100))).toBeLessThan(1e-9);
  });

  it('round-trips composites (an ensemble of a pipeline and plain detectors) with identical scores and bytes', () => {
    const nested = fitDetector('ensemble', X, {
      members: [
        ...members,
        { algorithm: 'pipeline', options: { standardize: 'robust', detector: { algorithm: 'isolation-forest', options: { nTrees: 20, seed: 2 } } } },
      ],
      normalization: 'ecdf',
      contamination: 0.02,
    }) as Ensemble;
    const bytes = encodeModel(nested);
    const decoded = decodeModel(bytes) as Ensemble;
    expect(decoded).toBeInstanceOf(Ensemble);
    expect(decoded.members.map((m) => m.algorithm)).toEqual(['isolation-forest', 'pca', 'pipeline']);
    expect((decoded.members[2] as Pipeline).inner).toBeInstanceOf(IsolationForest);
    expect(decoded.threshold).toBe(nested.threshold);
    expect(decoded.params).toEqual(nested.params);
    expect(sameBits(decoded.score(X), nested.score(X))).toBe(true);
    expect(decoded.predict(X)).toEqual(nested.predict(X));
    expect(Buffer.from(encodeModel(decoded)).equals(Buffer.from(bytes))).toBe(true);
    const again = fitDetector('ensemble', X, {
      members: [
        ...members,
        { algorithm: 'pipeline', options: { standardize: 'robust', detector: { algorithm: 'isolation-forest', options: { nTrees: 20, seed: 2 } } } },
      ],
      contamination: 0.02,
    });
    expect(Buffer.from(encodeModel(again)).equals(Buffer.from(bytes))).toBe(true);

    const rank = fitEnsemble(X, { members, normalization: 'rank' });
    const rankBytes = encodeModel(rank);
    const rankDecoded = decodeModel(rankBytes);
    expect(rankDecoded.toState().sections).toHaveLength(0);
    expect(sameBits(rankDecoded.score(X), rank.score(X))).toBe(true);
    expect(Buffer.from(encodeModel(rankDecoded)).equals(Buffer.from(rankBytes))).toBe(true);
  });

  it('rejects corrupt composite files', () => {
    const ensemble = fitEnsemble(X, { members });
    const bytes = encodeModel(ensemble);
    for (const at of [25, bytes.length >> 1, bytes.length - 33]) {
      const damaged = Uint8Array.from(bytes);
      damaged[at] ^= 0x04;
      expect(codecFailure(damaged)).toMatch(/^corrupt: model file is corrupt: SHA-256 checksum mismatch/);
    }
    expect(codecFailure(bytes.subarray(0, bytes.length - 64))).toMatch(/^truncated: /);

    const state = ensemble.toState();
    const children = state.children as readonly DetectorState[];
    const withChildren = (replaced: DetectorState[]) => encodeModel(stateDetector({ ...state, children: replaced }));
    expect(codecFailure(withChildren([children[0], { ...children[1], algorithm: 'deep-svdd' }]))).toBe(
      `unknown-algorithm: model uses algorithm "deep-svdd" (in children[1]), which this build does not support (supported: ${supportedAlgorithms().join(', ')})`,
    );
    // Deeper: an unknown algorithm inside a pipeline inside the ensemble.
    const pipelineState = fitDetector('pipeline', X, { detector: { algorithm: 'pca' } }).toState();
    const alienPipeline = { ...pipelineState, children: [{ ...(pipelineState.children as DetectorState[])[0], algorithm: 'autoencoder' }] };
    expect(codecFailure(withChildren([children[0], alienPipeline]))).toMatch(/^unknown-algorithm: model uses algorithm "autoencoder" \(in children\[1\]\.children\[0\]\)/);
    expect(codecFailure(withChildren([children[0], { ...children[1], nFeatures: 2 }]))).toMatch(/^invalid: .*ensemble: member 1: pca: invalid model state/);
    expect(codecFailure(withChildren([]))).toMatch(/^invalid: .*ensemble: invalid model state: it has 0 members/);
    expect(codecFailure(encodeModel(stateDetector({ ...state, sections: state.sections.slice(0, 1) })))).toMatch(/no "reference.1" section/);
    const unsorted = Float64Array.from(state.sections[0].data).reverse();
    expect(codecFailure(encodeModel(stateDetector({ ...state, sections: [{ name: 'reference.0', data: unsorted }, state.sections[1]] })))).toMatch(
      /reference.0 is not a sorted list of finite scores/,
    );
    expect(codecFailure(encodeModel(stateDetector({ ...state, settings: { normalization: 'zscore' } })))).toMatch(/normalization is string "zscore"/);

    // Hand-made headers the encoder would never write.
    const node = { algorithm: 'ensemble', nFeatures: 5, threshold: 0.5, params: {}, sections: [] };
    expect(codecFailure(craftFile({ ...node, children: 'none' }))).toBe('invalid: model file header is invalid: "children" is not an array');
    expect(codecFailure(craftFile({ ...node, children: [{ ...node, params: { a: 'b' } }] }))).toBe(
      'invalid: model file header is invalid: param "a" is not a number (in children[0])',
    );
    expect(codecFailure(craftFile({ ...node, settings: { normalization: 1 } }))).toBe('invalid: model file header is invalid: setting "normalization" is not a string');
    let deep: Record<string, unknown> = { ...node };
    for (let i = 0; i < 10; i++) deep = { ...node, children: [deep] };
    expect(codecFailure(craftFile(deep))).toMatch(/^invalid: model file header is invalid: detectors are nested more than 8 levels deep/);
    // A child section that the header says exists but the file lacks.
    const missingBytes = { ...node, children: [{ ...node, sections: [{ name: 'x', dtype: 'float64', length: 4 }] }] };
    expect(codecFailure(craftFile(missingBytes))).toBe('invalid: model file header is invalid: section "x" runs past the end (in children[0])');
  });

  it('validates options from JSON, naming the member and the option', () => {
    const badMemberOption = optionError(() =>
      fitEnsemble(X, { members: [members[0], { algorithm: 'pca', options: { nComponents: -1 } }] }),
    );
    expect(badMemberOption.message).toBe('ensemble: members[1] ("pca"): pca: option "nComponents" must be an integer in [0, 1000000]; got -1');
    expect(badMemberOption.option).toBe('members[1].options.nComponents');

    const unknownMemberOption = optionError(() => fitEnsemble(X, { members: [{ algorithm: 'isolation-forest', options: { trees: 5 } }] }));
    expect(unknownMemberOption.message).toMatch(/^ensemble: members\[0\] \("isolation-forest"\): isolation-forest: unknown option "trees"/);
    expect(unknownMemberOption.option).toBe('members[0].options.trees');

    const unknownAlgorithm = optionError(() => fitEnsemble(X, { members: [members[0], { algorithm: 'svm' }] }));
    expect(unknownAlgorithm.message).toMatch(/^ensemble: members\[1\] \("svm"\): unknown algorithm "svm"\. Supported algorithms: /);
    expect(unknownAlgorithm.option).toBe('members[1].algorithm');

    const nested = optionError(() =>
      fitDetector('ensemble', X, { members: [{ algorithm: 'pipeline', options: { detector: { algorithm: 'pca', options: { weighted: 3 } } } }] }),
    );
    expect(nested.message).toBe(
      'ensemble: members[0] ("pipeline"): pipeline: detector "pca": pca: option "weighted" must be an integer in [0, 1]; got 3',
    );
    expect(nested.option).toBe('members[0].options.detector.options.weighted');

    const noAlgorithm = optionError(() => fitDetector('ensemble', X, { members: [{ options: {} }] }));
    expect(noAlgorithm.message).toBe('ensemble: members[0]: "algorithm" must be a non-empty string; got undefined');
    expect(noAlgorithm.option).toBe('members[0].algorithm');
    expect(optionError(() => fitDetector('ensemble', X, { members: [{ algorithm: 'pca', options: [1] }] })).option).toBe('members[0].options');
    expect(optionError(() => fitDetector('ensemble', X, { members: [{ algorithm: 'pca', seed: 1 }] })).option).toBe('members[0].seed');
    expect(optionError(() => fitDetector('ensemble', X, { members: ['pca'] })).message).toMatch(/^ensemble: members\[0\] must be an object like/);
    expect(optionError(() => fitDetector('ensemble', X, { members: [] })).message).toMatch(/option "members" must be an array of 1 to 32 detectors .*; got 0 members/);
    expect(optionError(() => fitDetector('ensemble', X, {})).option).toBe('members');
    expect(optionError(() => fitDetector('ensemble', X, { members, normalization: 'minmax' })).message).toBe(
      'ensemble: option "normalization" must be one of "ecdf", "rank"; got string "minmax"',
    );
    expect(optionError(() => fitDetector('ensemble', X, { members, contamination: 0.7 })).message).toMatch(/ensemble: option "contamination" must be a number in \(0, 0.5\]; got 0.7/);
    const extra = optionError(() => fitDetector('ensemble', X, { members, weights: [1, 2] }));
    expect(extra.message).toBe('ensemble: unknown option "weights". Allowed options: members, normalization, contamination, ecdfPoints');
    expect(extra.option).toBe('weights');
  });

  it('rejects bad data with clear errors', () => {
    expect(() => fitEnsemble(new Matrix(0, 3, new Float64Array(0)), { members })).toThrow(/members\[0\] \("isolation-forest"\): isolation-forest: cannot fit on a dataset with 0 rows/);
    expect(() => fitEnsemble(new Matrix(2, 1, Float64Array.from([1, NaN])), { members: [{ algorithm: 'isolation-forest' }] })).toThrow(DetectorInputError);
    const single = () => fitEnsemble(new Matrix(1, 2, Float64Array.from([1, 2])), { members });
    expect(single).toThrow(DetectorInputError);
    expect(single).toThrow(/^ensemble: members\[1\] \("pca"\): pca: cannot fit on 1 row/);
    const ensemble = fitEnsemble(X, { members });
    expect(() => ensemble.score(new Matrix(1, 4, new Float64Array(4)))).toThrow('ensemble: model was fitted on 5 columns but the data has 4');
    expect(() => ensemble.score(new Matrix(1, 5, Float64Array.from([0, 0, 0, NaN, 0])))).toThrow(/ensemble: data has a non-finite value \(NaN\) at row 0, column 3/);
    const narrow = Pca.fit(new Matrix(3, 2, Float64Array.from([1, 2, 3, 5, 4, 4])));
    expect(() => Ensemble.fitWith(X, [narrow])).toThrow('ensemble: member 0 (pca) has 2 features but the data has 5');
  });
});
