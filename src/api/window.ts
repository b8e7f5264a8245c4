import { invalidInput } from './inputs';

/**
 * Time windows for jobs that score "the night's data where it lives": the window a scheduled run
 * covers, the windows of a backfill, and the placeholders ({date}, {start}, {end}) a source's
 * prefix or query takes from a window.
 *
 * Workflow code imports this module, so it is pure and deterministic: no node modules, no clock;
 * time zones come from Intl (the same ICU data on every worker of one build), and local midnights
 * and hours are found by asking Intl what the wall clock shows, never by adding 24 hours (a day
 * is 23 or 25 hours long when the clocks change).
 */

/** A half-open interval [start, end) of ISO-8601 UTC instants, as `new Date(x).toISOString()` writes them. */
export interface JobWindow {
  start: string;
  end: string;
}

export const WINDOW_PERIODS = ['hour', 'day'] as const;
export type WindowPeriod = (typeof WINDOW_PERIODS)[number];

/** The placeholder values a window offers to a template. */
export interface WindowValues {
  start: string;
  end: string;
  /** The start's calendar date in the job's time zone, YYYY-MM-DD. */
  date: string;
}

/** A window longer than a leap year is almost certainly a typo (a wrong year), not a job. */
export const MAX_WINDOW_DAYS = 366;
/** A backfill of more windows than this is one to split, not to start by accident. */
export const MAX_BACKFILL_WINDOWS = 1000;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

// ---------------------------------------------------------------------------------------------
// Parsing instants

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})$/;

interface CalendarDate {
  year: number;
  month: number;
  day: number;
}

/** Year, month (1-12) and day as written, or undefined when the day does not exist (2026-02-30). */
function calendarDate(year: string, month: string, day: string): CalendarDate | undefined {
  const date = { year: Number(year), month: Number(month), day: Number(day) };
  if (date.year < 1000 || date.month < 1 || date.month > 12 || date.day < 1) return undefined;
  if (date.day > daysInMonth(date.year, date.month)) return undefined;
  return date;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Milliseconds since the epoch of a UTC wall-clock time (years 1000-9999, so Date.UTC's 0-99 rule never applies). */
function utcMs(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, ms = 0): number {
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

export type ParsedInstant = { kind: 'date'; date: CalendarDate } | { kind: 'instant'; ms: number };

/**
 * A plain date `YYYY-MM-DD`, or a date-time with seconds optional and an explicit zone
 * (`Z` or `±hh:mm`); anything else (no zone, a week date, a space for the T) is undefined,
 * because a time without a zone means a different instant on every machine.
 */
export function parseInstant(text: string): ParsedInstant | undefined {
  const dateOnly = DATE_ONLY.exec(text);
  if (dateOnly) {
    const date = calendarDate(dateOnly[1], dateOnly[2], dateOnly[3]);
    return date && { kind: 'date', date };
  }
  const m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const date = calendarDate(m[1], m[2], m[3]);
  const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  if (!date || hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  let offsetMinutes = 0;
  if (m[8] !== 'Z') {
    const [oh, om] = [Number(m[8].slice(1, 3)), Number(m[8].slice(4, 6))];
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (m[8][0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const instant = utcMs(date.year, date.month, date.day, hour, minute, second, ms) - offsetMinutes * 60_000;
  // An offset can carry 9999-12-31T23:00-05:00 past year 9999, where toISOString changes shape.
  if (!(instant >= utcMs(1000, 1, 1) && instant < utcMs(10000, 1, 1))) return undefined;
  return { kind: 'instant', ms: instant };
}

// ---------------------------------------------------------------------------------------------
// Wall clocks in a time zone

interface WallClock extends CalendarDate {
  hour: number;
  minute: number;
  second: number;
}

// Building a formatter is costly; one per zone, per workflow isolate, is plenty.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** What a wall clock in the zone shows at an instant (whole seconds). */
function wallClock(ms: number, timeZone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(ms))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return { year: parts.year, month: parts.month, day: parts.day, hour: parts.hour, minute: parts.minute, second: parts.second };
}

/** The zone's offset from UTC at an instant, in ms (positive east of Greenwich). */
function offsetAt(ms: number, timeZone: string): number {
  const w = wallClock(ms, timeZone);
  const wholeSecond = Math.floor(ms / 1000) * 1000;
  return utcMs(w.year, w.month, w.day, w.hour, w.minute, w.second) - wholeSecond;
}

function sameWallClock(a: WallClock, b: WallClock): boolean {
  return a.year === b.year && a.month === b.month && a.day === b.day && a.hour === b.hour && a.minute === b.minute && a.second === b.second;
}

/**
 * The first instant at which the zone's clocks show `wall`, or, when the clocks skip it (a
 * spring-forward gap, which in some zones swallows midnight), the instant they skip past it.
 */
function instantOfWallClock(wall: WallClock, timeZone: string): number {
  const asUtc = utcMs(wall.year, wall.month, wall.day, wall.hour, wall.minute, wall.second);
  // Offsets in force around that time: no zone changes its offset twice within two days.
  const offsets = new Set([offsetAt(asUtc - DAY_MS, timeZone), offsetAt(asUtc, timeZone), offsetAt(asUtc + DAY_MS, timeZone)]);
  const candidates = [...offsets].map((offset) => asUtc - offset).sort((a, b) => a - b);
  const exact = candidates.find((ms) => sameWallClock(wallClock(ms, timeZone), wall));
  if (exact !== undefined) return exact;
  // In a gap: the clocks jump over `wall` between the earliest and latest candidate; find the jump.
  let before = candidates[0];
  let after = candidates[candidates.length - 1];
  while (after - before > 1000) {
    const middle = before + Math.floor((after - before) / 2000) * 1000;
    if (compareWall(wallClock(middle, timeZone), wall) < 0) before = middle;
    else after = middle;
  }
  return after;
}

function compareWall(a: WallClock, b: WallClock): number {
  return utcMs(a.year, a.month, a.day, a.hour, a.minute, a.second) - utcMs(b.year, b.month, b.day, b.hour, b.minute, b.second);
}

function nextCalendarDate(date: CalendarDate): CalendarDate {
  const next = new Date(utcMs(date.year, date.month, date.day) + DAY_MS);
  return { year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: next.getUTCDate() };
}

/** The first instant of a calendar day in the zone. */
function startOfLocalDay(date: CalendarDate, timeZone: string): number {
  return instantOfWallClock({ ...date, hour: 0, minute: 0, second: 0 }, timeZone);
}

/** The start of the period (in the zone) that holds the instant. */
function floorToPeriod(ms: number, period: WindowPeriod, timeZone: string): number {
  const wall = wallClock(ms, timeZone);
  if (period === 'day') return startOfLocalDay(wall, timeZone);
  // The wall clock's minutes and seconds since the hour are the time since the hour began:
  // clock changes are whole hours (a zone whose change is half an hour, like Lord Howe, gets one
  // window bounded by the wall clock, which still tiles time without gaps or overlaps).
  return ms - ((wall.minute * 60 + wall.second) * 1000 + (ms - Math.floor(ms / 1000) * 1000));
}

/** The start of the period after the one that starts at `start`. */
function nextPeriodStart(start: number, period: WindowPeriod, timeZone: string): number {
  if (period === 'day') return startOfLocalDay(nextCalendarDate(wallClock(start, timeZone)), timeZone);
  const next = floorToPeriod(start + HOUR_MS, 'hour', timeZone);
  return next > start ? next : start + HOUR_MS;
}

function toWindow(start: number, end: number): JobWindow {
  return { start: new Date(start).toISOString(), end: new Date(end).toISOString() };
}

function isoDate(date: CalendarDate): string {
  return `${String(date.year).padStart(4, '0')}-${String(date.month).padStart(2, '0')}-${String(date.day).padStart(2, '0')}`;
}

// ---------------------------------------------------------------------------------------------
// The exported operations

/**
 * The whole period before the one holding `scheduledAt`, in the zone: a daily schedule firing at
 * 02:00 Europe/Paris on 2026-12-04 covers the day before, [2026-12-03T00:00, 2026-12-04T00:00)
 * Paris time, i.e. [2026-12-02T23:00:00.000Z, 2026-12-03T23:00:00.000Z).
 */
export function scheduledWindow(scheduledAt: Date, period: WindowPeriod, timeZone: string): JobWindow {
  const current = floorToPeriod(scheduledAt.getTime(), period, timeZone);
  const previous = floorToPeriod(current - 1, period, timeZone);
  return toWindow(previous, current);
}

/** `from`/`to` of a backfill: a plain date is its local midnight in the zone; an instant is itself. */
function backfillBound(name: string, text: string, timeZone: string): number {
  const parsed = typeof text === 'string' ? parseInstant(text) : undefined;
  if (!parsed) throw new Error(`backfill ${name} ${JSON.stringify(cut(String(text)))} is not a date (YYYY-MM-DD) or an ISO-8601 date-time with a zone (Z or ±hh:mm)`);
  return parsed.kind === 'date' ? startOfLocalDay(parsed.date, timeZone) : parsed.ms;
}

/**
 * The consecutive whole periods (local days or hours in the zone) that cover [from, to): a `from`
 * inside a period starts with that whole period, a `to` inside one ends with it.
 */
export function windowsBetween(from: string, to: string, period: WindowPeriod, timeZone: string): JobWindow[] {
  if (!WINDOW_PERIODS.includes(period)) throw new Error(`backfill period ${JSON.stringify(cut(String(period)))} is not one of ${WINDOW_PERIODS.join(', ')}`);
  const fromMs = backfillBound('from', from, timeZone);
  const toMs = backfillBound('to', to, timeZone);
  if (fromMs >= toMs) throw new Error(`backfill from (${from}) must be before to (${to})`);
  const windows: JobWindow[] = [];
  for (let start = floorToPeriod(fromMs, period, timeZone); start < toMs; ) {
    if (windows.length === MAX_BACKFILL_WINDOWS) {
      throw new Error(`backfill from ${from} to ${to} by ${period} is more than ${MAX_BACKFILL_WINDOWS} windows; split it into smaller ranges`);
    }
    const end = nextPeriodStart(start, period, timeZone);
    windows.push(toWindow(start, end));
    start = end;
  }
  return windows;
}

/** The values a template may use for a window: its bounds, and its start's local date in the zone. */
export function windowValues(window: JobWindow, timeZone: string): WindowValues {
  return { start: window.start, end: window.end, date: isoDate(wallClock(Date.parse(window.start), timeZone)) };
}

export const TEMPLATE_PLACEHOLDERS = ['date', 'start', 'end'] as const;

/** Replaces {date}, {start} and {end}; any other {name} is an error, so a typo never becomes a literal path. */
export function expandTemplate(template: string, values: WindowValues): string {
  return template.replace(/\{([^{}]*)\}/g, (_whole, name: string) => {
    if ((TEMPLATE_PLACEHOLDERS as readonly string[]).includes(name)) return values[name as keyof WindowValues];
    throw new Error(`unknown placeholder {${cut(name, 40)}}; the allowed ones are ${TEMPLATE_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`);
  });
}

// ---------------------------------------------------------------------------------------------
// Validation of workflow input

/** A value quoted back in an error, cut so a huge input never fills the error (and the history). */
function cut(text: string, max = 64): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * A window given in a workflow input: {"start": ..., "end": ...}, each a plain date (00:00 UTC)
 * or a date-time with an explicit zone, start before end, at most MAX_WINDOW_DAYS long.
 */
export function validateWindow(workflow: string, field: string, raw: unknown): JobWindow {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    invalidInput(workflow, field, 'must be an object {"start": "2026-12-03T00:00:00Z", "end": "2026-12-04T00:00:00Z"}');
  }
  const input = raw as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (key !== 'start' && key !== 'end') invalidInput(workflow, `${field}.${cut(key)}`, 'is not a known field (known: start, end)');
  }
  const bound = (name: 'start' | 'end'): number => {
    const value = input[name];
    if (typeof value !== 'string' || value === '') invalidInput(workflow, `${field}.${name}`, 'is required and must be a date (YYYY-MM-DD) or an ISO-8601 date-time with a zone');
    const parsed = parseInstant(value);
    if (!parsed) {
      invalidInput(workflow, `${field}.${name}`, `${JSON.stringify(cut(value))} is not a date (YYYY-MM-DD, meaning 00:00 UTC) or an ISO-8601 date-time with a zone (e.g. 2026-12-03T00:00:00Z or 2026-12-03T00:00:00+01:00)`);
    }
    return parsed.kind === 'date' ? utcMs(parsed.date.year, parsed.date.month, parsed.date.day) : parsed.ms;
  };
  const start = bound('start');
  const end = bound('end');
  if (start >= end) invalidInput(workflow, `${field}.end`, `(${new Date(end).toISOString()}) must be after ${field}.start (${new Date(start).toISOString()})`);
  if (end - start > MAX_WINDOW_DAYS * DAY_MS) invalidInput(workflow, `${field}.end`, `is more than ${MAX_WINDOW_DAYS} days after ${field}.start; split the job into smaller windows`);
  return toWindow(start, end);
}

/** An IANA time zone name that Intl knows (e.g. Europe/Paris); 'UTC' when left out. Returned as given. */
export function validateTimeZone(workflow: string, field: string, raw: unknown): string {
  if (raw === undefined) return 'UTC';
  if (typeof raw !== 'string' || raw === '') invalidInput(workflow, field, 'must be an IANA time zone name such as "Europe/Paris" or "UTC"');
  // Names only: Intl on newer runtimes also takes offsets like "+01:00", which follow no daylight saving.
  if (raw.length > 64 || !/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(raw)) {
    invalidInput(workflow, field, `${JSON.stringify(cut(raw))} is not an IANA time zone name such as "Europe/Paris" or "UTC"`);
  }
  try {
    formatter(raw);
  } catch {
    invalidInput(workflow, field, `${JSON.stringify(raw)} is not a time zone this runtime knows (use an IANA name such as "Europe/Paris" or "UTC")`);
  }
  return raw;
}
