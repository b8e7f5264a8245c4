import type { FeatureContribution } from '../../../src/api/results';
import { compactExplanation, parseCompactExplanation, pValueText, readableExplanation, signedContribution } from '../../../src/results/explanationText';

const explanation: FeatureContribution[] = [
  { feature: 'amount', value: 15230.5, contribution: 0.83123, percentile: 99.94 },
  { feature: 'n_items', value: 3, contribution: 0.12, percentile: 50 },
  { feature: 'latency_ms', value: 0.000123456789, contribution: -0.0012345, percentile: null },
];

describe('explanation text', () => {
  it('writes the compact CSV form: feature:signed contribution to 3 significant digits, most anomalous first, joined by ;', () => {
    expect(compactExplanation(explanation)).toBe('amount:+0.831;n_items:+0.12;latency_ms:-0.00123');
    expect(compactExplanation(null)).toBe('');
    expect(compactExplanation([])).toBe('');
  });

  it('signs every contribution, zero included', () => {
    expect(signedContribution(0)).toBe('+0');
    expect(signedContribution(-0.00001)).toBe('-0.00001');
    expect(signedContribution(1234.5)).toBe('+1230');
    expect(signedContribution(-2)).toBe('-2');
  });

  it('escapes :, ; and \\ in feature names so any name reads back', () => {
    const hostile: FeatureContribution[] = [
      { feature: 'a:b;c\\d', value: 1, contribution: 0.5, percentile: 1 },
      { feature: '<script>', value: 2, contribution: 0.25, percentile: 2 },
      { feature: 'trailing\\', value: 3, contribution: -1, percentile: 3 },
    ];
    const text = compactExplanation(hostile);
    expect(text).toBe('a\\:b\\;c\\\\d:+0.5;<script>:+0.25;trailing\\\\:-1');
    expect(parseCompactExplanation(text)).toEqual(hostile.map((f) => ({ feature: f.feature, contribution: f.contribution })));
    expect(parseCompactExplanation(compactExplanation(explanation))).toEqual([
      { feature: 'amount', contribution: 0.831 },
      { feature: 'n_items', contribution: 0.12 },
      { feature: 'latency_ms', contribution: -0.00123 },
    ]);
    expect(parseCompactExplanation('')).toEqual([]);
    expect(() => parseCompactExplanation('amount')).toThrow(/feature "amount" has no contribution/);
  });

  it('writes the readable CLI form: value, training percentile when known, contribution', () => {
    expect(readableExplanation(explanation)).toBe('amount=15230.5 (p99.9) +0.831, n_items=3 (p50.0) +0.12, latency_ms=0.000123457 -0.00123');
    expect(readableExplanation(null)).toBe('-');
  });

  it('writes p-values readably: small ones in scientific notation, none as a dash', () => {
    expect(pValueText(0.0123456)).toBe('0.0123');
    expect(pValueText(0.000499)).toBe('4.99e-4');
    expect(pValueText(null)).toBe('–');
    expect(pValueText(undefined)).toBe('–');
  });
});
