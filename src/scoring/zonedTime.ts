/**
 * A timestamp (UTC epoch milliseconds) as the cyclic features a detector can use: the hour of
 * day and the day of week in a time zone, each as a sin/cos pair, so 23:59 sits beside 00:00 and
 * Sunday beside Monday.
 *
 *   hour = local hours + minutes/60 + seconds/3600 (0 ≤ hour < 24)
 *   day  = local weekday (Monday 0 … Sunday 6) + hour/24 (0 ≤ day < 7)
 *   features: sin(2π·hour/24), cos(2π·hour/24), sin(2π·day/7), cos(2π·day/7)
 *
 * Local time comes from the zone's offset at that instant (Intl's tz database), so daylight
 * saving is honoured: 12:00 in Paris is hour 12 in winter and summer alike. A zone's offset is
 * looked up once per 15-minute bucket of time and cached in a direct-mapped typed-array table (a
 * bucket whose two ends disagree, one holding a change of offset, is looked up per value),
 * keeping Intl and any Map off the per-row path.
 */

export const CYCLIC_FEATURES = ['hour sin', 'hour cos', 'weekday sin', 'weekday cos'] as const;

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const BUCKET = 15 * MINUTE;
/** Cache slots (a power of two): 65,536 buckets of 15 minutes cover 682 days without a collision; 1 MiB. */
const CACHE_SLOTS = 65_536;
const TWO_PI = 2 * Math.PI;

/** Is `zone` an IANA time zone this runtime knows (or "UTC")? */
export function isKnownTimeZone(zone: string): boolean {
  if (zone === 'UTC') return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC (milliseconds, local − UTC) at instants, cached per 15 minutes. */
export class ZoneOffsets {
  private readonly format: Intl.DateTimeFormat | undefined;
  /** Bucket number in each slot (NaN: empty) and its offset; allocated on the first lookup. */
  private cachedBuckets: Float64Array | undefined;
  private cachedOffsets: Float64Array | undefined;

  constructor(readonly zone: string) {
    if (!isKnownTimeZone(zone)) throw new RangeError(`unknown time zone "${zone}"`);
    this.format =
      zone === 'UTC'
        ? undefined
        : new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  }

  /** local − UTC in milliseconds at `millis` (a finite instant). */
  offsetAt(millis: number): number {
    if (!this.format) return 0;
    const bucket = Math.floor(millis / BUCKET);
    const slot = bucket & (CACHE_SLOTS - 1);
    if (!this.cachedBuckets) {
      this.cachedBuckets = new Float64Array(CACHE_SLOTS).fill(NaN);
      this.cachedOffsets = new Float64Array(CACHE_SLOTS);
    }
    if (this.cachedBuckets[slot] === bucket) return this.cachedOffsets![slot];
    const start = this.exactOffset(bucket * BUCKET);
    const end = this.exactOffset((bucket + 1) * BUCKET - 1000);
    if (start !== end) return this.exactOffset(millis);
    this.cachedBuckets[slot] = bucket;
    this.cachedOffsets![slot] = start;
    return start;
  }

  private exactOffset(millis: number): number {
    const seconds = Math.floor(millis / 1000) * 1000;
    const parts = this.format!.formatToParts(seconds);
    const part = (type: string) => Number(parts.find((p) => p.type === type)!.value);
    const local = Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second'));
    return local - seconds;
  }
}

/**
 * Writes the four cyclic features of `millis` at out[at…at+3]; NaN (a missing or out-of-range
 * instant) gives four NaN, for the imputer behind the encoder to fill.
 */
export function writeCyclic(millis: number, offsets: ZoneOffsets, out: Float64Array, at: number): void {
  if (!Number.isFinite(millis) || Math.abs(millis) > 8.64e15) {
    out[at] = out[at + 1] = out[at + 2] = out[at + 3] = NaN;
    return;
  }
  const local = millis + offsets.offsetAt(millis);
  const days = Math.floor(local / DAY);
  const hour = (local - days * DAY) / HOUR;
  // 1970-01-01 was a Thursday: Monday-based weekday 3.
  const weekday = (((days + 3) % 7) + 7) % 7;
  const day = weekday + hour / 24;
  out[at] = Math.sin((TWO_PI * hour) / 24);
  out[at + 1] = Math.cos((TWO_PI * hour) / 24);
  out[at + 2] = Math.sin((TWO_PI * day) / 7);
  out[at + 3] = Math.cos((TWO_PI * day) / 7);
}
