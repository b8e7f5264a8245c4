import type { ThresholdRule } from '../../../src/api/threshold';
import type { AnomalyRow } from '../../../src/db/anomalies';
import { ChunkFlagger, FlaggingRuleError } from '../../../src/results/chunkFlagging';
import { jobCutoff } from '../../../src/results/jobFlagging';
import { featureQuantilesOf, type ModelFile } from '../../../src/scoring/modelFile';
import { Matrix } from '../../../src/scoring/matrix';
import { fitDetector } from '../../../src/scoring/registry';
import { SeededRandom } from '../../../src/scoring/random';
import { gaussianMatrix, shiftedAnomalies } from '../scoring/explainData';

const D = 6;
const names = Array.from({ length: D }, (_, f) => `f${f}`);
const train = gaussianMatrix(4000, D, new SeededRandom(1));
// Robust z (largest |z|) sees a 6σ shift in one feature above every calibration row, and names that feature.
const detector = fitDetector('robust-z', train, { contamination: 0.05 });
const model: ModelFile = {
  detector,
  calibrationScores: detector.score(gaussianMatrix(9999, D, new SeededRandom(2))).sort(),
  featureQuantiles: featureQuantilesOf(train),
};

/** A job's rows: inliers with 60 anomalies (1%) shifted 6σ in one known feature spread through them. */
function jobRows(): { X: Matrix; anomalyFeature: Map<number, number> } {
  const rng = new SeededRandom(3);
  const X = gaussianMatrix(6000, D, rng);
  const shifted = shiftedAnomalies(60, D, 6, rng);
  const anomalyFeature = new Map<number, number>();
  for (let a = 0; a < 60; a++) {
    const row = 17 + a * 99;
    X.data.set(shifted.X.data.subarray(a * D, (a + 1) * D), row * D);
    anomalyFeature.set(row, shifted.feature[a]);
  }
  return { X, anomalyFeature };
}

/** Scores the job chunk by chunk (blocks of `block` rows) as scoreChunk does; returns what the chunks store. */
function storeByChunks(rule: ThresholdRule | undefined, X: Matrix, chunkRows: number, block = 500, explainTop = 3): AnomalyRow[] {
  const stored: AnomalyRow[] = [];
  for (let start = 0; start < X.rows; start += chunkRows) {
    const flagger = new ChunkFlagger(model, names, rule ? { rule, explainTop } : undefined);
    for (let b = start; b < Math.min(start + chunkRows, X.rows); b += block) {
      const features = X.sliceRows(b, Math.min(b + block, start + chunkRows, X.rows));
      flagger.collect(b, detector.score(features), { features, ids: Array.from({ length: features.rows }, (_, i) => `r${b + i}`) }, stored);
    }
  }
  return stored;
}

describe('what chunks store as anomalies', () => {
  const { X, anomalyFeature } = jobRows();
  const scores = detector.score(X);
  const flaggedBy = (rule: ThresholdRule) => {
    const { cutoff } = jobCutoff(rule, scores, { threshold: detector.threshold, calibration: model.calibrationScores });
    return new Set(Array.from(scores.keys()).filter((i) => scores[i] > cutoff));
  };

  it('stores exactly the flagged rows for fixed cutoffs, with ids, p-values and top features', () => {
    const value = Float64Array.from(scores).sort()[X.rows - 100];
    const stored = storeByChunks({ method: 'score', value }, X, 1000);
    expect(stored.length).toBe(99);
    expect(new Set(stored.map((r) => r.row_index))).toEqual(flaggedBy({ method: 'score', value }));
    const row = stored[0];
    expect(row.row_id).toBe(`r${row.row_index}`);
    expect(row.p_value).toBeGreaterThan(0);
    expect(row.p_value).toBeLessThanOrEqual(1);
    expect(row.explanation).toHaveLength(3);
    expect(row.explanation![0].contribution).toBeGreaterThanOrEqual(row.explanation![1].contribution);
    expect(row.explanation![0].value).toBe(X.get(row.row_index, D === 0 ? 0 : names.indexOf(row.explanation![0].feature)));
  });

  it('names the shifted feature first, far out in the training range, for the injected anomalies', () => {
    const stored = storeByChunks({ method: 'contamination' }, X, 2500);
    const injected = stored.filter((r) => anomalyFeature.has(r.row_index));
    expect(injected.length).toBe(60);
    for (const r of injected) {
      expect(r.explanation![0].feature).toBe(`f${anomalyFeature.get(r.row_index)}`);
      const pct = r.explanation![0].percentile!;
      expect(pct === 0 || pct === 100).toBe(true);
    }
  });

  it('stores a superset of the job-wide rules’ rows, whatever the chunking', () => {
    for (const rule of [{ method: 'fdr', alpha: 0.05 }, { method: 'maxAlerts', n: 25 }, { method: 'maxAlerts', n: 1 }] as ThresholdRule[]) {
      const flagged = flaggedBy(rule);
      expect(flagged.size).toBeGreaterThan(0);
      for (const chunkRows of [6000, 1000, 333]) {
        const stored = new Set(storeByChunks(rule, X, chunkRows).map((r) => r.row_index));
        for (const row of flagged) expect([rule, chunkRows, row, stored.has(row)]).toEqual([rule, chunkRows, row, true]);
        // Candidates stay few: a maxAlerts chunk keeps about n(1 + ln(rows/n)) of its rows (in random order), an fdr one its rows with p ≤ α.
        const chunks = Math.ceil(X.rows / chunkRows);
        const bound = rule.method === 'maxAlerts' ? 2 * chunks * rule.n * (1 + Math.log(Math.max(chunkRows / rule.n, 1))) : 2 * (flagged.size + 0.05 * X.rows);
        expect(stored.size).toBeLessThan(Math.min(bound, X.rows));
      }
    }
  });

  it('keeps the old behaviour for runs without a rule: the model threshold, no explanations', () => {
    const stored = storeByChunks(undefined, X, 3000);
    expect(new Set(stored.map((r) => r.row_index))).toEqual(flaggedBy({ method: 'contamination' }));
    expect(stored.every((r) => r.explanation === null)).toBe(true);
  });

  it('explains nothing with explainTop 0, and refuses fdr on a model without calibration scores', () => {
    expect(storeByChunks({ method: 'contamination' }, X, 6000, 500, 0).every((r) => r.explanation === null)).toBe(true);
    expect(() => new ChunkFlagger({ detector }, names, { rule: { method: 'fdr', alpha: 0.01 }, explainTop: 0 })).toThrow(FlaggingRuleError);
    const none = new ChunkFlagger({ detector }, names, { rule: { method: 'contamination' }, explainTop: 2 });
    const into: AnomalyRow[] = [];
    none.collect(0, detector.score(X.sliceRows(0, 100)), { features: X.sliceRows(0, 100) }, into);
    expect(into.every((r) => r.p_value === null && r.explanation!.every((c) => c.percentile === null))).toBe(true);
  });

  it('ranks the top features by contribution, equal ones in column order, as a full sort would', () => {
    // Six copies of one column: equal values get equal robust z, so ties are certain.
    const base = gaussianMatrix(500, 1, new SeededRandom(4));
    const copies = new Matrix(500, D, new Float64Array(500 * D).map((_, i) => base.data[Math.floor(i / D)]));
    const tied = fitDetector('robust-z', copies, { contamination: 0.05 });
    const rows = new Matrix(2, D, Float64Array.from([9, 9, 1, 9, 1, 9, 0, 3, 5, 3, 5, 2]));
    const into: AnomalyRow[] = [];
    new ChunkFlagger({ detector: tied }, names, { rule: { method: 'score', value: -1 }, explainTop: 4 }).collect(0, tied.score(rows), { features: rows }, into);
    const contributions = tied.explain(rows, [0, 1]);
    for (const [k, row] of into.entries()) {
      const sorted = names.map((_, f) => f).sort((a, b) => contributions[k * D + b] - contributions[k * D + a] || a - b).slice(0, 4);
      expect(row.explanation!.map((c) => c.feature)).toEqual(sorted.map((f) => names[f]));
    }
    expect(into[0].explanation!.map((c) => c.feature)).toEqual(['f0', 'f1', 'f3', 'f5']);
    expect(into[1].explanation!.map((c) => c.feature)).toEqual(['f2', 'f4', 'f1', 'f3']);
  });
});
