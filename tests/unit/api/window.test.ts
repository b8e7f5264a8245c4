import fc from 'fast-check';
import { ApplicationFailure } from '@temporalio/common';
import {
  MAX_BACKFILL_WINDOWS,
  WINDOW_PERIODS,
  expandTemplate,
  scheduledWindow,
  validateTimeZone,
  validateWindow,
  windowValues,
  windowsBetween,
  type JobWindow,
} from '../../../src/api/window';
import { failureOf } from '../../support/failureOf';

const HOUR = 3_600_000;
const hours = (w: JobWindow): number => (Date.parse(w.end) - Date.parse(w.start)) / HOUR;

/** What a wall clock in the zone shows at an instant, written independently of the module (sv-SE gives ISO order). */
const localFormats = new Map<string, Intl.DateTimeFormat>();
function localTime(iso: string, timeZone: string): string {
  if (!localFormats.has(timeZone)) {
    localFormats.set(timeZone, new Intl.DateTimeFormat('sv-SE', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }));
  }
  return localFormats.get(timeZone)!.format(new Date(iso)).replace(' ', 'T');
}

function expectInvalid(work: () => unknown, field: string, message: string): void {
  const failure = failureOf(work);
  expect(failure).toBeInstanceOf(ApplicationFailure);
  expect(failure.nonRetryable).toBe(true);
  expect(failure.type).toBe('InvalidInput');
  expect(failure.message).toContain(`"${field}"`);
  expect(failure.message).toContain(message);
}

describe('scheduledWindow', () => {
  it('a nightly run at 02:00 Paris covers the whole previous Paris day', () => {
    // 02:00 CET on 2026-12-04 is 01:00Z.
    expect(scheduledWindow(new Date('2026-12-04T01:00:00Z'), 'day', 'Europe/Paris')).toEqual({
      start: '2026-12-02T23:00:00.000Z',
      end: '2026-12-03T23:00:00.000Z',
    });
  });

  it('a run at exactly local midnight covers the day that just ended', () => {
    expect(scheduledWindow(new Date('2026-12-03T23:00:00Z'), 'day', 'Europe/Paris')).toEqual({
      start: '2026-12-02T23:00:00.000Z',
      end: '2026-12-03T23:00:00.000Z',
    });
  });

  it('in UTC the previous day is midnight to midnight UTC', () => {
    expect(scheduledWindow(new Date('2026-12-04T02:00:00Z'), 'day', 'UTC')).toEqual({ start: '2026-12-03T00:00:00.000Z', end: '2026-12-04T00:00:00.000Z' });
  });

  it('the day the clocks go forward in Paris is 23 hours long', () => {
    // 2026-03-29: 02:00 CET becomes 03:00 CEST. The run the night after covers it.
    const window = scheduledWindow(new Date('2026-03-30T00:30:00Z'), 'day', 'Europe/Paris');
    expect(window).toEqual({ start: '2026-03-28T23:00:00.000Z', end: '2026-03-29T22:00:00.000Z' });
    expect(hours(window)).toBe(23);
  });

  it('the day the clocks go back in Paris is 25 hours long', () => {
    const window = scheduledWindow(new Date('2026-10-26T01:00:00Z'), 'day', 'Europe/Paris');
    expect(window).toEqual({ start: '2026-10-24T22:00:00.000Z', end: '2026-10-25T23:00:00.000Z' });
    expect(hours(window)).toBe(25);
  });

  it('New York: 23 hours on 2026-03-08, 25 on 2026-11-01, from local midnight to local midnight', () => {
    const spring = scheduledWindow(new Date('2026-03-09T07:00:00Z'), 'day', 'America/New_York');
    expect(spring).toEqual({ start: '2026-03-08T05:00:00.000Z', end: '2026-03-09T04:00:00.000Z' });
    expect(hours(spring)).toBe(23);
    const autumn = scheduledWindow(new Date('2026-11-02T07:00:00Z'), 'day', 'America/New_York');
    expect(autumn).toEqual({ start: '2026-11-01T04:00:00.000Z', end: '2026-11-02T05:00:00.000Z' });
    expect(hours(autumn)).toBe(25);
    for (const w of [spring, autumn]) {
      expect(localTime(w.start, 'America/New_York')).toMatch(/T00:00:00$/);
      expect(localTime(w.end, 'America/New_York')).toMatch(/T00:00:00$/);
    }
  });

  it('a zone whose clocks skip midnight (Santiago) starts that day when the clocks jump', () => {
    // 2026-09-06 00:00 -04 does not exist: the clocks go from 23:59:59 to 01:00 -03 at 04:00Z.
    const window = scheduledWindow(new Date('2026-09-07T12:00:00Z'), 'day', 'America/Santiago');
    expect(window).toEqual({ start: '2026-09-06T04:00:00.000Z', end: '2026-09-07T03:00:00.000Z' });
    expect(localTime(window.start, 'America/Santiago')).toBe('2026-09-06T01:00:00');
  });

  it('an hourly run covers the previous whole hour, also in a half-hour zone', () => {
    expect(scheduledWindow(new Date('2026-12-04T10:17:42.123Z'), 'hour', 'Europe/Paris')).toEqual({ start: '2026-12-04T09:00:00.000Z', end: '2026-12-04T10:00:00.000Z' });
    // Kolkata is UTC+05:30: its hours start at half past in UTC.
    expect(scheduledWindow(new Date('2026-12-04T10:17:00Z'), 'hour', 'Asia/Kolkata')).toEqual({ start: '2026-12-04T08:30:00.000Z', end: '2026-12-04T09:30:00.000Z' });
  });

  it('hours across the autumn change in New York are each an hour: 01:00 happens twice', () => {
    const first = scheduledWindow(new Date('2026-11-01T06:10:00Z'), 'hour', 'America/New_York');
    const second = scheduledWindow(new Date('2026-11-01T07:10:00Z'), 'hour', 'America/New_York');
    expect(first).toEqual({ start: '2026-11-01T05:00:00.000Z', end: '2026-11-01T06:00:00.000Z' });
    expect(second).toEqual({ start: '2026-11-01T06:00:00.000Z', end: '2026-11-01T07:00:00.000Z' });
    expect(localTime(first.start, 'America/New_York')).toBe(localTime(second.start, 'America/New_York'));
  });

  it('property: the window is the whole period just before the one holding the schedule', () => {
    const zones = ['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Australia/Sydney', 'America/Santiago'];
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2060-01-01T00:00:00Z'), noInvalidDate: true }),
        fc.constantFrom(...WINDOW_PERIODS),
        fc.constantFrom(...zones),
        (at, period, zone) => {
          const window = scheduledWindow(at, period, zone);
          const [start, end] = [Date.parse(window.start), Date.parse(window.end)];
          expect(end).toBeLessThanOrEqual(at.getTime());
          expect(start).toBeLessThan(end);
          // `at` lies in the period that starts at the window's end, so a run at that very start sees the same window...
          expect(at.getTime() - end).toBeLessThan((period === 'day' ? 25 : 1.5) * HOUR);
          expect(scheduledWindow(new Date(end), period, zone)).toEqual(window);
          // ...and the run scheduled at the window's start sees the period just before it.
          expect(scheduledWindow(new Date(start), period, zone).end).toBe(window.start);
          expect(hours(window)).toBeGreaterThanOrEqual(period === 'day' ? 23 : 0.5);
          expect(hours(window)).toBeLessThanOrEqual(period === 'day' ? 25 : 1.5);
          if (period === 'day') expect(localTime(window.end, zone).slice(0, 10)).not.toBe(localTime(window.start, zone).slice(0, 10));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('windowsBetween', () => {
  it('gives one window per local day of a backfill, with the DST day 23 hours long', () => {
    const windows = windowsBetween('2026-03-28', '2026-03-31', 'day', 'Europe/Paris');
    expect(windows).toEqual([
      { start: '2026-03-27T23:00:00.000Z', end: '2026-03-28T23:00:00.000Z' },
      { start: '2026-03-28T23:00:00.000Z', end: '2026-03-29T22:00:00.000Z' },
      { start: '2026-03-29T22:00:00.000Z', end: '2026-03-30T22:00:00.000Z' },
    ]);
  });

  it('covers instants that fall inside a period with that whole period', () => {
    expect(windowsBetween('2026-12-03T10:30:00Z', '2026-12-03T12:00:01Z', 'hour', 'UTC')).toEqual([
      { start: '2026-12-03T10:00:00.000Z', end: '2026-12-03T11:00:00.000Z' },
      { start: '2026-12-03T11:00:00.000Z', end: '2026-12-03T12:00:00.000Z' },
      { start: '2026-12-03T12:00:00.000Z', end: '2026-12-03T13:00:00.000Z' },
    ]);
  });

  it('gives 25 hour windows over the day New York turns the clocks back', () => {
    const windows = windowsBetween('2026-11-01', '2026-11-02', 'hour', 'America/New_York');
    expect(windows).toHaveLength(25);
    expect(windows.every((w) => hours(w) === 1)).toBe(true);
    expect(windows[0].start).toBe('2026-11-01T04:00:00.000Z');
    expect(windows[24].end).toBe('2026-11-02T05:00:00.000Z');
  });

  it('gives 23 hour windows over the day Paris moves the clocks forward', () => {
    expect(windowsBetween('2026-03-29', '2026-03-30', 'hour', 'Europe/Paris')).toHaveLength(23);
  });

  it('a year of days is 365 windows; more than 1000 is refused with a clear message', () => {
    expect(windowsBetween('2025-01-01', '2026-01-01', 'day', 'Europe/Paris')).toHaveLength(365);
    expect(windowsBetween('2026-01-01T00:00:00Z', '2026-02-11T16:00:00Z', 'hour', 'UTC')).toHaveLength(1000);
    expect(() => windowsBetween('2026-01-01T00:00:00Z', '2026-02-11T16:00:01Z', 'hour', 'UTC')).toThrow(`more than ${MAX_BACKFILL_WINDOWS} windows`);
    expect(() => windowsBetween('2000-01-01', '2100-01-01', 'day', 'UTC')).toThrow('split it into smaller ranges');
  });

  it('refuses a reversed or empty range and bounds that are not dates or zoned instants', () => {
    expect(() => windowsBetween('2026-12-04', '2026-12-03', 'day', 'UTC')).toThrow('from (2026-12-04) must be before to (2026-12-03)');
    expect(() => windowsBetween('2026-12-04', '2026-12-04', 'day', 'UTC')).toThrow('must be before');
    expect(() => windowsBetween('2026-12-04T00:00:00', '2026-12-05', 'day', 'UTC')).toThrow('backfill from "2026-12-04T00:00:00" is not a date');
    expect(() => windowsBetween('2026-12-04', 'yesterday', 'day', 'UTC')).toThrow('backfill to "yesterday" is not a date');
    expect(() => windowsBetween('2026-12-04', '2026-12-05', 'week' as never, 'UTC')).toThrow('period "week" is not one of hour, day');
  });

  it('property: windows tile [floor(from), to) without gaps, each a whole local day or hour', () => {
    const zones = ['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Pacific/Auckland'];
    fc.assert(
      fc.property(
        fc.integer({ min: Date.parse('2001-01-01T00:00:00Z'), max: Date.parse('2059-01-01T00:00:00Z') }),
        fc.integer({ min: 1, max: 40 * 24 * HOUR }),
        fc.constantFrom(...WINDOW_PERIODS),
        fc.constantFrom(...zones),
        (from, length, period, zone) => {
          if (period === 'hour') length = (length % (120 * HOUR)) + 1;
          const [fromIso, toIso] = [new Date(from).toISOString(), new Date(from + length).toISOString()];
          const windows = windowsBetween(fromIso, toIso, period, zone);
          expect(Date.parse(windows[0].start)).toBeLessThanOrEqual(from);
          expect(Date.parse(windows[windows.length - 1].end)).toBeGreaterThanOrEqual(from + length);
          expect(Date.parse(windows[windows.length - 1].start)).toBeLessThan(from + length);
          windows.forEach((w, i) => {
            if (i > 0) expect(w.start).toBe(windows[i - 1].end);
            const local = localTime(w.start, zone);
            if (period === 'hour') expect(local).toMatch(/:00:00$/);
            // Midnight exists every day in these zones (their clocks change at 02:00 or 03:00).
            else expect([local.slice(10), localTime(w.end, zone).slice(10), hours(w) >= 23]).toEqual(['T00:00:00', 'T00:00:00', true]);
          });
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('windowValues and expandTemplate', () => {
  it("the date is the window start's local date, not its UTC date", () => {
    const window = { start: '2026-12-02T23:00:00.000Z', end: '2026-12-03T23:00:00.000Z' };
    expect(windowValues(window, 'Europe/Paris')).toEqual({ ...window, date: '2026-12-03' });
    expect(windowValues(window, 'UTC').date).toBe('2026-12-02');
  });

  it('fills {date}, {start} and {end}, as often as they appear', () => {
    const values = { start: '2026-12-02T23:00:00.000Z', end: '2026-12-03T23:00:00.000Z', date: '2026-12-03' };
    expect(expandTemplate('orders/{date}/part-{date}-{start}_{end}.csv', values)).toBe('orders/2026-12-03/part-2026-12-03-2026-12-02T23:00:00.000Z_2026-12-03T23:00:00.000Z.csv');
    expect(expandTemplate('plain/prefix/', values)).toBe('plain/prefix/');
    expect(expandTemplate('open { only', values)).toBe('open { only');
  });

  it('refuses any other placeholder, naming it and the allowed ones', () => {
    const values = { start: 's', end: 'e', date: 'd' };
    expect(() => expandTemplate('orders/{day}/', values)).toThrow('unknown placeholder {day}; the allowed ones are {date}, {start}, {end}');
    expect(() => expandTemplate('orders/{}/', values)).toThrow('unknown placeholder {}');
    expect(() => expandTemplate(`{${'x'.repeat(5000)}}`, values)).toThrow(/unknown placeholder \{x{40}…\}/);
  });
});

describe('validateWindow', () => {
  it('takes zoned instants and plain dates (00:00 UTC), and writes them as UTC instants', () => {
    expect(validateWindow('w', 'window', { start: '2026-12-03', end: '2026-12-04T01:30:00+01:00' })).toEqual({ start: '2026-12-03T00:00:00.000Z', end: '2026-12-04T00:30:00.000Z' });
    expect(validateWindow('w', 'window', { start: '2026-12-03T00:00Z', end: '2026-12-03T00:00:00.5-00:30' })).toEqual({ start: '2026-12-03T00:00:00.000Z', end: '2026-12-03T00:30:00.500Z' });
  });

  it('takes a window of exactly 366 days', () => {
    expect(validateWindow('w', 'window', { start: '2028-01-01', end: '2029-01-01' })).toEqual({ start: '2028-01-01T00:00:00.000Z', end: '2029-01-01T00:00:00.000Z' });
  });

  it.each([
    [null, 'window', 'must be an object'],
    [[1, 2], 'window', 'must be an object'],
    ['2026-12-03', 'window', 'must be an object'],
    [{ end: '2026-12-04' }, 'window.start', 'is required'],
    [{ start: 20261203, end: '2026-12-04' }, 'window.start', 'is required'],
    [{ start: '2026-12-03', end: '' }, 'window.end', 'is required'],
    [{ start: '2026-12-03T00:00:00', end: '2026-12-04' }, 'window.start', '"2026-12-03T00:00:00" is not a date'],
    [{ start: '2026-12-03 00:00:00Z', end: '2026-12-04' }, 'window.start', 'is not a date'],
    [{ start: '2026-02-30', end: '2026-12-04' }, 'window.start', 'is not a date'],
    [{ start: '2026-12-03T24:00:00Z', end: '2026-12-04' }, 'window.start', 'is not a date'],
    [{ start: '2026-12-03T10:00:00+25:00', end: '2026-12-04' }, 'window.start', 'is not a date'],
    [{ start: 'yesterday', end: '2026-12-04' }, 'window.start', '"yesterday" is not a date'],
    [{ start: '2026-12-03', end: '2026-12-03T00:00:00+00:00' }, 'window.end', 'must be after window.start'],
    [{ start: '2026-12-04', end: '2026-12-03' }, 'window.end', 'must be after window.start'],
    [{ start: '2026-01-01', end: '2027-01-02T00:00:00.001Z' }, 'window.end', 'is more than 366 days after window.start'],
    [{ start: '2026-12-03', end: '2026-12-04', zone: 'UTC' }, 'window.zone', 'is not a known field (known: start, end)'],
  ])('refuses %j non-retryably, naming the field', (input, field, message) => {
    expectInvalid(() => validateWindow('nightly', 'window', input), field, message);
  });

  it('never quotes a huge value back in full', () => {
    const failure = failureOf(() => validateWindow('w', 'window', { start: 'x'.repeat(10_000), end: '2026-12-04' }));
    expect(failure.message).toContain('"window.start"');
    expect(failure.message.length).toBeLessThan(400);
  });

  it('property: any instant written with any offset validates to the same UTC instant', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.parse('1990-01-01T00:00:00Z'), max: Date.parse('2090-01-01T00:00:00Z') }),
        fc.integer({ min: 1, max: 366 * 24 * 60 }),
        fc.integer({ min: -14 * 60, max: 14 * 60 }),
        (startMs, minutes, offsetMinutes) => {
          const start = Math.floor(startMs / 1000) * 1000;
          const end = start + minutes * 60_000;
          const write = (ms: number): string => {
            const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 19);
            const abs = Math.abs(offsetMinutes);
            return `${local}${offsetMinutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
          };
          expect(validateWindow('w', 'window', { start: write(start), end: write(end) })).toEqual({ start: new Date(start).toISOString(), end: new Date(end).toISOString() });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('validateTimeZone', () => {
  it('takes IANA names, as given, and UTC by default', () => {
    expect(validateTimeZone('w', 'timeZone', undefined)).toBe('UTC');
    expect(validateTimeZone('w', 'timeZone', 'Europe/Paris')).toBe('Europe/Paris');
    expect(validateTimeZone('w', 'timeZone', 'America/Argentina/Buenos_Aires')).toBe('America/Argentina/Buenos_Aires');
    expect(validateTimeZone('w', 'timeZone', 'Etc/GMT+5')).toBe('Etc/GMT+5');
  });

  it.each([
    [null, 'must be an IANA time zone name'],
    ['', 'must be an IANA time zone name'],
    [60, 'must be an IANA time zone name'],
    ['+01:00', '"+01:00" is not an IANA time zone name'],
    ['Europe/Pariss', '"Europe/Pariss" is not a time zone this runtime knows'],
    ['Europe/../Paris', 'is not an IANA time zone name'],
    ['Z'.repeat(65), 'is not an IANA time zone name'],
  ])('refuses %j, naming the field', (input, message) => {
    expectInvalid(() => validateTimeZone('nightly', 'timeZone', input), 'timeZone', message);
  });
});
