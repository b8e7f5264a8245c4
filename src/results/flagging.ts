/**
 * How a job decides which rows are anomalies, and what it keeps of why: the shapes the job's
 * records, report, CLI and exports share. Which rule a job runs is checked in src/api/threshold.ts.
 *
 * - `contamination`: score above the (1 − contamination) quantile of the training scores;
 * - `score`: score above a value a person chose;
 * - `fdr`: conformal p-values against the model's calibration scores, then Benjamini–Hochberg over
 *   the whole job, so on data like the training data at most α of the flagged rows are expected
 *   to be false alarms (src/scoring/conformal.ts);
 * - `maxAlerts`: the job's n highest-scoring rows, a tied group at the boundary left out whole
 *   (src/scoring/maxAlerts.ts).
 *
 * Every rule ends as "score > cutoff" for one job-wide cutoff; fdr and maxAlerts know theirs
 * only once every chunk is scored, so chunks store candidates (chunkFlagging.ts) and finalising
 * keeps the flagged (jobFlagging.ts).
 */
export type ThresholdRule =
  | { method: 'contamination' }
  | { method: 'score'; value: number }
  | { method: 'fdr'; alpha: number }
  | { method: 'maxAlerts'; n: number };

/** The rule in words, as the report and the CLI print it. */
export function describeThreshold(rule: ThresholdRule): string {
  switch (rule.method) {
    case 'contamination':
      return "the model's contamination quantile of its training scores";
    case 'score':
      return `score above ${rule.value}`;
    case 'fdr':
      return `false-discovery rate ≤ ${rule.alpha} (conformal p-values, Benjamini–Hochberg over the whole job)`;
    case 'maxAlerts':
      return `at most ${rule.n} alerts (the highest scores; a tie at the boundary is left out whole)`;
  }
}

/** How a finished job flagged its rows: on its summary, in its report, CLI and exports. */
export interface JobFlagging {
  rule: ThresholdRule;
  /** Where the rule came from: the job's input, the model's, or the default. */
  ruleFrom: 'job' | 'model' | 'default';
  /**
   * Rows scoring strictly above this are the job's anomalies. null when no finite number does it:
   * then `flagged` is 0 (nothing qualified) or the job's rows (every row did).
   */
  cutoff: number | null;
  flagged: number;
  /** Rows the chunks stored as candidates before the job-wide rule kept `flagged` of them. */
  candidates: number;
  /** maxAlerts: rows among the n highest left out because they tie with the first row past n. */
  excludedByTie?: number;
  /** The model's calibration scores (held out of its training sample), which p-values count against. */
  calibrationScores?: number;
}

/** What every chunk of a job needs to know to store its candidates and explain them. */
export interface ChunkFlagging {
  rule: ThresholdRule;
  /** Features explained per stored anomaly; 0: none. */
  explainTop: number;
}

/**
 * One feature's part in why a row is anomalous: the value the row had, its contribution (the
 * detector's explain(), higher = more anomalous) and where the value sits among the model's
 * training rows (percentile 0–100; null for models trained before profiles were kept).
 */
export interface FeatureContribution {
  feature: string;
  /** The cell as the model read it: a number, a category's code, a timestamp's epoch milliseconds. */
  value: number;
  contribution: number;
  /** Among the training values: numbers only (a category code or a timestamp has no meaningful rank). */
  percentile: number | null;
  /**
   * The value as a person reads it, when it is not a plain number: a category's text (when the
   * model learnt it), "(missing)", "(rare)" (not among its levels), or a timestamp in ISO 8601 UTC. Absent for numbers.
   */
  text?: string;
}
