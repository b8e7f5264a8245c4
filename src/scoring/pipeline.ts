/**
 * A fitted standardiser in front of any detector: score(X) = inner.score(standardise(X)).
 * The standardiser is fitted on the training data and stored with the model, so scoring data is
 * transformed exactly as the training data was.
 *
 * Scoring standardises a block of rows at a time into one reused buffer (at most
 * PIPELINE_BLOCK_ROWS × cols values), never a copy of the whole matrix, so memory stays bounded
 * however large the scored chunk is. The inner detector therefore sees the rows in blocks: every
 * row-wise detector (all of them, and 'ecdf' ensembles) gives identical scores either way; an
 * ensemble with 'rank' normalisation inside a pipeline ranks within each block.
 *
 * A pipeline's threshold is its inner detector's (same scores), and its `params` are the inner
 * detector's resolved options; the pipeline's own state has no numeric params, the standardiser
 * kind as the `standardize` setting, sections 'center' and 'scale', and the inner state as its
 * only child.
 *
 * User options (JSON): { "standardize": "zscore" | "robust" (default "zscore"),
 *                        "detector": { "algorithm": "...", "options": { ... } } }
 */
import {
  checkFitInput,
  checkScoreInput,
  Detector,
  DetectorInputError,
  DetectorOptionError,
  DetectorState,
  checkStateHeader,
  stateSection,
  predictInBlocks,
  RowSelection,
  selectExplainedRows,
  allRows,
} from './detector';
import { Matrix } from './matrix';
import { isStandardizerKind, Standardizer, StandardizerKind, STANDARDIZER_KINDS } from './standardizer';

const ALGORITHM = 'pipeline';

/** Rows standardised per block when scoring. */
export const PIPELINE_BLOCK_ROWS = 8192;

/** Fits a detector by registry name (supplied by the registry, which this module cannot import). */
export type FitByName = (algorithm: string, X: Matrix, options?: unknown) => Detector;
/** Rebuilds any detector from its decoded state (supplied by the registry). */
export type RebuildDetector = (state: DetectorState) => Detector;
/** Checks a detector's options by registry name, without data (supplied by the registry). */
export type CheckByName = (algorithm: string, options?: unknown) => void;

export interface PipelineOptions {
  standardize?: StandardizerKind;
  detector: { algorithm: string; options?: unknown };
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'number' ? String(value) : typeof value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Re-throws an error from fitting or loading a nested detector with `context` prepended to its
 * message and, for option errors, `optionPrefix` to the option path (e.g. 'members[1].options.').
 */
export function rethrowNested(error: unknown, context: string, optionPrefix: string): never {
  if (error instanceof DetectorOptionError) {
    const option = error.option === undefined ? undefined : `${optionPrefix}${error.option}`;
    throw new DetectorOptionError(`${context}: ${error.message}`, option);
  }
  if (error instanceof DetectorInputError) throw new DetectorInputError(`${context}: ${error.message}`);
  throw error;
}

/**
 * The one inner detector of a composite's stored state (pipeline, imputer, encoder), rebuilt and
 * checked against the composite: it must take `innerFeatures` columns and carry the composite's
 * threshold. `invalid` throws the composite's own "invalid model state" error.
 */
export function rebuildOnlyChild(state: DetectorState, rebuild: RebuildDetector, algorithm: string, innerFeatures: number, invalid: (why: string) => never): Detector {
  const children = state.children ?? [];
  if (children.length !== 1) invalid(`expected 1 inner detector, got ${children.length}`);
  let inner: Detector;
  try {
    inner = rebuild(children[0]);
  } catch (error) {
    return rethrowNested(error, `${algorithm}: inner detector`, 'detector.');
  }
  if (inner.nFeatures !== innerFeatures) invalid(`inner detector has ${inner.nFeatures} features, expected ${innerFeatures}`);
  if (inner.threshold !== state.threshold) invalid(`threshold ${state.threshold} differs from the inner detector's ${inner.threshold}`);
  return inner;
}

/** Rows [start, end) of X transformed into `buffer`, as a Matrix view of it (the standardiser's, imputer's and encoder's transformRows). */
export type BlockTransform = (X: Matrix, start: number, end: number, buffer: Float64Array) => Matrix;

/**
 * A composite's scoring: X transformed PIPELINE_BLOCK_ROWS rows at a time into one reused buffer
 * of `width` columns and scored by `inner` into `scores`, so memory is bounded by the block.
 * `inBlockTerms` may restate an inner error in the composite's own terms (it sees the block).
 */
export function scoreInBlocks(
  inner: Detector,
  X: Matrix,
  scores: Float64Array,
  width: number,
  transform: BlockTransform,
  inBlockTerms?: (error: unknown, block: Matrix, firstRow: number) => unknown,
): Float64Array {
  const buffer = new Float64Array(Math.min(X.rows, PIPELINE_BLOCK_ROWS) * width);
  for (let start = 0; start < X.rows; start += PIPELINE_BLOCK_ROWS) {
    const end = Math.min(start + PIPELINE_BLOCK_ROWS, X.rows);
    const block = transform(X, start, end, buffer);
    try {
      inner.score(block, scores.subarray(start, end));
    } catch (error) {
      throw inBlockTerms ? inBlockTerms(error, block, start) : error;
    }
  }
  return scores;
}

/**
 * 1 where score > threshold, scoring all rows at once: for a composite that fills in or encodes
 * what predictInBlocks would refuse (a missing value, a category code).
 */
export function predictFromScores(detector: Detector, X: Matrix, out?: Uint8Array): Uint8Array {
  if (out !== undefined && out.length !== X.rows) throw new RangeError(`output buffer has length ${out.length} but the data has ${X.rows} rows`);
  const scores = detector.score(X);
  const labels = out ?? new Uint8Array(X.rows);
  for (let i = 0; i < scores.length; i++) labels[i] = scores[i] > detector.threshold ? 1 : 0;
  return labels;
}

/**
 * Checks `{ algorithm, options }` describing a nested detector (from user JSON).
 * `where` names it in messages, e.g. 'pipeline: option "detector"' or 'ensemble: members[2]'.
 */
export function parseNestedDetector(
  where: string,
  option: string,
  value: unknown,
): { algorithm: string; options: unknown } {
  if (!isPlainObject(value)) {
    throw new DetectorOptionError(
      `${where} must be an object like {"algorithm": "isolation-forest", "options": {...}}; got ${describe(value)}`,
      option,
    );
  }
  for (const key of Object.keys(value)) {
    if (key !== 'algorithm' && key !== 'options') {
      throw new DetectorOptionError(`${where}: unknown key "${key}"; allowed keys: algorithm, options`, `${option}.${key}`);
    }
  }
  if (typeof value.algorithm !== 'string' || value.algorithm === '') {
    throw new DetectorOptionError(`${where}: "algorithm" must be a non-empty string; got ${describe(value.algorithm)}`, `${option}.algorithm`);
  }
  if (value.options !== undefined && value.options !== null && !isPlainObject(value.options)) {
    throw new DetectorOptionError(`${where}: "options" must be an object; got ${describe(value.options)}`, `${option}.options`);
  }
  return { algorithm: value.algorithm, options: value.options ?? undefined };
}

/** The user options' shape (see the file comment); the inner detector's own options are its to check. */
function parsePipelineOptions(options: unknown): { standardize: StandardizerKind; nested: { algorithm: string; options: unknown } } {
  if (!isPlainObject(options)) {
    throw new DetectorOptionError(
      `${ALGORITHM}: options must be an object like {"standardize": "zscore", "detector": {"algorithm": "pca"}}; got ${describe(options)}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (key !== 'standardize' && key !== 'detector') {
      throw new DetectorOptionError(`${ALGORITHM}: unknown option "${key}". Allowed options: standardize, detector`, key);
    }
  }
  const standardize = options.standardize ?? 'zscore';
  if (!isStandardizerKind(standardize)) {
    throw new DetectorOptionError(
      `${ALGORITHM}: option "standardize" must be one of ${STANDARDIZER_KINDS.map((k) => `"${k}"`).join(', ')}; got ${describe(standardize)}`,
      'standardize',
    );
  }
  if (options.detector === undefined) {
    throw new DetectorOptionError(`${ALGORITHM}: option "detector" is required, e.g. {"algorithm": "pca"}`, 'detector');
  }
  return { standardize, nested: parseNestedDetector(`${ALGORITHM}: option "detector"`, 'detector', options.detector) };
}

/**
 * Runs `work` on a composite's inner detector (option "detector"), naming the composite, the
 * inner algorithm and the option path in any error. Shared by the pipeline and the imputer.
 */
export function inNestedDetector<T>(owner: string, algorithm: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    // An unknown algorithm's option is 'algorithm'; others are options of the inner detector.
    const prefix = error instanceof DetectorOptionError && error.option === 'algorithm' ? 'detector.' : 'detector.options.';
    return rethrowNested(error, `${owner}: detector "${algorithm}"`, prefix);
  }
}

export class Pipeline implements Detector {
  static readonly algorithm = ALGORITHM;
  readonly algorithm = ALGORITHM;

  private constructor(
    readonly standardizer: Standardizer,
    readonly inner: Detector,
  ) {}

  get nFeatures(): number {
    return this.standardizer.nFeatures;
  }

  get threshold(): number {
    return this.inner.threshold;
  }

  /** The inner detector's resolved options (a pipeline has no numeric options of its own). */
  get params(): Readonly<Record<string, number>> {
    return this.inner.params;
  }

  get standardize(): StandardizerKind {
    return this.standardizer.kind;
  }

  /** Fits the standardiser on X, then the inner detector (via `fitInner`) on the standardised X. */
  static fitWith(X: Matrix, standardize: StandardizerKind, fitInner: (standardized: Matrix) => Detector): Pipeline {
    checkFitInput(ALGORITHM, X);
    const standardizer = Standardizer.fit(X, standardize);
    const inner = fitInner(standardizer.transform(X));
    if (inner.nFeatures !== X.cols) {
      throw new DetectorInputError(`${ALGORITHM}: inner detector has ${inner.nFeatures} features, expected ${X.cols}`);
    }
    return new Pipeline(standardizer, inner);
  }

  /** Checks user options (see the file comment) without data: their shape here, the inner detector's own through `checkByName`. */
  static checkOptions(options: unknown, checkByName: CheckByName): void {
    const { nested } = parsePipelineOptions(options);
    inNestedDetector(ALGORITHM, nested.algorithm, () => checkByName(nested.algorithm, nested.options));
  }

  /** Fits from user options (see the file comment), naming the nested option at fault in errors. */
  static fit(X: Matrix, options: unknown, fitByName: FitByName): Pipeline {
    const { standardize, nested } = parsePipelineOptions(options);
    return Pipeline.fitWith(X, standardize, (standardized) => inNestedDetector(ALGORITHM, nested.algorithm, () => fitByName(nested.algorithm, standardized, nested.options)));
  }

  static fromState(state: DetectorState, rebuild: RebuildDetector): Pipeline {
    const invalid = (why: string): never => {
      throw new DetectorInputError(`${ALGORITHM}: invalid model state: ${why}`);
    };
    checkStateHeader(state, ALGORITHM);
    if (Object.keys(state.params).length > 0) invalid(`unexpected params ${Object.keys(state.params).join(', ')}`);
    const kind = state.settings?.standardize;
    if (kind === undefined) invalid('no "standardize" setting');
    const standardizer = Standardizer.fromArrays(
      kind as string,
      stateSection(state, 'center', Float64Array),
      stateSection(state, 'scale', Float64Array),
    );
    if (standardizer.nFeatures !== state.nFeatures) {
      invalid(`the standardizer has ${standardizer.nFeatures} columns but nFeatures is ${state.nFeatures}`);
    }
    const inner = rebuildOnlyChild(state, rebuild, ALGORITHM, state.nFeatures, invalid);
    return new Pipeline(standardizer, inner);
  }

  toState(): DetectorState {
    return {
      algorithm: this.algorithm,
      nFeatures: this.nFeatures,
      threshold: this.threshold,
      params: {},
      settings: { standardize: this.standardizer.kind },
      sections: this.standardizer.toSections(),
      children: [this.inner.toState()],
    };
  }

  score(X: Matrix, out?: Float64Array): Float64Array {
    checkScoreInput(this, X, out?.length);
    return scoreInBlocks(this.inner, X, out ?? new Float64Array(X.rows), X.cols, (M, start, end, buffer) => this.standardizer.transformRows(M, start, end, buffer));
  }

  predict(X: Matrix, out?: Uint8Array): Uint8Array {
    return predictInBlocks(this, X, out);
  }

  /**
   * The inner detector's explanation of the standardised rows. The standardiser transforms each
   * column on its own, so standardised column c is original column c: contributions map 1:1 and
   * keep whatever property the inner detector's have (e.g. summing to the score).
   */
  explain(X: Matrix, rows: RowSelection, out?: Float64Array): Float64Array {
    const selected = selectExplainedRows(this, X, rows, out?.length);
    return this.inner.explain(this.standardizer.transform(selected), allRows(selected.rows), out);
  }

}
