import { ApplicationFailure } from '@temporalio/common';
import { validateDetectBackfillInput } from '../../../src/api/backfillInput';
import { validateDetectBatchInput, validateTrainModelInput } from '../../../src/api/inputs';
import { validateThreshold } from '../../../src/api/threshold';
import { describeThreshold } from '../../../src/results/flagging';
import { thresholdRuleOf } from '../../../src/client/cli/thresholdOptions';

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as ApplicationFailure).type).toBe('InvalidInput');
    return (err as Error).message;
  }
  throw new Error('not refused');
}

describe('the threshold rule in workflow inputs', () => {
  it('takes each rule as given', () => {
    expect(validateThreshold('detectBatch', 'threshold', { method: 'fdr', alpha: 0.01 })).toEqual({ method: 'fdr', alpha: 0.01 });
    expect(validateThreshold('detectBatch', 'threshold', { method: 'maxAlerts', n: 100 })).toEqual({ method: 'maxAlerts', n: 100 });
    expect(validateThreshold('detectBatch', 'threshold', { method: 'score', value: -0.5 })).toEqual({ method: 'score', value: -0.5 });
    expect(validateThreshold('detectBatch', 'threshold', { method: 'contamination' })).toEqual({ method: 'contamination' });
  });

  it.each([
    ['not an object', 'fdr', /"threshold" must be a JSON object/],
    ['an unknown method', { method: 'magic' }, /"threshold.method" "magic" is not one of contamination, score, fdr, maxAlerts/],
    ['alpha out of range', { method: 'fdr', alpha: 1 }, /"threshold.alpha" must be a number in \(0, 1\)/],
    ['alpha as text', { method: 'fdr', alpha: '0.01' }, /"threshold.alpha" must be a number/],
    ['a fractional n', { method: 'maxAlerts', n: 2.5 }, /"threshold.n" must be a whole number from 1 to 1000000/],
    ['n of zero', { method: 'maxAlerts', n: 0 }, /"threshold.n"/],
    ['a score of Infinity', { method: 'score', value: Number.POSITIVE_INFINITY }, /"threshold.value" must be a finite number/],
    ['a field of another rule', { method: 'fdr', alpha: 0.01, n: 5 }, /"threshold.n" is not a field of the fdr rule \(it takes alpha\)/],
  ])('refuses %s, naming the field', (_what, threshold, message) => {
    expect(refusal(() => validateDetectBatchInput({ model: 'm', datasetId: 'ds_0123456789abcdef', threshold }))).toMatch(message);
  });

  it('is offered by trainModel (the model’s default) and detectBackfill (every window’s job), and explain by detectBatch', () => {
    expect(validateTrainModelInput({ datasetId: 'ds_0123456789abcdef', modelName: 'm', threshold: { method: 'maxAlerts', n: 5 } }).threshold).toEqual({ method: 'maxAlerts', n: 5 });
    expect(validateTrainModelInput({ datasetId: 'ds_0123456789abcdef', modelName: 'm' }).threshold).toBeNull();
    expect(refusal(() => validateTrainModelInput({ datasetId: 'ds_0123456789abcdef', modelName: 'm', threshold: { method: 'fdr' } }))).toMatch(/trainModel input: "threshold.alpha"/);
    const source = { kind: 'objects', bucket: 'events', prefix: 'dt={date}/', format: 'csv' };
    expect(validateDetectBackfillInput({ model: 'm', source, from: '2026-11-01', to: '2026-11-03', threshold: { method: 'fdr', alpha: 0.05 }, explain: 0 })).toMatchObject({ threshold: { method: 'fdr', alpha: 0.05 }, explain: 0 });
    expect(validateDetectBatchInput({ model: 'm', datasetId: 'ds_0123456789abcdef', explain: 3 })).toMatchObject({ explain: 3, threshold: null });
    expect(refusal(() => validateDetectBatchInput({ model: 'm', datasetId: 'ds_0123456789abcdef', explain: 33 }))).toMatch(/"explain" must be an integer from 0 to 32/);
  });

  it('is said in words', () => {
    expect(describeThreshold({ method: 'fdr', alpha: 0.01 })).toMatch(/false-discovery rate ≤ 0.01/);
    expect(describeThreshold({ method: 'maxAlerts', n: 7 })).toMatch(/at most 7 alerts/);
  });

  it('comes from one CLI option at a time', () => {
    expect(thresholdRuleOf({ fdr: 0.05 })).toEqual({ method: 'fdr', alpha: 0.05 });
    expect(thresholdRuleOf({ maxAlerts: 10 })).toEqual({ method: 'maxAlerts', n: 10 });
    expect(thresholdRuleOf({})).toBeUndefined();
    expect(() => thresholdRuleOf({ fdr: 0.05, thresholdScore: 1 })).toThrow(/one rule each/);
  });
});
