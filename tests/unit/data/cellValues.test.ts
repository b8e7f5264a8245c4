import { categoryCode, categoryCodeOfBytes, timestampMillis } from '../../../src/data/cellValues';

describe('categoryCode', () => {
  it('is an exact 52-bit integer, the same from text and from bytes, trimmed of spaces and tabs', () => {
    for (const text of ['FR', 'Zürich', '', 'a,b', '日本']) {
      const code = categoryCode(text);
      expect(Number.isInteger(code)).toBe(true);
      expect(code).toBeGreaterThanOrEqual(0);
      expect(code).toBeLessThan(2 ** 52);
      const bytes = Buffer.from(` \t${text}  `, 'utf8');
      expect(categoryCodeOfBytes(bytes, 0, bytes.length)).toBe(code);
    }
  });

  it('matches FNV-1a 64 (low 52 bits) on known vectors', () => {
    // FNV-1a 64 of "" is cbf29ce484222325, of "a" af63dc4c8601ec8c, of "foobar" 85944171f73967e8.
    const low52 = (hex: string) => Number(BigInt(`0x${hex}`) & ((1n << 52n) - 1n));
    expect(categoryCode('')).toBe(low52('cbf29ce484222325'));
    expect(categoryCode('a')).toBe(low52('af63dc4c8601ec8c'));
    expect(categoryCode('foobar')).toBe(low52('85944171f73967e8'));
  });

  it('gives distinct codes to 100,000 distinct texts', () => {
    const codes = new Set<number>();
    for (let i = 0; i < 100_000; i++) codes.add(categoryCode(`customer-${i}`));
    expect(codes.size).toBe(100_000);
  });
});

describe('timestampMillis', () => {
  it('reads dates, date-times and zones as UTC instants', () => {
    expect(timestampMillis('2026-12-05')).toBe(Date.UTC(2026, 11, 5));
    expect(timestampMillis('2026-12-05T10:30:00Z')).toBe(Date.UTC(2026, 11, 5, 10, 30));
    expect(timestampMillis('2026-12-05 10:30')).toBe(Date.UTC(2026, 11, 5, 10, 30));
    expect(timestampMillis('2026-12-05T10:30:00+01:00')).toBe(Date.UTC(2026, 11, 5, 9, 30));
    expect(timestampMillis('2026-12-05T10:30:00-0530')).toBe(Date.UTC(2026, 11, 5, 16, 0));
    expect(timestampMillis('2026-12-05T10:30:00.123456789Z')).toBe(Date.UTC(2026, 11, 5, 10, 30, 0, 123));
    expect(timestampMillis(' 2026-12-05T10:30:01.5Z\t')).toBe(Date.UTC(2026, 11, 5, 10, 30, 1, 500));
  });

  it('reads years before 100 as themselves (Date.UTC alone would make them 19xx)', () => {
    expect(new Date(timestampMillis('0099-12-31T23:59:59Z')).toISOString()).toBe('0099-12-31T23:59:59.000Z');
    expect(new Date(timestampMillis('0000-01-01')).toISOString()).toBe('0000-01-01T00:00:00.000Z');
    expect(timestampMillis('0004-02-29')).not.toBeNaN(); // a leap year
    expect(timestampMillis('0100-02-29')).toBeNaN(); // not one
  });

  it('refuses what is not a real instant', () => {
    for (const text of ['2026-12-05T10:00+99:99', '2026-12-05T10:00+05:60', '2026-02-30', '2026-13-01', '2026-12-05T24:00', '2026-12-05Z', 'yesterday', '12/05/2026', '2026-12-5', '']) {
      expect(timestampMillis(text)).toBeNaN();
    }
  });
});
