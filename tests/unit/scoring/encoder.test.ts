import { categoryCode, timestampMillis } from '../../../src/data/cellValues';
import { decodeModel, encodeModel } from '../../../src/scoring/codec';
import { CodeIndex, MISSING_LEVEL } from '../../../src/scoring/codeIndex';
import { DetectorInputError, DetectorOptionError } from '../../../src/scoring/detector';
import { Encoded, Encoder, MAX_FREQUENCY_LEVELS, MAX_ONE_HOT_LEVELS, modelEncoder, type ColumnKind } from '../../../src/scoring/encoder';
import { Imputed } from '../../../src/scoring/imputer';
import { Matrix } from '../../../src/scoring/matrix';
import { SeededRandom } from '../../../src/scoring/random';
import { fitDetector } from '../../../src/scoring/registry';
import { ZoneOffsets, writeCyclic } from '../../../src/scoring/zonedTime';

function sameBits(a: Float64Array, b: Float64Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

const COUNTRIES = ['FR', 'DE', 'US', 'GB', 'ES'];

/** Orders: amount (number), country (5 levels, some missing), customer (300 levels), created_at (timestamp, some missing). */
function orders(rows: number, seed = 1): { X: Matrix; kinds: ColumnKind[]; texts: Map<number, string> } {
  const rng = new SeededRandom(seed);
  const texts = new Map<number, string>();
  const code = (text: string) => {
    const c = categoryCode(text);
    texts.set(c, text);
    return c;
  };
  const data = new Float64Array(rows * 4);
  const start = timestampMillis('2026-01-05T00:00:00Z');
  for (let r = 0; r < rows; r++) {
    data[r * 4] = 50 + 20 * rng.next();
    data[r * 4 + 1] = r % 23 === 7 ? NaN : code(COUNTRIES[Math.floor(rng.next() * COUNTRIES.length)]);
    data[r * 4 + 2] = code(`customer-${Math.floor(rng.next() * 300)}`);
    // Business hours, 08:00-18:00 UTC.
    data[r * 4 + 3] = r % 31 === 3 ? NaN : start + Math.floor(rng.next() * 60) * 86_400_000 + (8 + 10 * rng.next()) * 3_600_000;
  }
  return { X: new Matrix(rows, 4, data), kinds: ['number', 'category', 'category', 'timestamp'], texts };
}

/** encode → impute → detector, as training fits it. */
function fitOrders(algorithm: string, X: Matrix, kinds: ColumnKind[], texts?: Map<number, string>, options: unknown = {}, timeZone?: string): Encoded {
  return Encoded.fitWith(X, { kinds, texts, timeZone }, (encoded) => Imputed.fitWith(encoded, 'median', (M) => fitDetector(algorithm, M, options)));
}

describe('CodeIndex', () => {
  it('finds every stored code (missing as −1) and nothing else', () => {
    const codes = [MISSING_LEVEL, 0, 1, 2 ** 52 - 1, categoryCode('FR'), categoryCode('DE')];
    const index = new CodeIndex(codes);
    codes.forEach((c, i) => expect(index.get(c)).toBe(i));
    expect(index.get(NaN)).toBe(0);
    expect(index.get(categoryCode('XX'))).toBe(-1);
    expect(() => new CodeIndex([3, 3])).toThrow(/appears twice/);
  });
});

describe('Encoder', () => {
  it('one-hot encodes a category of few levels (missing is its own level), with a rare output for unseen values', () => {
    const fr = categoryCode('FR');
    const de = categoryCode('DE');
    const X = new Matrix(4, 1, Float64Array.from([fr, de, fr, NaN]));
    const encoder = Encoder.fit(X, { kinds: ['category'], texts: new Map([[fr, 'FR'], [de, 'DE']]) });
    expect(encoder.encodingOf(0)).toBe('one-hot');
    expect(encoder.nOutputs).toBe(4); // missing, and FR/DE by code, then rare
    const names = encoder.outputNames(['country']);
    expect(names[0]).toBe('country=(missing)');
    expect(new Set(names.slice(1, 3))).toEqual(new Set(['country=FR', 'country=DE']));
    expect(names[3]).toBe('country=(rare)');
    const frAt = names.indexOf('country=FR');
    const out = encoder.transform(new Matrix(3, 1, Float64Array.from([fr, categoryCode('JP'), NaN]))).data;
    expect(Array.from(out.subarray(0, 4))).toEqual([0, 1, 2, 3].map((k) => (k === frAt ? 1 : 0)));
    expect(Array.from(out.subarray(4, 8))).toEqual([0, 0, 0, 1]); // unseen → rare
    expect(Array.from(out.subarray(8, 12))).toEqual([1, 0, 0, 0]); // missing → its level
    expect(encoder.categoryText(0, fr)).toBe('FR');
    expect(encoder.categoryText(0, categoryCode('JP'))).toBeUndefined();
    expect(encoder.categoryText(0, NaN)).toBe('(missing)');
  });

  it(`frequency encodes a category of more than ${MAX_ONE_HOT_LEVELS} levels: the training share, 0 for an unseen ("rare") value`, () => {
    const codes = Array.from({ length: 20 }, (_, i) => categoryCode(`c${i}`));
    const values = [...codes, codes[0], codes[0], codes[1]];
    const encoder = Encoder.fit(new Matrix(values.length, 1, Float64Array.from(values)), { kinds: ['category'] });
    expect(encoder.encodingOf(0)).toBe('frequency');
    expect(encoder.outputNames(['customer'])).toEqual(['customer (frequency)']);
    const out = encoder.transform(new Matrix(4, 1, Float64Array.from([codes[0], codes[1], codes[5], categoryCode('never')]))).data;
    expect(Array.from(out)).toEqual([3 / 23, 2 / 23, 1 / 23, 0]);
  });

  it(`keeps the ${MAX_FREQUENCY_LEVELS} most frequent levels of a frequency column; the others read as rare`, () => {
    const n = MAX_FREQUENCY_LEVELS + 5;
    const values = new Float64Array(n + 1);
    for (let i = 0; i < n; i++) values[i] = i;
    values[n] = 7; // level 7 is the most frequent
    const encoder = Encoder.fit(new Matrix(n + 1, 1, values), { kinds: ['category'] });
    expect(encoder.levelCodes.length).toBe(MAX_FREQUENCY_LEVELS);
    expect(encoder.transform(new Matrix(1, 1, Float64Array.of(7))).data[0]).toBe(2 / (n + 1));
  });

  it('an all-missing category column is one level, "missing"; an all-missing timestamp column gives NaN for the imputer', () => {
    const X = new Matrix(3, 2, Float64Array.from([NaN, NaN, NaN, NaN, NaN, NaN]));
    const encoder = Encoder.fit(X, { kinds: ['category', 'timestamp'] });
    expect(encoder.outputNames(['c', 't'])).toEqual(['c=(missing)', 'c=(rare)', 't (hour sin)', 't (hour cos)', 't (weekday sin)', 't (weekday cos)']);
    const out = encoder.transform(X);
    expect(Array.from(out.data.subarray(0, 6))).toEqual([1, 0, NaN, NaN, NaN, NaN]);
    // The imputer behind fills the timestamp features (0 for a column with no value) and marks them missing.
    const model = Encoded.fitWith(X, { kinds: ['category', 'timestamp'] }, (M) => Imputed.fitWith(M, 'median', (F) => fitDetector('ecod', F)));
    expect(Array.from(model.score(X)).every(Number.isFinite)).toBe(true);
  });

  it('refuses to fit on a category column holding something that is not a code (a column read as numbers)', () => {
    expect(() => Encoder.fit(new Matrix(2, 1, Float64Array.from([1, 2.5])), { kinds: ['category'] })).toThrow(/row 1, column 0 holds 2.5, not a category code/);
    expect(() => Encoder.fit(new Matrix(1, 1, Float64Array.from([-3])), { kinds: ['category'] })).toThrow(DetectorInputError);
  });

  it('passes numbers through untouched, NaN included', () => {
    const X = new Matrix(2, 2, Float64Array.from([1.5, categoryCode('a'), NaN, categoryCode('a')]));
    const encoder = Encoder.fit(X, { kinds: ['number', 'category'] });
    expect(Array.from(encoder.transform(X).data)).toEqual([1.5, 1, 0, NaN, 1, 0]);
  });

  it('refuses a damaged stored encoder', () => {
    const good = Encoder.fit(new Matrix(2, 1, Float64Array.from([1, 2])), { kinds: ['category'] });
    const args = (over: Partial<Record<string, unknown>>) =>
      [over.encodings ?? good.encodings, over.levelColumns ?? good.levelColumns, over.levelCodes ?? good.levelCodes, over.levelShares ?? good.levelShares, over.textEnds ?? good.textEnds, over.textBytes ?? good.textBytes, over.timeZone ?? 'UTC'] as Parameters<typeof Encoder.fromArrays>;
    expect(() => Encoder.fromArrays(...args({ encodings: Uint8Array.of(9) }))).toThrow(/unknown encoding 9/);
    expect(() => Encoder.fromArrays(...args({ encodings: Uint8Array.of(0) }))).toThrow(/not a category column/);
    expect(() => Encoder.fromArrays(...args({ levelCodes: Float64Array.from([2, 1]) }))).toThrow(/out of order/);
    expect(() => Encoder.fromArrays(...args({ levelCodes: Float64Array.from([1, 2.5]) }))).toThrow(/not a category code/);
    expect(() => Encoder.fromArrays(...args({ levelShares: Float64Array.from([0.5, NaN]) }))).toThrow(/share NaN/);
    expect(() => Encoder.fromArrays(...args({ textEnds: Int32Array.from([3, 3]) }))).toThrow(/text ends at 3/);
    expect(() => Encoder.fromArrays(...args({ timeZone: 'Mars/Olympus' }))).toThrow(/unknown time zone "Mars\/Olympus"/);
    expect(() => Encoder.fromArrays(...args({}))).not.toThrow();
  });
});

describe('cyclic timestamps', () => {
  const features = (iso: string, zone: string): number[] => {
    const out = new Float64Array(4);
    writeCyclic(timestampMillis(iso), new ZoneOffsets(zone), out, 0);
    return Array.from(out);
  };
  const hourOf = (f: number[]) => Math.round(((Math.atan2(f[0], f[1]) / (2 * Math.PI)) * 24 + 24) % 24 * 1000) / 1000;
  const weekdayOf = (f: number[]) => Math.floor(((Math.atan2(f[2], f[3]) / (2 * Math.PI)) * 7 + 7 + 1e-9) % 7);

  it('gives hour of day and weekday (Monday 0) in UTC', () => {
    const f = features('2026-01-05T13:30:00Z', 'UTC'); // a Monday
    expect(hourOf(f)).toBe(13.5);
    expect(weekdayOf(f)).toBe(0);
    expect(weekdayOf(features('2026-01-11T23:59:00Z', 'UTC'))).toBe(6); // Sunday
  });

  it('counts local time in a zone, daylight saving included: 12:00 in Paris is hour 12 in winter and in summer', () => {
    expect(hourOf(features('2026-01-15T11:00:00Z', 'Europe/Paris'))).toBe(12); // CET, +1
    expect(hourOf(features('2026-07-15T10:00:00Z', 'Europe/Paris'))).toBe(12); // CEST, +2
    // Across the spring change (2026-03-29 01:00 UTC): 00:59 UTC is 01:59 local, 01:00 UTC is 03:00 local.
    expect(hourOf(features('2026-03-29T00:59:00Z', 'Europe/Paris'))).toBeCloseTo(1 + 59 / 60, 2);
    expect(hourOf(features('2026-03-29T01:00:00Z', 'Europe/Paris'))).toBe(3);
    // New York on the autumn change (2026-11-01 06:00 UTC): 01:30 comes twice.
    expect(hourOf(features('2026-11-01T05:30:00Z', 'America/New_York'))).toBe(1.5);
    expect(hourOf(features('2026-11-01T06:30:00Z', 'America/New_York'))).toBe(1.5);
    // A half-hour zone, and the date line: Monday 12:00 UTC is Monday 17:30 in Kolkata and Tuesday 01:00 in Auckland (NZDT, +13).
    expect(hourOf(features('2026-01-05T12:00:00Z', 'Asia/Kolkata'))).toBe(17.5);
    expect(weekdayOf(features('2026-01-05T12:00:00Z', 'Pacific/Auckland'))).toBe(1);
    expect(hourOf(features('2026-01-05T12:00:00Z', 'Pacific/Auckland'))).toBe(1);
  });

  it('caches offsets per 15 minutes without crossing a change: every minute around a change matches Intl', () => {
    const zone = new ZoneOffsets('Europe/Paris');
    const fresh = () => new ZoneOffsets('Europe/Paris');
    const change = timestampMillis('2026-10-25T01:00:00Z');
    for (let m = -40; m <= 40; m++) {
      const t = change + m * 60_000 + 17_000;
      expect(zone.offsetAt(t)).toBe(fresh().offsetAt(t));
      expect(zone.offsetAt(t)).toBe(t < change ? 7_200_000 : 3_600_000);
    }
  });

  it('a missing timestamp gives four NaN', () => {
    const out = new Float64Array(4);
    writeCyclic(NaN, new ZoneOffsets('UTC'), out, 0);
    expect(Array.from(out)).toEqual([NaN, NaN, NaN, NaN]);
  });
});

describe('Encoded detector', () => {
  const { X, kinds, texts } = orders(600);

  it.each(['isolation-forest', 'ecod', 'hbos'])('%s: fit, encode to a model file, decode: the same bytes again and the same scores, bit for bit', (algorithm) => {
    const model = fitOrders(algorithm, X, kinds, texts, algorithm === 'isolation-forest' ? { seed: 2 } : {});
    const bytes = encodeModel(model);
    const again = decodeModel(bytes);
    expect(again.algorithm).toBe('encode');
    expect(Buffer.from(encodeModel(again)).equals(Buffer.from(bytes))).toBe(true);
    expect(sameBits(again.score(X), model.score(X))).toBe(true);
    // Texts survive too.
    expect(modelEncoder(again)!.outputNames(['amount', 'country', 'customer', 'created_at']).filter((n) => n.startsWith('country='))).toEqual(
      modelEncoder(model)!.outputNames(['amount', 'country', 'customer', 'created_at']).filter((n) => n.startsWith('country=')),
    );
    expect(modelEncoder(again)!.categoryText(1, categoryCode('DE'))).toBe('DE');
  });

  it('scores block by block exactly as all at once (more rows than one block)', () => {
    const big = orders(20_000, 5);
    const model = fitOrders('ecod', big.X, big.kinds);
    const whole = model.score(big.X);
    const parts = new Float64Array(big.X.rows);
    model.score(big.X.sliceRows(0, 9000), parts.subarray(0, 9000));
    model.score(big.X.sliceRows(9000, 20_000), parts.subarray(9000));
    expect(sameBits(whole, parts)).toBe(true);
  });

  it('an unseen country scores as rare: higher than the same row with a common country (ECOD)', () => {
    const model = fitOrders('ecod', X, kinds, texts);
    const row = X.data.slice(0, 4);
    row[1] = categoryCode('FR');
    row[3] = timestampMillis('2026-01-06T10:00:00Z');
    const unseen = row.slice();
    unseen[1] = categoryCode('ZZ');
    const scores = model.score(new Matrix(2, 4, Float64Array.from([...row, ...unseen])));
    expect(scores[1]).toBeGreaterThan(scores[0]);
  });

  it('a 3 am order on a Sunday is more anomalous than one in business hours (Isolation Forest)', () => {
    const model = fitOrders('isolation-forest', X, kinds, texts, { seed: 1 });
    const normal = X.data.slice(0, 4);
    normal[1] = categoryCode('FR');
    normal[3] = timestampMillis('2026-01-07T12:00:00Z');
    const night = normal.slice();
    night[3] = timestampMillis('2026-01-11T03:00:00Z');
    const scores = model.score(new Matrix(2, 4, Float64Array.from([...normal, ...night])));
    expect(scores[1]).toBeGreaterThan(scores[0]);
  });

  it.each(['ecod', 'hbos'])('%s: explain sums every output into its source column, and the row\'s contributions still sum to its score', (algorithm) => {
    const model = fitOrders(algorithm, X, kinds, texts);
    const rows = [0, 7, 3, 100, 599];
    const contributions = model.explain(X, rows);
    expect(contributions.length).toBe(rows.length * 4);
    const scores = model.score(X);
    rows.forEach((r, k) => {
      let sum = 0;
      for (let c = 0; c < 4; c++) sum += contributions[k * 4 + c];
      expect(Math.abs(sum - scores[r])).toBeLessThanOrEqual(1e-9);
    });
    // The source column's share is the sum of its outputs' shares in the inner detector's explanation.
    const encoder = model.encoder;
    const selected = X.selectRows(Int32Array.from(rows));
    const inner = model.inner.explain(encoder.transform(selected), Int32Array.from(rows.keys()));
    const width = encoder.nOutputs;
    for (let k = 0; k < rows.length; k++) {
      for (let c = 0; c < 4; c++) {
        let expected = 0;
        for (let o = 0; o < width; o++) if (encoder.outputSource[o] === c) expected += inner[k * width + o];
        expect(contributions[k * 4 + c]).toBeCloseTo(expected, 12);
      }
    }
  });

  it('without an imputer (trained on complete data), a missing timestamp is refused naming the input column, not an encoded one', () => {
    const complete = new Matrix(3, 3, Float64Array.from([categoryCode('a'), 1, timestampMillis('2026-01-05T10:00:00Z'), categoryCode('b'), 2, timestampMillis('2026-01-06T10:00:00Z'), categoryCode('a'), 3, timestampMillis('2026-01-07T10:00:00Z')]));
    const model = Encoded.fitWith(complete, { kinds: ['category', 'number', 'timestamp'] }, (E) => fitDetector('ecod', E));
    const missing = new Matrix(2, 3, Float64Array.from([categoryCode('a'), 1, timestampMillis('2026-01-05T10:00:00Z'), categoryCode('a'), 1, NaN]));
    expect(() => model.score(missing)).toThrow('encode: row 1, column 2: a missing value, and this model was trained on data without any');
  });

  it('refuses a different number of columns, and a model whose inner detector does not fit the encoder', () => {
    const model = fitOrders('ecod', X, kinds);
    expect(() => model.score(new Matrix(1, 3, new Float64Array(3)))).toThrow(DetectorInputError);
    const state = model.toState();
    const other = fitDetector('ecod', new Matrix(2, 2, Float64Array.from([1, 2, 3, 4]))).toState();
    expect(() => decodeModel(encodeModel({ ...model, toState: () => ({ ...state, children: [other] }) } as never))).toThrow(/inner detector has 2 features/);
  });

  it('fits by name from options, and names a bad option', () => {
    const small = new Matrix(4, 2, Float64Array.from([1, categoryCode('a'), 2, categoryCode('b'), 3, categoryCode('a'), 4, categoryCode('a')]));
    const model = fitDetector('encode', small, { columns: ['number', 'category'], detector: { algorithm: 'ecod' } });
    expect(model.algorithm).toBe('encode');
    expect(() => fitDetector('encode', small, { columns: ['number', 'text'], detector: { algorithm: 'ecod' } })).toThrow(DetectorOptionError);
    expect(() => fitDetector('encode', small, { columns: ['number', 'category'], timeZone: 'Nowhere/Else', detector: { algorithm: 'ecod' } })).toThrow(/timeZone/);
    expect(() => fitDetector('encode', small, { columns: ['number', 'category'] })).toThrow(/"detector" is required/);
  });
});
