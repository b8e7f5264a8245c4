import { decodeModel, encodeModel, ModelCodecError } from '../../../src/scoring/codec';
import { Detector, DetectorInputError, DetectorOptionError, DetectorState } from '../../../src/scoring/detector';
import { IsolationForest } from '../../../src/scoring/isolationForest';
import { Matrix } from '../../../src/scoring/matrix';
import { Pca } from '../../../src/scoring/pca';
import { Pipeline, PIPELINE_BLOCK_ROWS } from '../../../src/scoring/pipeline';
import { fitDetector, fitPipeline } from '../../../src/scoring/registry';
import { Standardizer } from '../../../src/scoring/standardizer';
import { clusterWithOutliers } from './syntheticData';

function sameBits(a: Float64Array, b: Float64Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Columns on very different scales, so standardisation changes the model. */
function skewedData(inliers: number, seed: number): { X: Matrix; labels: Uint8Array } {
  const { X, labels } = clusterWithOutliers(inliers, 10, 4, seed);
  const data = X.data.map((v, i) => v * 10 ** (i % 4) + 5 * (i % 4));
  return { X: new Matrix(X.rows, X.cols, data), labels };
}

/** A detector stand-in that encodes an arbitrary state, to craft files the codec must reject. */
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

function optionError(fn: () => unknown): DetectorOptionError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DetectorOptionError);
    return error as DetectorOptionError;
  }
  throw new Error('expected a DetectorOptionError');
}

describe('Pipeline', () => {
  const { X } = skewedData(600, 4);

  it('scores exactly like standardising by hand and fitting the inner detector', () => {
    for (const standardize of ['zscore', 'robust'] as const) {
      const pipeline = fitDetector('pipeline', X, {
        standardize,
        detector: { algorithm: 'isolation-forest', options: { nTrees: 40, seed: 3 } },
      }) as Pipeline;
      expect(pipeline).toBeInstanceOf(Pipeline);
      expect(pipeline.algorithm).toBe('pipeline');
      expect(pipeline.standardize).toBe(standardize);
      const standardizer = Standardizer.fit(X, standardize);
      const manual = IsolationForest.fit(standardizer.transform(X), { nTrees: 40, seed: 3 });
      expect(pipeline.threshold).toBe(manual.threshold);
      expect(pipeline.params).toEqual(manual.params);
      expect(pipeline.nFeatures).toBe(4);
      expect(sameBits(pipeline.score(X), manual.score(standardizer.transform(X)))).toBe(true);
      expect(pipeline.predict(X)).toEqual(manual.predict(standardizer.transform(X)));
    }
  });

  it('streams through a bounded buffer: scores across block boundaries match the whole-matrix result', () => {
    const big = skewedData(PIPELINE_BLOCK_ROWS * 2 + 500, 8).X;
    const pipeline = fitPipeline('pca', big, { standardize: 'robust' });
    const standardizer = Standardizer.fit(big, 'robust');
    const manual = Pca.fit(standardizer.transform(big));
    const expected = manual.score(standardizer.transform(big));
    const out = new Float64Array(big.rows);
    expect(pipeline.score(big, out)).toBe(out);
    expect(sameBits(out, expected)).toBe(true);
    expect(pipeline.predict(big)).toEqual(manual.predict(standardizer.transform(big)));
    // The caller's matrix is not modified.
    expect(sameBits(big.data, skewedData(PIPELINE_BLOCK_ROWS * 2 + 500, 8).X.data)).toBe(true);
  });

  it('round-trips through the codec with identical scores and bytes, storing the inner model as a child', () => {
    const pipeline = fitPipeline('isolation-forest', X, { options: { nTrees: 25, seed: 1 } });
    const bytes = encodeModel(pipeline);
    const decoded = decodeModel(bytes);
    expect(decoded).toBeInstanceOf(Pipeline);
    expect((decoded as Pipeline).inner).toBeInstanceOf(IsolationForest);
    expect((decoded as Pipeline).standardize).toBe('zscore');
    expect(decoded.threshold).toBe(pipeline.threshold);
    expect(sameBits(decoded.score(X), pipeline.score(X))).toBe(true);
    expect(Buffer.from(encodeModel(decoded)).equals(Buffer.from(bytes))).toBe(true);
    const again = fitPipeline('isolation-forest', X, { options: { nTrees: 25, seed: 1 } });
    expect(Buffer.from(encodeModel(again)).equals(Buffer.from(bytes))).toBe(true);

    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const header = JSON.parse(Buffer.from(bytes.subarray(20, 20 + view.getUint32(16, true))).toString('utf8'));
    expect(header.algorithm).toBe('pipeline');
    expect(header.params).toEqual({});
    expect(header.settings).toEqual({ standardize: 'zscore' });
    expect(header.sections.map((s: { name: string }) => s.name)).toEqual(['center', 'scale']);
    expect(header.children).toHaveLength(1);
    expect(header.children[0].algorithm).toBe('isolation-forest');
    expect(header.children[0].sections.map((s: { name: string }) => s.name)).toEqual(['treeStart', 'feature', 'right', 'value']);
  });

  it('rejects corrupt and inconsistent composite files', () => {
    const pipeline = fitPipeline('pca', X);
    const bytes = encodeModel(pipeline);
    const reason = (input: Uint8Array): string => {
      try {
        decodeModel(input);
      } catch (error) {
        expect(error).toBeInstanceOf(ModelCodecError);
        return `${(error as ModelCodecError).reason}: ${(error as Error).message}`;
      }
      throw new Error('expected a ModelCodecError');
    };
    const flipped = Uint8Array.from(bytes);
    flipped[bytes.length - 100] ^= 0x10; // inside the child's sections
    expect(reason(flipped)).toMatch(/^corrupt: .*checksum mismatch/);
    expect(reason(bytes.subarray(0, bytes.length - 8))).toMatch(/^truncated: /);

    const state = pipeline.toState();
    const child = state.children?.[0] as DetectorState;
    expect(reason(encodeModel(stateDetector({ ...state, children: [{ ...child, algorithm: 'deep-svdd' }] })))).toMatch(
      /^unknown-algorithm: model uses algorithm "deep-svdd" \(in children\[0\]\), which this build does not support \(supported: .*pca.*\)$/,
    );
    expect(reason(encodeModel(stateDetector({ ...state, children: [] })))).toMatch(/^invalid: .*pipeline: invalid model state: expected 1 inner detector, got 0/);
    expect(reason(encodeModel(stateDetector({ ...state, settings: { standardize: 'minmax' } })))).toMatch(/^invalid: .*unknown kind "minmax"/);
    expect(reason(encodeModel(stateDetector({ ...state, settings: undefined })))).toMatch(/^invalid: .*no "standardize" setting/);
    expect(reason(encodeModel(stateDetector({ ...state, threshold: state.threshold + 1 })))).toMatch(/differs from the inner detector's/);
    expect(reason(encodeModel(stateDetector({ ...state, children: [{ ...child, nFeatures: 3 }] })))).toMatch(
      /^invalid: .*pipeline: inner detector: pca: invalid model state: center has 4 entries for 3 features/,
    );
    const badChildSection = child.sections.map((s) => (s.name === 'weights' ? { name: 'weights', data: new Float32Array(s.data.length) } : s));
    expect(reason(encodeModel(stateDetector({ ...state, children: [{ ...child, sections: badChildSection }] })))).toMatch(
      /section "weights" must be a Float64Array, got Float32Array/,
    );
    // Nesting deeper than MAX_MODEL_DEPTH is refused when writing.
    let deep: DetectorState = state;
    for (let i = 0; i < 9; i++) deep = { ...state, children: [deep] };
    expect(() => encodeModel(stateDetector(deep))).toThrow(/nested more than 8 levels deep/);
  });

  it('validates options from JSON, naming the nested option at fault', () => {
    const missing = optionError(() => fitDetector('pipeline', X, {}));
    expect(missing.message).toBe('pipeline: option "detector" is required, e.g. {"algorithm": "pca"}');
    expect(missing.option).toBe('detector');
    const kind = optionError(() => fitDetector('pipeline', X, { standardize: 'minmax', detector: { algorithm: 'pca' } }));
    expect(kind.message).toBe('pipeline: option "standardize" must be one of "zscore", "robust"; got string "minmax"');
    expect(kind.option).toBe('standardize');
    expect(optionError(() => fitDetector('pipeline', X, { detector: 'pca' })).message).toMatch(/option "detector" must be an object like/);
    expect(optionError(() => fitDetector('pipeline', X, { scaler: 1, detector: { algorithm: 'pca' } })).option).toBe('scaler');
    expect(optionError(() => fitDetector('pipeline', X, [])).message).toMatch(/pipeline: options must be an object/);
    const extraKey = optionError(() => fitDetector('pipeline', X, { detector: { algorithm: 'pca', params: {} } }));
    expect(extraKey.option).toBe('detector.params');
    const unknown = optionError(() => fitDetector('pipeline', X, { detector: { algorithm: 'svm' } }));
    expect(unknown.message).toMatch(/^pipeline: detector "svm": unknown algorithm "svm"\. Supported algorithms: isolation-forest/);
    expect(unknown.option).toBe('detector.algorithm');
    const inner = optionError(() => fitPipeline('isolation-forest', X, { options: { nTrees: 0 } }));
    expect(inner.message).toBe('pipeline: detector "isolation-forest": isolation-forest: option "nTrees" must be an integer in [1, 10000]; got 0');
    expect(inner.option).toBe('detector.options.nTrees');
  });

  it('rejects bad data with clear errors', () => {
    expect(() => fitPipeline('pca', new Matrix(0, 2, new Float64Array(0)))).toThrow(/pipeline: cannot fit on a dataset with 0 rows/);
    expect(() => fitPipeline('pca', new Matrix(2, 1, Float64Array.from([1, NaN])))).toThrow(/pipeline: training data has a non-finite value \(NaN\)/);
    // One row: the standardiser copes (scale 1) but PCA needs two rows, and says so through the pipeline.
    const oneRow = () => fitPipeline('pca', new Matrix(1, 2, Float64Array.from([1, 2])));
    expect(oneRow).toThrow(DetectorInputError);
    expect(oneRow).toThrow(/^pipeline: detector "pca": pca: cannot fit on 1 row/);
    const pipeline = fitPipeline('pca', X);
    expect(() => pipeline.score(new Matrix(1, 3, new Float64Array(3)))).toThrow('pipeline: model was fitted on 4 columns but the data has 3');
    expect(() => pipeline.score(new Matrix(1, 4, Float64Array.from([0, 0, Infinity, 0])))).toThrow(/pipeline: data has a non-finite value \(Infinity\) at row 0, column 2/);
    expect(pipeline.score(new Matrix(0, 4, new Float64Array(0))).length).toBe(0);
  });
});
