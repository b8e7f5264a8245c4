import { timestampMillis } from '../../../src/data/cellValues';
import { fastTimestampMillis } from '../../../src/data/timestampBytes';

function fast(text: string): number {
  const bytes = Buffer.from(text);
  return fastTimestampMillis(bytes, 0, bytes.length);
}

describe('timestamps from CSV bytes: exactly timestampMillis, or NaN to ask it', () => {
  const dates = ['2026-03-01', '2024-02-29', '2023-02-29', '2026-13-01', '2026-04-31', '1969-12-31', '0099-01-01', '2026-3-01', '2026/03/01', '9999-12-31'];
  const times = ['', 'T10:00', ' 23:59', 'T24:00', 'T10:60', 'T10:00:59', 'T10:00:60', 'T00:00:00.5', 'T00:00:00.123456789', 'T00:00:00.1234567890', 'T00:00:00.', 'T00:00:00,5', 'T10'];
  const zones = ['', 'Z', '+02:00', '-0530', 'z', ' '];
  const texts = dates.flatMap((d) => times.flatMap((t) => zones.map((z) => d + t + z)));

  it(`agrees with timestampMillis on ${texts.length} texts, and reads every common form itself`, () => {
    let readHere = 0;
    for (const text of texts) {
      const mine = fast(text);
      const theirs = timestampMillis(text);
      if (mine === mine) {
        readHere++;
        expect([text, mine]).toEqual([text, theirs]);
      }
      const common = !/[+,]|-\d{4}$|-\d\d:\d\d$|^0|\s$/.test(text) && !text.includes('z');
      if (common && theirs === theirs) expect([text, mine]).toEqual([text, theirs]);
    }
    expect(readHere).toBeGreaterThan(40); // the valid common forms among them
  });

  it('random instants printed by toISOString read back exactly', () => {
    for (let i = 0; i < 2000; i++) {
      const ms = Math.floor((i * 7919.123 * 1e8) % 4e12) - 1e12;
      const iso = new Date(ms).toISOString();
      expect(fast(iso)).toBe(ms);
      expect(fast(iso.slice(0, 19))).toBe(timestampMillis(iso.slice(0, 19)));
    }
  });

  it('counts days as Date.UTC does from year 100 to 9999 (every 13th day, and every leap day)', () => {
    const pad = (n: number, width: number) => String(n).padStart(width, '0');
    const first = Date.UTC(100, 0, 1);
    const last = Date.UTC(9999, 11, 31);
    const day = 86_400_000;
    for (let ms = first; ms <= last; ms += 13 * day) {
      const d = new Date(ms);
      const text = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
      if (fast(text) !== ms) expect([text, fast(text)]).toEqual([text, ms]);
    }
    for (let year = 104; year <= 9996; year += 4) {
      const ms = Date.UTC(year, 1, 29);
      if (new Date(ms).getUTCMonth() === 1) expect(fast(`${pad(year, 4)}-02-29T23:59:59.999`)).toBe(ms + day - 1);
    }
  });
});
