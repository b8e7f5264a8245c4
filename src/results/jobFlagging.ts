/**
 * A job's anomalies by its rule, over every row at once: the job-wide cutoff ("score > cutoff")
 * and how many rows it flags. Chunks stored candidates (src/results/chunkFlagging.ts); the
 * finalising activity keeps those above this cutoff, so the rows flagged never depend on how
 * the job was chunked.
 */
import type { ThresholdRule } from './flagging';
import { conformalFdrCutoff, scoreCutoffForPValue, tallyPValues } from '../scoring/conformal';
import { maxAlerts } from '../scoring/maxAlerts';

export interface JobCutoff {
  /** Rows scoring strictly above it are flagged; ±Infinity when none or all are. */
  cutoff: number;
  flagged: number;
  excludedByTie?: number;
}

/**
 * `modelThreshold`: the model's contamination threshold; `calibration`: its calibration scores,
 * ascending (needed by fdr only).
 */
export function jobCutoff(rule: ThresholdRule, scores: Float64Array, model: { threshold: number; calibration?: Float64Array }): JobCutoff {
  switch (rule.method) {
    case 'contamination':
      return above(scores, model.threshold);
    case 'score':
      return above(scores, rule.value);
    case 'fdr': {
      if (!model.calibration) throw new Error('the fdr rule needs the model\'s calibration scores');
      const { cutoff: pCutoff, flagged } = conformalFdrCutoff(tallyPValues(model.calibration, scores), rule.alpha);
      const cutoff = flagged === 0 ? Infinity : scoreCutoffForPValue(model.calibration, pCutoff);
      return { cutoff, flagged };
    }
    case 'maxAlerts': {
      const result = maxAlerts(scores, rule.n);
      return { cutoff: result.cutoff, flagged: result.count, excludedByTie: result.excludedByTie };
    }
  }
}

function above(scores: Float64Array, cutoff: number): JobCutoff {
  let flagged = 0;
  for (let i = 0; i < scores.length; i++) if (scores[i] > cutoff) flagged++;
  return { cutoff, flagged };
}
