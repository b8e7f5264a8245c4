import { maxAlerts } from '../../../src/scoring/maxAlerts';

describe('maxAlerts', () => {
  it('flags the n highest scores, in the rows they came in', () => {
    const result = maxAlerts(Float64Array.from([0.1, 0.9, 0.5, 0.7, 0.3]), 2);
    expect(Array.from(result.flagged)).toEqual([0, 1, 0, 1, 0]);
    expect(result).toMatchObject({ cutoff: 0.5, count: 2, excludedByTie: 0 });
  });

  it('leaves out the whole tied group at the boundary, so never more than n rows are flagged, and says how many', () => {
    // Top 3 would be 0.9, 0.8 and one of the three 0.6s: none of the 0.6s is flagged.
    const result = maxAlerts(Float64Array.from([0.6, 0.9, 0.6, 0.1, 0.8, 0.6]), 3);
    expect(Array.from(result.flagged)).toEqual([0, 1, 0, 0, 1, 0]);
    expect(result).toMatchObject({ cutoff: 0.6, count: 2, excludedByTie: 1 });
    // A tie entirely inside the top n is flagged in full.
    expect(maxAlerts(Float64Array.from([0.6, 0.9, 0.6, 0.1]), 3).count).toBe(3);
    // Everything tied: nothing can be told apart, nothing is flagged.
    expect(maxAlerts(Float64Array.from([1, 1, 1]), 2)).toMatchObject({ count: 0, excludedByTie: 2 });
  });

  it('flags every row of a job with at most n rows, and none for n = 0', () => {
    expect(maxAlerts(Float64Array.from([3, 1]), 5)).toMatchObject({ cutoff: -Infinity, count: 2, excludedByTie: 0 });
    expect(maxAlerts(Float64Array.from([3, 1]), 0)).toMatchObject({ cutoff: 3, count: 0, excludedByTie: 0 });
  });

  it('flags the same rows whatever order the rows come in', () => {
    const scores = Float64Array.from({ length: 500 }, (_, i) => Math.round(Math.sin(i * 12.9898) * 50));
    const reference = maxAlerts(scores, 40);
    const order = Array.from({ length: 500 }, (_, i) => (i * 7919) % 500);
    const shuffled = maxAlerts(Float64Array.from(order, (i) => scores[i]), 40);
    const rows = order.filter((_, position) => shuffled.flagged[position] === 1).sort((a, b) => a - b);
    expect(rows).toEqual([...reference.flagged.keys()].filter((i) => reference.flagged[i] === 1));
    expect(shuffled.excludedByTie).toBe(reference.excludedByTie);
  });

  it('refuses a negative or fractional n and NaN scores', () => {
    expect(() => maxAlerts(Float64Array.from([1]), -1)).toThrow(RangeError);
    expect(() => maxAlerts(Float64Array.from([1]), 1.5)).toThrow(RangeError);
    expect(() => maxAlerts(Float64Array.from([NaN]), 1)).toThrow(RangeError);
  });
});
