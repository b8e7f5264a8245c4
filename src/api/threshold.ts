/**
 * How a job decides which rows are anomalies. Per model (trainModel's `threshold`) or per job
 * (detectBatch's, which wins); without either, the model's contamination quantile as before.
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
 * only once every chunk is scored, so chunks store candidates and finalising keeps the flagged.
 */
import { invalidInput, type Json } from './inputs';

export type ThresholdRule =
  | { method: 'contamination' }
  | { method: 'score'; value: number }
  | { method: 'fdr'; alpha: number }
  | { method: 'maxAlerts'; n: number };

export const THRESHOLD_METHODS = ['contamination', 'score', 'fdr', 'maxAlerts'] as const;

/** The most alerts a maxAlerts rule may ask for: each is a stored, explained row. */
export const MAX_ALERTS_LIMIT = 1_000_000;
/** Features explained per anomaly at most; 0 turns explanations off. */
export const MAX_EXPLAIN_TOP = 32;
export const DEFAULT_EXPLAIN_TOP = 5;

export const THRESHOLD_EXAMPLE = '{"method": "fdr", "alpha": 0.01}, {"method": "maxAlerts", "n": 100}, {"method": "score", "value": 0.62} or {"method": "contamination"}';

/** Checks a `threshold` field: one of the rules, each field named in its error. */
export function validateThreshold(workflow: string, field: string, raw: unknown): ThresholdRule {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) invalidInput(workflow, field, `must be a JSON object: ${THRESHOLD_EXAMPLE}`);
  const rule = raw as Json;
  const method = rule.method;
  if (!THRESHOLD_METHODS.includes(method as never)) {
    invalidInput(workflow, `${field}.method`, `${JSON.stringify(method)?.slice(0, 40)} is not one of ${THRESHOLD_METHODS.join(', ')}`);
  }
  const only = (allowed: string[]) => {
    for (const key of Object.keys(rule)) if (key !== 'method' && !allowed.includes(key)) invalidInput(workflow, `${field}.${key}`, `is not a field of the ${String(method)} rule${allowed.length ? ` (it takes ${allowed.join(', ')})` : ''}`);
  };
  const number = (name: string, check: (v: number) => boolean, want: string): number => {
    const value = rule[name];
    if (typeof value !== 'number' || !Number.isFinite(value) || !check(value)) invalidInput(workflow, `${field}.${name}`, `must be ${want}, got ${JSON.stringify(value)?.slice(0, 40)}`);
    return value;
  };
  switch (method as ThresholdRule['method']) {
    case 'contamination':
      only([]);
      return { method: 'contamination' };
    case 'score':
      only(['value']);
      return { method: 'score', value: number('value', () => true, 'a finite number (rows scoring above it are flagged)') };
    case 'fdr':
      only(['alpha']);
      return { method: 'fdr', alpha: number('alpha', (v) => v > 0 && v < 1, 'a number in (0, 1), the share of false alarms among flagged rows you accept, e.g. 0.01') };
    case 'maxAlerts':
      only(['n']);
      return { method: 'maxAlerts', n: number('n', (v) => Number.isInteger(v) && v >= 1 && v <= MAX_ALERTS_LIMIT, `a whole number from 1 to ${MAX_ALERTS_LIMIT}`) };
  }
}

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
