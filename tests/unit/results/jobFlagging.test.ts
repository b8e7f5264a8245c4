import { benjaminiHochberg } from '../../../src/scoring/benjaminiHochberg';
import { conformalPValues, pValueOf, scoreCutoffForPValue, sortCalibrationScores } from '../../../src/scoring/conformal';
import { maxAlerts } from '../../../src/scoring/maxAlerts';
import { SeededRandom } from '../../../src/scoring/random';
import { jobCutoff } from '../../../src/results/jobFlagging';

function draws(n: number, rng: SeededRandom, scale = 1, ties = false): Float64Array {
  return Float64Array.from({ length: n }, () => (ties ? Math.round(rng.next() * 20) / 20 : rng.next()) * scale);
}

describe('a job-wide rule as one score cutoff', () => {
  it('p(s) ≤ a p-value cutoff exactly when s is above the score cutoff, with ties and at the ends', () => {
    const rng = new SeededRandom(3);
    for (const ties of [false, true]) {
      const calibration = sortCalibrationScores(draws(199, rng, 1, ties));
      const scores = draws(2000, rng, 1.2, ties);
      for (const pCutoff of [0, 1 / 400, 0.005, 0.01, 0.05, 0.2, 0.999, 1]) {
        const cutoff = scoreCutoffForPValue(calibration, pCutoff);
        for (const s of scores) expect([s, pValueOf(calibration, s) <= pCutoff]).toEqual([s, s > cutoff]);
      }
    }
  });

  it('fdr flags exactly the rows Benjamini–Hochberg flags over all the p-values', () => {
    const rng = new SeededRandom(11);
    const calibration = sortCalibrationScores(draws(9999, rng));
    // Mostly like the calibration, plus a few far above it.
    const scores = Float64Array.from({ length: 20_000 }, (_, i) => (i % 97 === 0 ? 1 + rng.next() : rng.next()));
    for (const alpha of [0.01, 0.05, 0.2]) {
      const expected = benjaminiHochberg(conformalPValues(calibration, scores), alpha);
      const found = jobCutoff({ method: 'fdr', alpha }, scores, { threshold: 0, calibration });
      expect(found.flagged).toBe(expected.count);
      expect(expected.count).toBeGreaterThan(0);
      for (let i = 0; i < scores.length; i++) expect(scores[i] > found.cutoff).toBe(expected.flagged[i] === 1);
    }
  });

  it('fdr on rows like the calibration rows flags nothing: cutoff +Infinity', () => {
    const rng = new SeededRandom(5);
    const calibration = sortCalibrationScores(draws(999, rng));
    const found = jobCutoff({ method: 'fdr', alpha: 0.01 }, draws(5000, rng), { threshold: 0, calibration });
    expect(found).toEqual({ cutoff: Infinity, flagged: 0 });
  });

  it('maxAlerts and score are the core rules, contamination the model threshold', () => {
    const rng = new SeededRandom(9);
    const scores = draws(3000, rng, 1, true);
    const core = maxAlerts(scores, 40);
    expect(jobCutoff({ method: 'maxAlerts', n: 40 }, scores, { threshold: 0 })).toEqual({ cutoff: core.cutoff, flagged: core.count, excludedByTie: core.excludedByTie });
    const above = scores.filter((s) => s > 0.9).length;
    expect(jobCutoff({ method: 'score', value: 0.9 }, scores, { threshold: 0 })).toEqual({ cutoff: 0.9, flagged: above });
    expect(jobCutoff({ method: 'contamination' }, scores, { threshold: 0.9 })).toEqual({ cutoff: 0.9, flagged: above });
  });
});
