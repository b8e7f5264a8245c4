/**
 * Category and timestamp columns turned into numbers a detector can use, fitted on the training
 * sample and stored with the model, so scoring encodes exactly as training did:
 * score(X) = inner.score(encode(X)). The inner detector is usually an imputer (imputer.ts) in
 * front of the algorithm: encode → impute → (standardise) → detect.
 *
 * Each input column has a kind. Its cells arrive as src/data/cellValues.ts makes them: a number;
 * a category's code (a 52-bit integer hash of its text); a timestamp's UTC epoch milliseconds;
 * NaN when missing.
 *
 *   number     passed on as it is (a missing value stays NaN, for the imputer).
 *   category   at most MAX_ONE_HOT_LEVELS distinct values in training (a missing cell counts as
 *              its own "missing" level): one-hot, one output per training level, plus one "rare"
 *              output that is 1 for a value never seen in training. More levels: frequency
 *              encoding, one output holding the value's share of the training rows; the
 *              MAX_FREQUENCY_LEVELS most frequent levels are kept, and any other value (unseen
 *              ones included) is "rare" and gets 0. A category never yields NaN.
 *   timestamp  four outputs, the hour of day and day of week in `timeZone` as sin/cos pairs
 *              (zonedTime.ts); a missing timestamp gives four NaN, which the imputer fills
 *              (median plus missing indicators) — so missing timestamps follow the model's
 *              missing-value policy like numbers do, with no second rule here.
 *
 * Explanations: the inner detector explains the encoded rows; every output's contribution is
 * added to its input column, so an explanation names `country`, never `country=FR`, and an
 * additive detector's contributions still sum to the score.
 *
 * The composite's state: algorithm 'encode', setting `timeZone`, sections 'encodings' (uint8 per
 * column: 0 number, 1 one-hot, 2 frequency, 3 cyclic timestamp), the category levels sorted by
 * column then code — 'levelColumns' (int32), 'levelCodes' (float64, −1 for "missing"),
 * 'levelShares' (float64, share of the training rows) — and their texts when training had them
 * ('textEnds' int32, 'textBytes' uint8 UTF-8; an empty text is unknown), and the inner detector
 * as its only child. Its threshold and params are the inner detector's. A model whose columns are
 * all numbers has no encoder at all, so its file is what it was before categories existed.
 */
import { allRows, checkStateHeader, Detector, DetectorInputError, DetectorOptionError, DetectorState, RowSelection, selectExplainedRows, StateSection, stateSection } from './detector';
import { CodeIndex, MISSING_LEVEL } from './codeIndex';
import { Matrix } from './matrix';
import { inNestedDetector, parseNestedDetector, predictFromScores, rebuildOnlyChild, scoreInBlocks, type BlockTransform, type CheckByName, type FitByName, type RebuildDetector } from './pipeline';
import { CYCLIC_FEATURES, isKnownTimeZone, writeCyclic, ZoneOffsets } from './zonedTime';

const ALGORITHM = 'encode';

/** What an input column holds (the same names as the data side's cell types). */
export type ColumnKind = 'number' | 'category' | 'timestamp';
export const COLUMN_KINDS: readonly ColumnKind[] = ['number', 'category', 'timestamp'];

/** A category with at most this many training levels is one-hot encoded; more, frequency encoded. */
export const MAX_ONE_HOT_LEVELS = 16;
/** A frequency-encoded column keeps its this many most frequent levels; the rest are "rare" (0). */
export const MAX_FREQUENCY_LEVELS = 10_000;
export const DEFAULT_TIME_ZONE = 'UTC';

const NUMBER = 0;
const ONE_HOT = 1;
const FREQUENCY = 2;
const CYCLIC = 3;
const ENCODING_NAMES = ['number', 'one-hot', 'frequency', 'cyclic'] as const;
export type ColumnEncoding = (typeof ENCODING_NAMES)[number];

const MAX_CODE = 2 ** 52;

export interface EncoderSpec {
  /** One kind per input column. */
  kinds: readonly ColumnKind[];
  /** The zone hours and weekdays are counted in (IANA name); default UTC. */
  timeZone?: string;
  /** Category code → text, for the levels' names and displayed values (optional). */
  texts?: ReadonlyMap<number, string>;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** The fitted transform: each column's encoding and its category levels. */
export class Encoder {
  /** First output of each input column. */
  private readonly offsets: Int32Array;
  /** The input column of each output. */
  readonly outputSource: Int32Array;
  /** Per category column: its levels' lookup (position + levelStart[c] = level index). */
  private readonly indexes: (CodeIndex | undefined)[];
  private readonly levelStart: Int32Array;
  private readonly levelCount: Int32Array;
  private readonly zone: ZoneOffsets;

  private constructor(
    /** Per input column: 0 number, 1 one-hot, 2 frequency, 3 cyclic timestamp (read-only). */
    readonly encodings: Uint8Array,
    readonly levelColumns: Int32Array,
    readonly levelCodes: Float64Array,
    readonly levelShares: Float64Array,
    readonly textEnds: Int32Array,
    readonly textBytes: Uint8Array,
    readonly timeZone: string,
  ) {
    const cols = encodings.length;
    this.levelStart = new Int32Array(cols);
    this.levelCount = new Int32Array(cols);
    for (let i = levelColumns.length - 1; i >= 0; i--) {
      this.levelStart[levelColumns[i]] = i;
      this.levelCount[levelColumns[i]]++;
    }
    this.indexes = Array.from(encodings, (e, c) =>
      e === ONE_HOT || e === FREQUENCY ? new CodeIndex(levelCodes.subarray(this.levelStart[c], this.levelStart[c] + this.levelCount[c])) : undefined,
    );
    this.offsets = new Int32Array(cols);
    const sources: number[] = [];
    for (let c = 0; c < cols; c++) {
      this.offsets[c] = sources.length;
      const width = encodings[c] === ONE_HOT ? this.levelCount[c] + 1 : encodings[c] === CYCLIC ? CYCLIC_FEATURES.length : 1;
      for (let k = 0; k < width; k++) sources.push(c);
    }
    this.outputSource = Int32Array.from(sources);
    this.zone = new ZoneOffsets(timeZone);
  }

  get nFeatures(): number {
    return this.encodings.length;
  }

  get nOutputs(): number {
    return this.outputSource.length;
  }

  /** Does any column need encoding? (A model of numbers only is fitted without an encoder.) */
  static needed(kinds: readonly ColumnKind[]): boolean {
    return kinds.some((k) => k !== 'number');
  }

  /** Fits on X (category codes, epoch milliseconds, numbers; NaN where missing). */
  static fit(X: Matrix, spec: EncoderSpec): Encoder {
    if (X.rows === 0 || X.cols === 0) throw new DetectorInputError(`${ALGORITHM}: cannot fit on a dataset with ${X.rows} rows and ${X.cols} columns`);
    checkSpec(spec, X.cols);
    const encodings = new Uint8Array(X.cols);
    const levels: Array<{ column: number; code: number; share: number; text: string }> = [];
    for (let c = 0; c < X.cols; c++) {
      const kind = spec.kinds[c];
      if (kind === 'number') encodings[c] = NUMBER;
      else if (kind === 'timestamp') encodings[c] = CYCLIC;
      else {
        const counts = new Map<number, number>();
        for (let r = 0, o = c; r < X.rows; r++, o += X.cols) {
          const v = X.data[o];
          if (v === v && !(Number.isInteger(v) && v >= 0 && v < MAX_CODE)) {
            throw new DetectorInputError(`${ALGORITHM}: row ${r}, column ${c} holds ${v}, not a category code (categories are read as codes: categoryCode in src/data/cellValues.ts)`);
          }
          const code = v === v ? v : MISSING_LEVEL;
          counts.set(code, (counts.get(code) ?? 0) + 1);
        }
        let kept = [...counts.entries()];
        encodings[c] = kept.length <= MAX_ONE_HOT_LEVELS ? ONE_HOT : FREQUENCY;
        if (kept.length > MAX_FREQUENCY_LEVELS) kept = kept.sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, MAX_FREQUENCY_LEVELS);
        kept.sort((a, b) => a[0] - b[0]);
        for (const [code, count] of kept) {
          levels.push({ column: c, code, share: count / X.rows, text: code === MISSING_LEVEL ? '' : (spec.texts?.get(code) ?? '') });
        }
      }
    }
    const texts = levels.map((l) => utf8.encode(l.text));
    const textBytes = new Uint8Array(texts.reduce((n, t) => n + t.length, 0));
    const textEnds = new Int32Array(levels.length);
    let end = 0;
    texts.forEach((t, i) => {
      textBytes.set(t, end);
      end += t.length;
      textEnds[i] = end;
    });
    return new Encoder(
      encodings,
      Int32Array.from(levels, (l) => l.column),
      Float64Array.from(levels, (l) => l.code),
      Float64Array.from(levels, (l) => l.share),
      textEnds,
      textBytes,
      spec.timeZone ?? DEFAULT_TIME_ZONE,
    );
  }

  /** Rebuilds a stored encoder, checking it so a damaged model fails on load, not while scoring. */
  static fromArrays(
    encodings: Uint8Array,
    levelColumns: Int32Array,
    levelCodes: Float64Array,
    levelShares: Float64Array,
    textEnds: Int32Array,
    textBytes: Uint8Array,
    timeZone: string,
  ): Encoder {
    const invalid = (why: string): never => {
      throw new DetectorInputError(`${ALGORITHM}: ${why}`);
    };
    if (encodings.length === 0) invalid('no columns');
    encodings.forEach((e, c) => {
      if (e > CYCLIC) invalid(`column ${c} has unknown encoding ${e}`);
    });
    const n = levelColumns.length;
    if (levelCodes.length !== n || levelShares.length !== n || textEnds.length !== n) invalid(`the level sections differ in length (${n}, ${levelCodes.length}, ${levelShares.length}, ${textEnds.length})`);
    const perColumn = new Int32Array(encodings.length);
    for (let i = 0; i < n; i++) {
      const c = levelColumns[i];
      if (c < 0 || c >= encodings.length || (encodings[c] !== ONE_HOT && encodings[c] !== FREQUENCY)) invalid(`level ${i} names column ${c}, which is not a category column`);
      const sameColumn = i > 0 && levelColumns[i - 1] === c;
      if (i > 0 && (levelColumns[i - 1] > c || (sameColumn && levelCodes[i - 1] >= levelCodes[i]))) invalid(`level ${i} is out of order (levels go by column, then code)`);
      const code = levelCodes[i];
      if (!Number.isInteger(code) || code < MISSING_LEVEL || code >= MAX_CODE) invalid(`level ${i} has code ${code}, not a category code`);
      if (!(levelShares[i] >= 0 && levelShares[i] <= 1)) invalid(`level ${i} has share ${levelShares[i]}, not in [0, 1]`);
      if (textEnds[i] < (i > 0 ? textEnds[i - 1] : 0) || textEnds[i] > textBytes.length) invalid(`level ${i}'s text ends at ${textEnds[i]}, out of order or past the texts`);
      perColumn[c]++;
    }
    if (n > 0 && textEnds[n - 1] !== textBytes.length) invalid('the texts do not end where the last level\'s does');
    encodings.forEach((e, c) => {
      if (e === ONE_HOT && (perColumn[c] < 1 || perColumn[c] > MAX_ONE_HOT_LEVELS)) invalid(`one-hot column ${c} has ${perColumn[c]} levels (1 to ${MAX_ONE_HOT_LEVELS})`);
      if (e === FREQUENCY && perColumn[c] > MAX_FREQUENCY_LEVELS) invalid(`frequency column ${c} has ${perColumn[c]} levels (at most ${MAX_FREQUENCY_LEVELS})`);
    });
    if (!isKnownTimeZone(timeZone)) invalid(`unknown time zone "${timeZone}"`);
    return new Encoder(encodings, levelColumns, levelCodes, levelShares, textEnds, textBytes, timeZone);
  }

  /** Each input column's kind, e.g. for reading the columns the way training did. */
  kinds(): ColumnKind[] {
    return Array.from(this.encodings, (e) => (e === NUMBER ? 'number' : e === CYCLIC ? 'timestamp' : 'category'));
  }

  /** How column c is encoded. */
  encodingOf(c: number): ColumnEncoding {
    return ENCODING_NAMES[this.encodings[c]];
  }

  /**
   * The text of category `code` in column c when training knew it, '(missing)' for a missing
   * cell (NaN), else undefined (a level trained without texts, or a value training never saw).
   */
  categoryText(c: number, code: number): string | undefined {
    if (code !== code) return '(missing)';
    const index = this.indexes[c];
    const position = index ? index.get(code) : -1;
    if (position < 0) return undefined;
    const i = this.levelStart[c] + position;
    const start = i > 0 ? this.textEnds[i - 1] : 0;
    return this.textEnds[i] > start ? fromUtf8.decode(this.textBytes.subarray(start, this.textEnds[i])) : undefined;
  }

  /** Did training see category `code` (NaN: the missing level) in column c, and keep it as a level? */
  knowsLevel(c: number, code: number): boolean {
    const index = this.indexes[c];
    return index !== undefined && index.get(code) >= 0;
  }

  /** Each output's name: `amount`, `country=FR` (`country=#code` without a text), `country=(rare)`, `country (frequency)`, `created_at (hour sin)`. */
  outputNames(columns: readonly string[]): string[] {
    const names: string[] = [];
    for (let c = 0; c < this.nFeatures; c++) {
      const name = columns[c] ?? `#${c + 1}`;
      const e = this.encodings[c];
      if (e === NUMBER) names.push(name);
      else if (e === FREQUENCY) names.push(`${name} (frequency)`);
      else if (e === CYCLIC) for (const f of CYCLIC_FEATURES) names.push(`${name} (${f})`);
      else {
        for (let i = this.levelStart[c]; i < this.levelStart[c] + this.levelCount[c]; i++) {
          const code = this.levelCodes[i];
          const text = code === MISSING_LEVEL ? '(missing)' : (this.categoryText(c, code) ?? `#${code}`);
          names.push(`${name}=${text}`);
        }
        names.push(`${name}=(rare)`);
      }
    }
    return names;
  }

  /** Encodes rows [start, end) of X into `out` ((end − start) × nOutputs values) and returns them as a Matrix view of it. */
  transformRows(X: Matrix, start: number, end: number, out: Float64Array): Matrix {
    const cols = this.nFeatures;
    if (X.cols !== cols) throw new DetectorInputError(`${ALGORITHM}: fitted on ${cols} columns but the data has ${X.cols}`);
    const width = this.nOutputs;
    const n = (end - start) * width;
    if (out.length < n) throw new RangeError(`output buffer holds ${out.length} values; ${n} are needed`);
    const { encodings, offsets, indexes, levelStart, levelCount, levelShares, zone } = this;
    const data = X.data;
    for (let r = start, o = 0; r < end; r++, o += width) {
      const at = r * cols;
      for (let c = 0; c < cols; c++) {
        const v = data[at + c];
        const to = o + offsets[c];
        switch (encodings[c]) {
          case NUMBER:
            out[to] = v;
            break;
          case ONE_HOT: {
            const levels = levelCount[c];
            for (let k = 0; k <= levels; k++) out[to + k] = 0;
            const position = indexes[c]!.get(v);
            out[to + (position < 0 ? levels : position)] = 1;
            break;
          }
          case FREQUENCY: {
            const position = indexes[c]!.get(v);
            out[to] = position < 0 ? 0 : levelShares[levelStart[c] + position];
            break;
          }
          default:
            writeCyclic(v, zone, out, to);
        }
      }
    }
    return new Matrix(end - start, width, out.length === n ? out : out.subarray(0, n));
  }

  /** An encoded copy of the whole matrix (training and tests; scoring goes block by block). */
  transform(X: Matrix): Matrix {
    return this.transformRows(X, 0, X.rows, new Float64Array(X.rows * this.nOutputs));
  }

  /**
   * Missing-value counts per output from counts per input column (e.g. over a whole dataset
   * while the encoder saw a sample): a number's or a timestamp's outputs are missing where the
   * column is; a category's never are (missing is a level).
   */
  outputMissing(columnCounts: ArrayLike<number>): Float64Array {
    const out = new Float64Array(this.nOutputs);
    for (let k = 0; k < out.length; k++) {
      const c = this.outputSource[k];
      const e = this.encodings[c];
      out[k] = e === NUMBER || e === CYCLIC ? columnCounts[c] : 0;
    }
    return out;
  }

  /** Contributions over the outputs (rows × nOutputs) summed onto the input columns (rows × nFeatures). */
  foldContributions(contributions: Float64Array, rows: number, out: Float64Array): Float64Array {
    const cols = this.nFeatures;
    const width = this.nOutputs;
    const source = this.outputSource;
    out.fill(0, 0, rows * cols);
    for (let r = 0; r < rows; r++) for (let k = 0; k < width; k++) out[r * cols + source[k]] += contributions[r * width + k];
    return out;
  }

  toSections(): StateSection[] {
    return [
      { name: 'encodings', data: this.encodings },
      { name: 'levelColumns', data: this.levelColumns },
      { name: 'levelCodes', data: this.levelCodes },
      { name: 'levelShares', data: this.levelShares },
      { name: 'textEnds', data: this.textEnds },
      { name: 'textBytes', data: this.textBytes },
    ];
  }
}

function checkSpec(spec: EncoderSpec, cols: number): void {
  if (spec.kinds.length !== cols) throw new DetectorInputError(`${ALGORITHM}: ${spec.kinds.length} column kinds for ${cols} columns`);
  spec.kinds.forEach((kind, c) => {
    if (!COLUMN_KINDS.includes(kind)) throw new DetectorOptionError(`${ALGORITHM}: column ${c}'s kind ${JSON.stringify(kind)} is not one of ${COLUMN_KINDS.join(', ')}`, 'columns');
  });
  if (spec.timeZone !== undefined && !isKnownTimeZone(spec.timeZone)) {
    throw new DetectorOptionError(`${ALGORITHM}: option "timeZone" ${JSON.stringify(spec.timeZone)} is not a known IANA time zone (e.g. "Europe/Paris", "UTC")`, 'timeZone');
  }
}

function parseEncodedOptions(options: unknown): { kinds: ColumnKind[]; timeZone: string; nested: { algorithm: string; options: unknown } } {
  const given = (typeof options === 'object' && options !== null && !Array.isArray(options) ? options : undefined) as Record<string, unknown> | undefined;
  if (!given) throw new DetectorOptionError(`${ALGORITHM}: options must be an object like {"columns": ["number", "category"], "detector": {"algorithm": "ecod"}}`);
  for (const key of Object.keys(given)) {
    if (key !== 'columns' && key !== 'timeZone' && key !== 'detector') throw new DetectorOptionError(`${ALGORITHM}: unknown option "${key}". Allowed options: columns, timeZone, detector`, key);
  }
  const kinds = given.columns;
  if (!Array.isArray(kinds) || kinds.length === 0 || !kinds.every((k) => COLUMN_KINDS.includes(k as ColumnKind))) {
    throw new DetectorOptionError(`${ALGORITHM}: option "columns" must be a non-empty list of ${COLUMN_KINDS.join(', ')} (one per column)`, 'columns');
  }
  const timeZone = given.timeZone ?? DEFAULT_TIME_ZONE;
  if (typeof timeZone !== 'string' || !isKnownTimeZone(timeZone)) {
    throw new DetectorOptionError(`${ALGORITHM}: option "timeZone" ${JSON.stringify(timeZone)} is not a known IANA time zone (e.g. "Europe/Paris", "UTC")`, 'timeZone');
  }
  if (given.detector === undefined) throw new DetectorOptionError(`${ALGORITHM}: option "detector" is required, e.g. {"algorithm": "ecod"}`, 'detector');
  return { kinds: kinds as ColumnKind[], timeZone, nested: parseNestedDetector(`${ALGORITHM}: option "detector"`, 'detector', given.detector) };
}

/** Category and timestamp columns encoded in front of a detector (see the file comment). */
export class Encoded implements Detector {
  static readonly algorithm = ALGORITHM;
  readonly algorithm = ALGORITHM;

  private constructor(
    readonly encoder: Encoder,
    readonly inner: Detector,
  ) {}

  get nFeatures(): number {
    return this.encoder.nFeatures;
  }

  get threshold(): number {
    return this.inner.threshold;
  }

  get params(): Readonly<Record<string, number>> {
    return this.inner.params;
  }

  /** Fits the encoder on X, then the inner detector (via `fitInner`) on the encoded X. */
  static fitWith(X: Matrix, spec: EncoderSpec, fitInner: (encoded: Matrix, encoder: Encoder) => Detector): Encoded {
    const encoder = Encoder.fit(X, spec);
    const inner = fitInner(encoder.transform(X), encoder);
    if (inner.nFeatures !== encoder.nOutputs) {
      throw new DetectorInputError(`${ALGORITHM}: inner detector has ${inner.nFeatures} features, expected ${encoder.nOutputs}`);
    }
    return new Encoded(encoder, inner);
  }

  /** Fits from options {"columns": [kind, …], "timeZone": "UTC", "detector": {"algorithm", "options"}}, as the registry does by name. */
  static fit(X: Matrix, options: unknown, fitByName: FitByName): Encoded {
    const { kinds, timeZone, nested } = parseEncodedOptions(options);
    return Encoded.fitWith(X, { kinds, timeZone }, (encoded) => inNestedDetector(ALGORITHM, nested.algorithm, () => fitByName(nested.algorithm, encoded, nested.options)));
  }

  static checkOptions(options: unknown, checkByName: CheckByName): void {
    const { nested } = parseEncodedOptions(options);
    inNestedDetector(ALGORITHM, nested.algorithm, () => checkByName(nested.algorithm, nested.options));
  }

  static fromState(state: DetectorState, rebuild: RebuildDetector): Encoded {
    const invalid = (why: string): never => {
      throw new DetectorInputError(`${ALGORITHM}: invalid model state: ${why}`);
    };
    checkStateHeader(state, ALGORITHM);
    if (Object.keys(state.params).length > 0) invalid(`unexpected params ${Object.keys(state.params).join(', ')}`);
    const encoder = Encoder.fromArrays(
      stateSection(state, 'encodings', Uint8Array),
      stateSection(state, 'levelColumns', Int32Array),
      stateSection(state, 'levelCodes', Float64Array),
      stateSection(state, 'levelShares', Float64Array),
      stateSection(state, 'textEnds', Int32Array),
      stateSection(state, 'textBytes', Uint8Array),
      state.settings?.timeZone ?? '',
    );
    if (encoder.nFeatures !== state.nFeatures) invalid(`the encoder has ${encoder.nFeatures} columns but nFeatures is ${state.nFeatures}`);
    const inner = rebuildOnlyChild(state, rebuild, ALGORITHM, encoder.nOutputs, invalid);
    return new Encoded(encoder, inner);
  }

  toState(): DetectorState {
    return {
      algorithm: this.algorithm,
      nFeatures: this.nFeatures,
      threshold: this.threshold,
      params: {},
      settings: { timeZone: this.encoder.timeZone },
      sections: this.encoder.toSections(),
      children: [this.inner.toState()],
    };
  }

  /** Scores block by block through one reused buffer; what stays missing after encoding is the inner detector's (the imputer's) to fill or refuse. */
  score(X: Matrix, out?: Float64Array): Float64Array {
    if (X.cols !== this.nFeatures) throw new DetectorInputError(`${ALGORITHM}: model was fitted on ${this.nFeatures} columns but the data has ${X.cols}`);
    if (out !== undefined && out.length !== X.rows) throw new RangeError(`output buffer has length ${out.length} but the data has ${X.rows} rows`);
    const encode: BlockTransform = (M, start, end, buffer) => this.encoder.transformRows(M, start, end, buffer);
    return scoreInBlocks(this.inner, X, out ?? new Float64Array(X.rows), this.encoder.nOutputs, encode, (error, block, firstRow) => this.inInputTerms(error, block, firstRow));
  }

  /**
   * The inner detector's refusal of a missing value names a column of the encoded rows; this
   * names the input column it came from instead (a missing timestamp, or a number, in a model
   * trained without missing values). Runs only on that error path.
   */
  private inInputTerms(error: unknown, block: Matrix, firstRow: number): unknown {
    if (!(error instanceof DetectorInputError)) return error;
    const data = block.data;
    for (let i = 0; i < block.rows * block.cols; i++) {
      if (data[i] !== data[i]) {
        const column = this.encoder.outputSource[i % block.cols];
        return new DetectorInputError(
          `${ALGORITHM}: row ${firstRow + Math.floor(i / block.cols)}, column ${column}: a missing value, and this model was trained on data without any, so it has no fill-in value for one`,
        );
      }
    }
    return error;
  }

  /** 1 where score > threshold (scores all rows at once: predictInBlocks would refuse a missing category). */
  predict(X: Matrix, out?: Uint8Array): Uint8Array {
    return predictFromScores(this, X, out);
  }

  /** The inner detector's explanation of the encoded rows, each output's share added to its input column. */
  explain(X: Matrix, rows: RowSelection, out?: Float64Array): Float64Array {
    const selected = selectExplainedRows(this, X, rows, out?.length, { missingAllowed: true });
    const inner = this.inner.explain(this.encoder.transform(selected), allRows(selected.rows));
    return this.encoder.foldContributions(inner, selected.rows, out ?? new Float64Array(selected.rows * this.nFeatures));
  }
}

/** The encoder at the root of a model, if it has one (the column kinds detection reads with, and category texts). */
export function modelEncoder(detector: Detector): Encoder | undefined {
  return detector instanceof Encoded ? detector.encoder : undefined;
}
