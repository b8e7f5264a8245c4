import { createHash } from 'node:crypto';
import { decodeModel, encodeModel, MODEL_FORMAT_VERSION, ModelCodecError, ModelCodecErrorReason } from '../../../src/scoring/codec';
import { Detector, DetectorState } from '../../../src/scoring/detector';
import { IsolationForest } from '../../../src/scoring/isolationForest';
import { supportedAlgorithms } from '../../../src/scoring/registry';
import { clusterWithOutliers } from './syntheticData';

const { X } = clusterWithOutliers(600, 6, 5, 11);
const model = IsolationForest.fit(X, { nTrees: 30, seed: 9, contamination: 0.05 });
const bytes = encodeModel(model);

function codecError(fn: () => unknown): ModelCodecError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ModelCodecError);
    return error as ModelCodecError;
  }
  throw new Error('expected a ModelCodecError');
}

function expectReason(input: Uint8Array, reason: ModelCodecErrorReason, message: RegExp | string): void {
  const error = codecError(() => decodeModel(input));
  expect(error.reason).toBe(reason);
  if (typeof message === 'string') expect(error.message).toBe(message);
  else expect(error.message).toMatch(message);
}

/** Rewrites the trailing SHA-256 so an edited file passes the checksum. */
function resign(file: Uint8Array): Uint8Array {
  const body = file.subarray(0, file.length - 32);
  file.set(createHash('sha256').update(body).digest(), file.length - 32);
  return file;
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

describe('model codec', () => {
  it('writes the documented prefix and an 8-byte aligned layout', () => {
    expect(Buffer.from(bytes.subarray(0, 4)).toString('latin1')).toBe('NMLY');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(view.getUint16(4, true)).toBe(MODEL_FORMAT_VERSION);
    expect(MODEL_FORMAT_VERSION).toBe(1);
    expect(Number(view.getBigUint64(8, true))).toBe(bytes.length);
    expect((bytes.length - 32) % 8).toBe(0);
    const header = JSON.parse(Buffer.from(bytes.subarray(20, 20 + view.getUint32(16, true))).toString('utf8'));
    expect(header.algorithm).toBe('isolation-forest');
    expect(header.nFeatures).toBe(5);
    expect(header.params).toEqual({ nTrees: 30, sampleSize: 256, contamination: 0.05, seed: 9, thresholdRows: 65536 });
    expect(header.sections.map((s: { name: string; dtype: string }) => `${s.name}:${s.dtype}`)).toEqual([
      'treeStart:int32',
      'feature:int32',
      'right:int32',
      'value:float64',
    ]);
    expect(header.sections[0].length).toBe(31);
    const digest = createHash('sha256').update(bytes.subarray(0, bytes.length - 32)).digest();
    expect(digest.equals(Buffer.from(bytes.subarray(bytes.length - 32)))).toBe(true);
  });

  it('round-trips to a detector with identical scores, predictions and bytes', () => {
    const decoded = decodeModel(bytes);
    expect(decoded).toBeInstanceOf(IsolationForest);
    expect(decoded.algorithm).toBe('isolation-forest');
    expect(decoded.nFeatures).toBe(5);
    expect(decoded.threshold).toBe(model.threshold);
    expect(decoded.params).toEqual(model.params);
    const expected = model.score(X);
    const actual = decoded.score(X);
    expect(Buffer.from(actual.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
    expect(decoded.predict(X)).toEqual(model.predict(X));
    expect(Buffer.from(encodeModel(decoded)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('encodes deterministically: the same fit twice gives identical bytes', () => {
    const again = IsolationForest.fit(X, { nTrees: 30, seed: 9, contamination: 0.05 });
    expect(Buffer.from(encodeModel(again)).equals(Buffer.from(bytes))).toBe(true);
    const otherSeed = IsolationForest.fit(X, { nTrees: 30, seed: 10, contamination: 0.05 });
    expect(Buffer.from(encodeModel(otherSeed)).equals(Buffer.from(bytes))).toBe(false);
  });

  it('decodes from an unaligned view without depending on the caller keeping the buffer', () => {
    const backing = new Uint8Array(bytes.length + 3);
    backing.set(bytes, 3);
    const decoded = decodeModel(backing.subarray(3));
    backing.fill(0);
    expect(decoded.score(X)).toEqual(model.score(X));
  });

  it('decodes a Node Buffer that is a view into a shared pool', () => {
    // Small Buffers are carved out of an 8 KiB pool, and Buffer#slice is a view, not a copy:
    // sections must still be read from the model's own bytes.
    const small = IsolationForest.fit(X, { nTrees: 2, sampleSize: 16, seed: 1 });
    const smallBytes = encodeModel(small);
    expect(smallBytes.length).toBeLessThan(4096);
    const pooled = Buffer.from(smallBytes);
    expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.length);
    expect(decodeModel(pooled).score(X)).toEqual(small.score(X));
  });

  it('reports a flipped byte anywhere as a corrupt file', () => {
    for (const at of [30, bytes.length >> 1, bytes.length - 40, bytes.length - 1]) {
      const damaged = Uint8Array.from(bytes);
      damaged[at] ^= 0x01;
      expectReason(damaged, 'corrupt', /^model file is corrupt: SHA-256 checksum mismatch \(stored [0-9a-f]{64}, computed [0-9a-f]{64}\)$/);
    }
    // A damaged version field is corruption too, not a "newer format".
    const damagedVersion = Uint8Array.from(bytes);
    damagedVersion[4] ^= 0x02;
    expectReason(damagedVersion, 'corrupt', /checksum mismatch/);
  });

  it('reports a truncated file with the expected and actual sizes', () => {
    expectReason(bytes.subarray(0, bytes.length - 100), 'truncated', `model file is truncated: expected ${bytes.length} bytes, got ${bytes.length - 100}`);
    expectReason(bytes.subarray(0, bytes.length - 1), 'truncated', /expected \d+ bytes, got \d+/);
    expectReason(bytes.subarray(0, 12), 'truncated', 'model file is truncated: expected at least 52 bytes, got 12');
    expectReason(bytes.subarray(0, 2), 'truncated', /expected at least 52 bytes, got 2/);
    expectReason(new Uint8Array(0), 'truncated', /got 0/);
  });

  it('reports trailing bytes as corruption', () => {
    const longer = new Uint8Array(bytes.length + 5);
    longer.set(bytes);
    expectReason(longer, 'corrupt', `model file has 5 unexpected bytes after its end (expected ${bytes.length} bytes, got ${bytes.length + 5})`);
  });

  it('reports a file that is not a model', () => {
    const zip = Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0]);
    expectReason(zip, 'not-a-model', 'not a Nomaly model file: expected it to start with "NMLY", found bytes 504b0304');
    expectReason(Buffer.from('a,b,c\n1,2,3\n'), 'not-a-model', /not a Nomaly model file/);
  });

  it('reports an unknown format version, saying which version this build reads', () => {
    const newer = Uint8Array.from(bytes);
    new DataView(newer.buffer).setUint16(4, 2, true);
    expectReason(resign(newer), 'unsupported-version', 'unsupported model format version 2: this build reads format version 1');
  });

  it('reports an unknown algorithm, listing the supported ones', () => {
    const state = model.toState();
    const alien = encodeModel(stateDetector({ ...state, algorithm: 'deep-svdd' }));
    expectReason(alien, 'unknown-algorithm', `model uses algorithm "deep-svdd", which this build does not support (supported: ${supportedAlgorithms().join(', ')})`);
  });

  it('rejects a well-formed file whose forest is inconsistent', () => {
    const state = model.toState();
    const right = Int32Array.from(state.sections[2].data);
    const firstInternal = right.findIndex((_, i) => (state.sections[1].data as Int32Array)[i] >= 0);
    right[firstInternal] = firstInternal; // a child pointing back at its parent
    const sections = state.sections.map((s) => (s.name === 'right' ? { name: 'right', data: right } : s));
    expectReason(encodeModel(stateDetector({ ...state, sections })), 'invalid', /model file content is invalid: isolation-forest: invalid model state: node \d+ has right child/);

    const wrongType = state.sections.map((s) => (s.name === 'value' ? { name: 'value', data: Float32Array.from(s.data) } : s));
    expectReason(encodeModel(stateDetector({ ...state, sections: wrongType })), 'invalid', /section "value" must be a Float64Array, got Float32Array/);

    const missing = state.sections.filter((s) => s.name !== 'feature');
    expectReason(encodeModel(stateDetector({ ...state, sections: missing })), 'invalid', /no "feature" section/);

    const badParams = { ...state, params: { ...state.params, nTrees: 0 } };
    expectReason(encodeModel(stateDetector(badParams)), 'invalid', /option "nTrees" must be an integer in \[1, 10000\]; got 0/);

    // The forest was fitted on 5 columns; a header claiming 2 would let splits read past a row.
    expectReason(encodeModel(stateDetector({ ...state, nFeatures: 2 })), 'invalid', /splits on feature \d of 2/);
  });

  it('refuses to encode states JSON cannot carry exactly', () => {
    const state = model.toState();
    expect(() => encodeModel(stateDetector({ ...state, threshold: NaN }))).toThrow(/cannot encode model: threshold is NaN/);
    const twice = [...state.sections, state.sections[0]];
    expect(() => encodeModel(stateDetector({ ...state, sections: twice }))).toThrow(/section "treeStart" appears twice/);
  });
});
