import { schemaLines } from '../../../src/client/cli/datasetSchema';
import type { ColumnProfile } from '../../../src/data/profile';

describe('datasets show: the schema table', () => {
  it('prints each column\'s type, role and nulls, a category\'s cardinality and top values, a timestamp\'s range, an excluded column\'s note', () => {
    const columns: ColumnProfile[] = [
      { name: 'id', role: 'id', type: 'text', min: null, max: null, mean: null, nullCount: 0 },
      { name: 'amount', role: 'feature', type: 'number', min: 1, max: 9.5, mean: 4.25, nullCount: 3 },
      { name: 'country', role: 'feature', type: 'category', min: null, max: null, mean: null, nullCount: 2, cardinality: 3, topValues: [{ value: 'DE', count: 5 }, { value: 'FR', count: 2 }] },
      { name: 'created_at', role: 'feature', type: 'timestamp', min: 0, max: 86_400_000, mean: null, nullCount: 0, minTime: '1970-01-01T00:00:00.000Z', maxTime: '1970-01-02T00:00:00.000Z' },
      { name: 'note', role: 'excluded', type: 'text', min: null, max: null, mean: null, nullCount: 1, cardinality: 100000, cardinalityAtLeast: true, note: 'free text' },
    ];
    const lines = schemaLines(columns);
    expect(lines[0]).toMatch(/^column\s+type\s+role\s+nulls\s+min\s+max\s+mean\s+details$/);
    expect(lines[2]).toMatch(/^amount\s+number\s+feature\s+3\s+1\.0000\s+9\.5000\s+4\.2500\s*$/);
    expect(lines[3]).toMatch(/^country\s+category\s+feature\s+2\s+-\s+-\s+-\s+3 distinct; top "DE" 5, "FR" 2$/);
    expect(lines[4]).toContain('1970-01-01T00:00:00.000Z … 1970-01-02T00:00:00.000Z');
    expect(lines[5]).toMatch(/^note\s+text\s+excluded\s+1 .*≥ 100000 distinct; free text$/);
  });
});
