import type { Command } from 'commander';
import type { ThresholdRule } from '../../api/threshold';
import { decimal, integer } from './options';

/** `--fdr`, `--max-alerts`, `--threshold-score`: the threshold rule, on train (the model's default) and detect (this job's). */
export interface ThresholdOptions {
  fdr?: number;
  maxAlerts?: number;
  thresholdScore?: number;
}

export function addThresholdOptions(command: Command, whose: string): Command {
  return command
    .option('--fdr <alpha>', `${whose}: flag by false-discovery rate, e.g. 0.01 (conformal p-values, Benjamini–Hochberg over the job)`, decimal)
    .option('--max-alerts <n>', `${whose}: flag at most the n highest-scoring rows of a job`, integer)
    .option('--threshold-score <value>', `${whose}: flag rows scoring above this value`, decimal);
}

/** The rule the options ask for, or undefined; two at once is an error. The workflow checks the values. */
export function thresholdRuleOf(opts: ThresholdOptions): ThresholdRule | undefined {
  const given = [
    opts.fdr !== undefined ? { method: 'fdr' as const, alpha: opts.fdr } : undefined,
    opts.maxAlerts !== undefined ? { method: 'maxAlerts' as const, n: opts.maxAlerts } : undefined,
    opts.thresholdScore !== undefined ? { method: 'score' as const, value: opts.thresholdScore } : undefined,
  ].filter((rule) => rule !== undefined);
  if (given.length > 1) throw new Error('--fdr, --max-alerts and --threshold-score are one rule each: give one of them');
  return given[0];
}
