import { benjaminiHochberg } from '../../../src/scoring/benjaminiHochberg';
import { conformalFdrCutoff, conformalPValues, sortCalibrationScores, tallyPValues } from '../../../src/scoring/conformal';
import { DetectorInputError } from '../../../src/scoring/detector';
import { Ecod } from '../../../src/scoring/ecod';
import { Matrix } from '../../../src/scoring/matrix';
import { RobustZScore } from '../../../src/scoring/robustZ';
import { SeededRandom } from '../../../src/scoring/random';
import { gaussianMatrix, shiftedAnomalies } from './explainData';

const COLS = 8;

/**
 * One seed's world: a robust-z model fitted on N(0, I) inliers, calibration scores of 2,000
 * held-out inliers, and a job of 1,000 rows whose last `anomalies` rows are shifted 8σ in one
 * feature (far enough that a 2,000-score calibration set can vouch for them).
 */
function world(seed: number, anomalies: number): { pValues: Float64Array; isAnomaly: Uint8Array; contaminationFlags: number } {
  const rng = new SeededRandom(seed);
  const model = RobustZScore.fit(gaussianMatrix(1000, COLS, rng), { contamination: 0.1 });
  const calibration = sortCalibrationScores(model.score(gaussianMatrix(2000, COLS, rng)));
  const inliers = gaussianMatrix(1000 - anomalies, COLS, rng);
  const shifted = shiftedAnomalies(anomalies, COLS, 8, rng).X;
  const job = new Matrix(1000, COLS, new Float64Array([...inliers.data, ...shifted.data]));
  const isAnomaly = new Uint8Array(1000).fill(1, 1000 - anomalies);
  const contaminationFlags = model.predict(job).reduce((a, b) => a + b, 0);
  return { pValues: conformalPValues(calibration, model.score(job)), isAnomaly, contaminationFlags };
}

function falseDiscoveryProportion(flagged: Uint8Array, isAnomaly: Uint8Array): number {
  let flags = 0;
  let falseFlags = 0;
  for (let i = 0; i < flagged.length; i++) {
    if (flagged[i]) {
      flags++;
      if (!isAnomaly[i]) falseFlags++;
    }
  }
  return flags === 0 ? 0 : falseFlags / flags;
}

const SEEDS = Array.from({ length: 50 }, (_, i) => 100 + i);

describe('Benjamini–Hochberg over conformal p-values', () => {
  it.each([0.01, 0.05, 0.1])('on 50 seeds of inlier-only jobs, the mean false-discovery proportion at α = %s is ≤ α, with far fewer flags than contamination 0.1', (alpha) => {
    let fdp = 0;
    let bhFlags = 0;
    let contaminationFlags = 0;
    for (const seed of SEEDS) {
      const w = world(seed, 0);
      const result = benjaminiHochberg(w.pValues, alpha);
      fdp += falseDiscoveryProportion(result.flagged, w.isAnomaly);
      bhFlags += result.count;
      contaminationFlags += w.contaminationFlags;
    }
    expect(fdp / SEEDS.length).toBeLessThanOrEqual(alpha);
    // Contamination 0.1 flags about 100 of every 1,000 inliers; BH flags (almost) none.
    expect(contaminationFlags / SEEDS.length).toBeGreaterThan(80);
    expect(bhFlags / SEEDS.length).toBeLessThan(1);
  });

  it('with 20% real anomalies, the mean false-discovery proportion over 50 seeds stays ≤ α and most anomalies are found', () => {
    // BH's bound is α·m0/m = 0.08 here; the 50-seed mean's own noise is about 0.003.
    const alpha = 0.1;
    let fdp = 0;
    let found = 0;
    for (const seed of SEEDS) {
      const w = world(seed, 200);
      const result = benjaminiHochberg(w.pValues, alpha);
      fdp += falseDiscoveryProportion(result.flagged, w.isAnomaly);
      for (let i = 800; i < 1000; i++) found += result.flagged[i];
    }
    expect(fdp / SEEDS.length).toBeLessThanOrEqual(alpha);
    expect(found / (200 * SEEDS.length)).toBeGreaterThan(0.8);
  });

  it('flags exactly the same rows whatever chunks, chunk sizes and chunk order the job arrives in', () => {
    const { pValues } = world(7, 30);
    const reference = benjaminiHochberg(pValues, 0.05);
    expect(reference.count).toBeGreaterThan(0);
    const rng = new SeededRandom(8);
    for (let trial = 0; trial < 5; trial++) {
      // Cut the rows into chunks of random sizes, then concatenate the chunks in a random order.
      const chunks: number[][] = [];
      for (let start = 0; start < pValues.length; ) {
        const size = 1 + rng.nextInt(300);
        chunks.push(Array.from({ length: Math.min(size, pValues.length - start) }, (_, i) => start + i));
        start += size;
      }
      for (let i = chunks.length - 1; i > 0; i--) {
        const j = rng.nextInt(i + 1);
        [chunks[i], chunks[j]] = [chunks[j], chunks[i]];
      }
      const order = chunks.flat();
      const result = benjaminiHochberg(Float64Array.from(order, (row) => pValues[row]), 0.05);
      const flaggedRows = order.filter((_, position) => result.flagged[position] === 1).sort((a, b) => a - b);
      const expected = [...reference.flagged.keys()].filter((row) => reference.flagged[row] === 1);
      expect(flaggedRows).toEqual(expected);
      expect(result.cutoff).toBe(reference.cutoff);
    }
  });

  it('the tally of a job (summed over its chunks) gives the cutoff benjaminiHochberg gives over all its p-values', () => {
    const rng = new SeededRandom(21);
    const model = Ecod.fit(gaussianMatrix(1000, COLS, rng));
    const calibration = sortCalibrationScores(model.score(gaussianMatrix(500, COLS, rng)));
    const job = new Matrix(1200, COLS, new Float64Array([...gaussianMatrix(1150, COLS, rng).data, ...shiftedAnomalies(50, COLS, 5, rng).X.data]));
    const scores = model.score(job);
    for (const alpha of [0.01, 0.05, 0.2]) {
      const whole = benjaminiHochberg(conformalPValues(calibration, scores), alpha);
      // Chunks tallied separately and added up, and chunks tallied into one running tally.
      const a = tallyPValues(calibration, scores.subarray(0, 700));
      const b = tallyPValues(calibration, scores.subarray(700));
      const summed = a.map((count, j) => count + b[j]);
      const running = tallyPValues(calibration, scores.subarray(0, 100));
      tallyPValues(calibration, scores.subarray(100), running);
      for (const tally of [summed, running]) {
        expect(conformalFdrCutoff(tally, alpha)).toEqual({ cutoff: whole.cutoff, flagged: whole.count });
      }
    }
  });

  it('follows the procedure on a hand-worked example', () => {
    // m = 6, α = 0.2: thresholds 0.0333, 0.0667, 0.1, 0.1333, 0.1667, 0.2; the 4th smallest (0.12)
    // is the largest p_(k) ≤ α·k/m, so the four smallest are flagged although 0.09 > 0.0667.
    const result = benjaminiHochberg(Float64Array.from([0.5, 0.09, 0.01, 0.12, 0.3, 0.02]), 0.2);
    expect(result.cutoff).toBe(0.12);
    expect(Array.from(result.flagged)).toEqual([0, 1, 1, 1, 0, 1]);
    expect(result.count).toBe(4);
    expect(benjaminiHochberg(Float64Array.from([0.5, 0.9]), 0.2)).toEqual({ cutoff: 0, flagged: new Uint8Array(2), count: 0 });
    expect(benjaminiHochberg(new Float64Array(0), 0.1).count).toBe(0);
  });

  it('refuses a level outside (0, 1) and p-values outside [0, 1]', () => {
    expect(() => benjaminiHochberg(Float64Array.from([0.5]), 0)).toThrow(RangeError);
    expect(() => benjaminiHochberg(Float64Array.from([0.5]), 1)).toThrow(RangeError);
    expect(() => benjaminiHochberg(Float64Array.from([1.5]), 0.1)).toThrow(RangeError);
    expect(() => benjaminiHochberg(Float64Array.from([NaN]), 0.1)).toThrow(RangeError);
  });
});

describe('conformal p-values', () => {
  it('are (1 + #{calibration ≥ s}) / (n + 1)', () => {
    const calibration = sortCalibrationScores(Float64Array.from([3, 1, 2, 2]));
    expect(Array.from(calibration)).toEqual([1, 2, 2, 3]);
    const p = conformalPValues(calibration, Float64Array.from([0, 1, 2, 2.5, 3, 4]));
    expect(Array.from(p)).toEqual([5 / 5, 5 / 5, 4 / 5, 2 / 5, 2 / 5, 1 / 5]);
  });

  /** KS distance of `trials` p-values, one per fresh (calibration, row) draw, to the discrete uniform on {1/(n+1), …, 1}. */
  function ksDistance(calibrationSpread: number, seed: number): number {
    // Each p-value from its own calibration draw and its own new row, so the p-values are
    // independent; one fitted model throughout. Calibration rows are N(0, spread² I), new rows N(0, I).
    const rng = new SeededRandom(seed);
    const model = Ecod.fit(gaussianMatrix(1000, COLS, rng));
    const n = 199;
    const pValues = new Float64Array(TRIALS);
    for (let t = 0; t < TRIALS; t++) {
      const calibrationRows = gaussianMatrix(n, COLS, rng);
      for (let i = 0; i < calibrationRows.data.length; i++) calibrationRows.data[i] *= calibrationSpread;
      const calibration = sortCalibrationScores(model.score(calibrationRows));
      pValues[t] = conformalPValues(calibration, model.score(gaussianMatrix(1, COLS, rng)))[0];
    }
    // The CDF F(j/(n+1)) = j/(n+1), checked just below and at each step.
    const sorted = Float64Array.from(pValues).sort();
    let distance = 0;
    let below = 0;
    for (let j = 1; j <= n + 1; j++) {
      const level = j / (n + 1);
      const before = below / TRIALS;
      while (below < TRIALS && sorted[below] <= level) below++;
      distance = Math.max(distance, Math.abs(below / TRIALS - level), Math.abs(before - (j - 1) / (n + 1)));
    }
    return distance;
  }

  const TRIALS = 2000;
  /** The asymptotic KS critical value at significance 0.01 (conservative for a discrete law). */
  const CRITICAL = 1.628 / Math.sqrt(TRIALS);

  it('are uniform on inliers drawn like the calibration rows (Kolmogorov–Smirnov, significance 0.01)', () => {
    expect(ksDistance(1, 31)).toBeLessThan(CRITICAL);
  });

  it('the same check catches calibration rows drawn unlike the new rows (spread 1.3 instead of 1)', () => {
    expect(ksDistance(1.3, 31)).toBeGreaterThan(CRITICAL);
  });

  it('a row of a score no calibration score reaches gets the smallest p-value, 1/(n+1)', () => {
    const calibration = sortCalibrationScores(Float64Array.from([1, 2, 3]));
    expect(conformalPValues(calibration, Float64Array.from([1e9]))[0]).toBe(0.25);
  });

  it('refuses empty, non-finite or unsorted calibration scores, NaN scores and a wrong buffer', () => {
    expect(() => sortCalibrationScores(new Float64Array(0))).toThrow(DetectorInputError);
    expect(() => sortCalibrationScores(Float64Array.from([1, Infinity]))).toThrow(DetectorInputError);
    expect(() => conformalPValues(Float64Array.from([2, 1]), Float64Array.from([1]))).toThrow('sorted ascending');
    expect(() => conformalPValues(Float64Array.from([1, 2]), Float64Array.from([NaN]))).toThrow(DetectorInputError);
    expect(() => conformalPValues(Float64Array.from([1, 2]), Float64Array.from([1]), new Float64Array(2))).toThrow(RangeError);
    expect(() => tallyPValues(Float64Array.from([1, 2]), Float64Array.from([1]), new Float64Array(3))).toThrow(RangeError);
  });
});
