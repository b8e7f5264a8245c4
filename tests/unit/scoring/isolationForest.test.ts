import { DetectorInputError, DetectorOptionError } from '../../../src/scoring/detector';
import { averagePathLength, IsolationForest, IsolationForestOptions } from '../../../src/scoring/isolationForest';
import { Matrix } from '../../../src/scoring/matrix';
import { rocAuc } from '../../../src/scoring/metrics';
import { fitDetector } from '../../../src/scoring/registry';
import { thresholdFromContamination } from '../../../src/scoring/threshold';
import { clusterWithOutliers } from './syntheticData';

function sectionsOf(model: IsolationForest): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const { name, data } of model.toState().sections) {
    out[name] = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  }
  return out;
}

describe('averagePathLength (c(n) in the paper)', () => {
  it('matches scikit-learn for small and typical sample sizes', () => {
    expect(averagePathLength(0)).toBe(0);
    expect(averagePathLength(1)).toBe(0);
    expect(averagePathLength(2)).toBe(1);
    expect(averagePathLength(3)).toBeCloseTo(1.207392357586557, 12);
    expect(averagePathLength(256)).toBeCloseTo(10.244770920116851, 12);
  });
});

describe('IsolationForest', () => {
  const { X, labels } = clusterWithOutliers(1000, 10, 4, 7);

  it('is deterministic: same seed and data give bit-identical forests, thresholds and scores', () => {
    const a = IsolationForest.fit(X, { seed: 42, nTrees: 50 });
    const b = IsolationForest.fit(X, { seed: 42, nTrees: 50 });
    const sa = sectionsOf(a);
    const sb = sectionsOf(b);
    expect(Object.keys(sa)).toEqual(['treeStart', 'feature', 'right', 'value']);
    for (const name of Object.keys(sa)) expect(sa[name].equals(sb[name])).toBe(true);
    expect(a.threshold).toBe(b.threshold);
    expect(Buffer.from(a.score(X).buffer).equals(Buffer.from(b.score(X).buffer))).toBe(true);
  });

  it('differs with a different seed', () => {
    const a = IsolationForest.fit(X, { seed: 1, nTrees: 50 });
    const b = IsolationForest.fit(X, { seed: 2, nTrees: 50 });
    expect(sectionsOf(a).value.equals(sectionsOf(b).value)).toBe(false);
    const sa = a.score(X);
    const sb = b.score(X);
    let differing = 0;
    for (let i = 0; i < sa.length; i++) if (sa[i] !== sb[i]) differing++;
    expect(differing).toBeGreaterThan(sa.length / 2);
  });

  it('scores far outliers above every inlier', () => {
    const model = IsolationForest.fit(X, { seed: 3 });
    const scores = model.score(X);
    let maxInlier = -Infinity;
    let minOutlier = Infinity;
    let inlierSum = 0;
    for (let i = 0; i < scores.length; i++) {
      expect(scores[i]).toBeGreaterThan(0);
      expect(scores[i]).toBeLessThan(1);
      if (labels[i]) minOutlier = Math.min(minOutlier, scores[i]);
      else {
        maxInlier = Math.max(maxInlier, scores[i]);
        inlierSum += scores[i];
      }
    }
    expect(minOutlier).toBeGreaterThan(maxInlier);
    expect(minOutlier).toBeGreaterThan(0.6);
    expect(inlierSum / 1000).toBeLessThan(0.5);
    expect(rocAuc(labels, scores)).toBe(1);
    // Every outlier is flagged by the contamination threshold.
    const predicted = model.predict(X);
    for (let i = 1000; i < 1010; i++) expect(predicted[i]).toBe(1);
  });

  it('gives the exact scikit-learn path lengths on a tiny hand-worked forest', () => {
    // Rows 0,0,0,10 with sampleSize 4 (max depth 2): every tree splits the root between 0 and
    // 10, the three zeros form a constant leaf at depth 1 (path 1 + c(3)), and 10 a leaf at
    // depth 1 (path 1). Score = 2^(-path / c(4)), whatever the seed.
    const tiny = new Matrix(4, 1, Float64Array.from([0, 0, 0, 10]));
    for (const seed of [0, 1, 99]) {
      const model = IsolationForest.fit(tiny, { sampleSize: 4, nTrees: 10, seed });
      const scores = model.score(new Matrix(5, 1, Float64Array.from([0, 0, 0, 10, -3])));
      for (const i of [0, 1, 2, 4]) expect(scores[i]).toBeCloseTo(0.4376598631629028, 12);
      expect(scores[3]).toBeCloseTo(0.6877436677784063, 12);
    }
  });

  it('handles constant features and identical rows', () => {
    // Column 0 is constant: trees must split on column 1 only.
    const data = new Float64Array(200);
    for (let r = 0; r < 100; r++) {
      data[2 * r] = 5;
      data[2 * r + 1] = r === 99 ? 1000 : r % 10;
    }
    const model = IsolationForest.fit(new Matrix(100, 2, data), { seed: 0 });
    const scores = model.score(new Matrix(100, 2, data));
    for (let i = 0; i < 99; i++) expect(scores[99]).toBeGreaterThan(scores[i]);

    // All rows identical: every tree is a single leaf, so every score is 2^(-c(n)/c(n)) = 0.5.
    const same = IsolationForest.fit(new Matrix(10, 3, new Float64Array(30).fill(2)), { nTrees: 5 });
    expect(Array.from(same.score(new Matrix(2, 3, Float64Array.from([2, 2, 2, 9, 9, 9]))))).toEqual([0.5, 0.5]);
    expect(same.nodeCount).toBe(5);
  });

  it('never makes a leaf because of a constant feature while another feature still varies', () => {
    // Column 0 is constant, column 1 has 128 distinct values; sampleSize 128 gives max depth 7.
    // A leaf may hold several rows only at depth 7; above it every leaf isolates one row,
    // so its path length (depth + c(1) = depth) is a whole number.
    const data = new Float64Array(256);
    for (let r = 0; r < 128; r++) {
      data[2 * r] = 1;
      data[2 * r + 1] = (r * 37) % 128;
    }
    const model = IsolationForest.fit(new Matrix(128, 2, data), { sampleSize: 128, nTrees: 20, seed: 4 });
    const { sections } = model.toState();
    const feature = sections[1].data;
    const value = sections[3].data;
    let leaves = 0;
    for (let i = 0; i < feature.length; i++) {
      if (feature[i] === 0) throw new Error(`node ${i} splits on the constant column`);
      if (feature[i] !== -1) continue;
      leaves++;
      if (!Number.isInteger(value[i])) expect(value[i]).toBeGreaterThan(7);
    }
    expect(leaves).toBeGreaterThan(20 * 40);
  });

  it('matches a plain reference traversal, including values exactly on split thresholds', () => {
    const model = IsolationForest.fit(X, { nTrees: 25, seed: 8 });
    const { sections } = model.toState();
    const [treeStart, feature, right, value] = sections.map((s) => s.data);
    // 2 blocks plus an odd tail, so every interleaved lane and the remainder loop run.
    const rows = 2 * 1024 + 7;
    const data = new Float64Array(rows * 4);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < 4; c++) {
        // Copy split thresholds verbatim so many comparisons are exact ties (x <= t goes left).
        const node = (r * 13 + c * 101) % feature.length;
        data[r * 4 + c] = feature[node] >= 0 ? value[node] : X.data[(r % X.rows) * 4 + c];
      }
    }
    const scores = model.score(new Matrix(rows, 4, data));
    const c256 = averagePathLength(256);
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let t = 0; t + 1 < treeStart.length; t++) {
        let node = treeStart[t];
        while (feature[node] >= 0) node = data[r * 4 + feature[node]] <= value[node] ? node + 1 : right[node];
        sum += value[node];
      }
      expect(scores[r]).toBe(Math.pow(2, -(sum / (25 * c256))));
    }
  });

  it('caps sampleSize at the number of rows and records the effective value', () => {
    const small = clusterWithOutliers(50, 0, 2, 1).X;
    const model = IsolationForest.fit(small);
    expect(model.params).toEqual({ nTrees: 100, sampleSize: 50, contamination: 0.1, seed: 0, thresholdRows: 65536 });
    const one = IsolationForest.fit(new Matrix(1, 2, Float64Array.from([1, 2])));
    expect(one.params.sampleSize).toBe(1);
    expect(Array.from(one.score(new Matrix(1, 2, Float64Array.from([3, 4]))))).toEqual([0.5]);
  });

  it('places the threshold from a seeded sample of a large training set, close to the exact one', () => {
    const { X } = clusterWithOutliers(20_000, 400, 4, 3);
    const exact = IsolationForest.fit(X, { thresholdRows: 0, seed: 5 });
    const sampled = IsolationForest.fit(X, { thresholdRows: 4096, seed: 5 });
    const again = IsolationForest.fit(X, { thresholdRows: 4096, seed: 5 });
    expect(sampled.threshold).toBe(again.threshold); // deterministic
    expect(sampled.threshold).not.toBe(exact.threshold); // really sampled
    // The flagged share with the sampled threshold stays close to the contamination (0.1).
    const flagged = sampled.predict(X).reduce((n, v) => n + v, 0) / X.rows;
    expect(flagged).toBeGreaterThan(0.09);
    expect(flagged).toBeLessThan(0.11);
    // A training set no larger than thresholdRows is scored whole: the exact threshold.
    expect(IsolationForest.fit(X, { thresholdRows: 20_400, seed: 5 }).threshold).toBe(exact.threshold);
  });

  it('sets the threshold so about `contamination` of the training rows are flagged', () => {
    for (const contamination of [0.05, 0.1, 0.25]) {
      const model = IsolationForest.fit(X, { contamination, seed: 5 });
      expect(model.threshold).toBe(thresholdFromContamination(model.score(X), contamination));
      const flagged = model.predict(X).reduce((sum, v) => sum + v, 0);
      // Strictly above the percentile: at most contamination × rows, fewer only through ties.
      expect(flagged).toBeLessThanOrEqual(Math.ceil(contamination * X.rows));
      expect(flagged).toBeGreaterThanOrEqual(Math.floor(contamination * X.rows) - 2);
    }
  });

  it('writes into a caller-provided buffer and checks its length', () => {
    const model = IsolationForest.fit(X, { nTrees: 20 });
    const expected = model.score(X);
    const out = new Float64Array(X.rows).fill(123);
    expect(model.score(X, out)).toBe(out);
    expect(out).toEqual(expected);

    // Scoring a slice into a subarray matches the same rows of the full result.
    const part = new Float64Array(10);
    model.score(X.sliceRows(500, 510), part);
    expect(part).toEqual(expected.subarray(500, 510));

    const labelsOut = new Uint8Array(X.rows).fill(7);
    expect(model.predict(X, labelsOut)).toBe(labelsOut);
    for (let i = 0; i < X.rows; i++) expect(labelsOut[i]).toBe(expected[i] > model.threshold ? 1 : 0);

    expect(() => model.score(X, new Float64Array(X.rows - 1))).toThrow(RangeError);
    expect(() => model.predict(X, new Uint8Array(X.rows + 1))).toThrow(/output buffer has length 1011 but the data has 1010 rows/);
  });

  it('rejects data with a different number of columns at score time', () => {
    const model = IsolationForest.fit(X, { nTrees: 5 });
    const wrong = new Matrix(2, 3, new Float64Array(6));
    expect(() => model.score(wrong)).toThrow(DetectorInputError);
    expect(() => model.score(wrong)).toThrow('isolation-forest: model was fitted on 4 columns but the data has 3');
    expect(() => model.predict(wrong)).toThrow(/fitted on 4 columns/);
  });

  it('rejects empty and non-finite data with the row and column', () => {
    expect(() => IsolationForest.fit(new Matrix(0, 3, new Float64Array(0)))).toThrow(/0 rows/);
    const data = new Float64Array(12);
    data[7] = NaN;
    expect(() => IsolationForest.fit(new Matrix(4, 3, data))).toThrow(/non-finite value \(NaN\) at row 2, column 1/);
    const model = IsolationForest.fit(X, { nTrees: 5 });
    const bad = new Float64Array(8);
    bad[5] = Infinity;
    expect(() => model.score(new Matrix(2, 4, bad))).toThrow(/non-finite value \(Infinity\) at row 1, column 1/);
  });

  it('names an unknown option and lists the allowed ones', () => {
    const fit = () => IsolationForest.fit(X, { nTree: 10 } as unknown as IsolationForestOptions);
    expect(fit).toThrow(DetectorOptionError);
    expect(fit).toThrow('isolation-forest: unknown option "nTree". Allowed options: nTrees, sampleSize, contamination, seed');
    try {
      fit();
    } catch (error) {
      expect((error as DetectorOptionError).option).toBe('nTree');
    }
    // Options from user JSON go through the registry; inherited names are not options.
    expect(() => fitDetector('isolation-forest', X, { toString: 1 })).toThrow(/unknown option "toString"/);
    expect(() => fitDetector('random-forest', X)).toThrow(/unknown algorithm "random-forest". Supported algorithms: isolation-forest/);
  });

  it('names an out-of-range, non-integer or non-number option with its value and range', () => {
    expect(() => IsolationForest.fit(X, { contamination: 0.7 })).toThrow(
      'isolation-forest: option "contamination" must be a number in (0, 0.5]; got 0.7',
    );
    expect(() => IsolationForest.fit(X, { contamination: 0 })).toThrow(/"contamination" must be a number in \(0, 0.5\]; got 0$/);
    expect(() => IsolationForest.fit(X, { nTrees: 2.5 })).toThrow(
      'isolation-forest: option "nTrees" must be an integer in [1, 10000]; got 2.5',
    );
    expect(() => IsolationForest.fit(X, { sampleSize: NaN })).toThrow(/option "sampleSize" must be an integer in \[1, 16777216\]; got NaN/);
    expect(() => IsolationForest.fit(X, { seed: -1 })).toThrow(/option "seed" must be an integer in \[0, 4294967295\]; got -1/);
    expect(() => fitDetector('isolation-forest', X, { nTrees: '100' })).toThrow(/option "nTrees" must be an integer in \[1, 10000\]; got string "100"/);
    expect(() => fitDetector('isolation-forest', X, [1])).toThrow(/options must be an object/);
  });
});
