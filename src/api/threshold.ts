/**
 * The `threshold` a workflow input may carry (trainModel: the model's default; detectBatch and
 * detectBackfill: the job's), checked field by field. The rules themselves: src/results/flagging.ts.
 */
import { invalidInput, type Json } from './inputs';
import type { ThresholdRule } from '../results/flagging';

export type { ChunkFlagging, FeatureContribution, JobFlagging, ThresholdRule } from '../results/flagging';

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
