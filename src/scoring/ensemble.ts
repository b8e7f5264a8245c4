/**
 * An ensemble of any fitted detectors: each member's raw score is mapped into [0, 1] and the
 * ensemble score is the mean over members, so detectors with incomparable score scales (path
 * lengths, distances, densities) count equally. The threshold comes from the contamination on the
 * ensemble's own training scores, as for every detector.
 *
 * Normalisations, both "the fraction of reference scores ≤ s" (an ECDF):
 *   'ecdf' (default)  the reference is the member's scores on the training data, fitted and
 *                     stored with the model, so a row's score does not depend on which other
 *                     rows are scored with it (chunked batch scoring gives identical results).
 *                     With more than `ecdfPoints` training rows, `ecdfPoints` evenly spaced
 *                     order statistics are kept (the ECDF is then exact to ±1/ecdfPoints),
 *                     bounding the model size.
 *   'rank'            the reference is the member's scores on the batch being scored: each row
 *                     gets its rank within the batch. Scores (and predictions) then depend on the
 *                     batch: a row scored in another chunk can get another score. The threshold
 *                     still comes from the training batch.
 *
 * User options (JSON): { "members": [{ "algorithm": "...", "options": {...} }, ...],
 *   "normalization": "ecdf" | "rank", "contamination": 0.1, "ecdfPoints": 10000 }
 *
 * State: params {contamination, ecdfPoints}, setting `normalization`, sections 'reference.<i>'
 * (sorted reference scores of member i; 'ecdf' only), children = the members' states in order.
 */
import {
  checkFitInput,
  checkScoreInput,
  Detector,
  DetectorInputError,
  DetectorOptionError,
  DetectorState,
  resolveOptions,
  ResolvedOptions,
  StateSection,
  checkStateHeader,
  stateSection,
  predictInBlocks,
  RowSelection,
  selectExplainedRows,
  allRows,
} from './detector';
import { Matrix } from './matrix';
import { CheckByName, FitByName, parseNestedDetector, RebuildDetector, rethrowNested } from './pipeline';
import { thresholdFromContamination } from './threshold';

const ALGORITHM = 'ensemble';

export type EnsembleNormalization = 'ecdf' | 'rank';
export const ENSEMBLE_NORMALIZATIONS: readonly EnsembleNormalization[] = ['ecdf', 'rank'];
export const ENSEMBLE_MAX_MEMBERS = 32;

export const ENSEMBLE_OPTIONS = {
  contamination: { default: 0.1, min: 0, max: 0.5, integer: false, exclusiveMin: true },
  /** Most training scores kept per member for the 'ecdf' normalisation. */
  ecdfPoints: { default: 10_000, min: 2, max: 10_000_000, integer: true },
} as const;

export type EnsembleParams = ResolvedOptions<typeof ENSEMBLE_OPTIONS>;

export interface EnsembleMemberSpec {
  algorithm: string;
  options?: unknown;
}

export interface EnsembleOptions {
  members: EnsembleMemberSpec[];
  normalization?: EnsembleNormalization;
  contamination?: number;
  ecdfPoints?: number;
}

const ALLOWED_KEYS = ['members', 'normalization', ...Object.keys(ENSEMBLE_OPTIONS)];

/** Rows scored per block in 'ecdf' mode, bounding scratch memory. */
const BLOCK_ROWS = 65_536;

function isNormalization(value: unknown): value is EnsembleNormalization {
  return typeof value === 'string' && (ENSEMBLE_NORMALIZATIONS as readonly string[]).includes(value);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'number' ? String(value) : typeof value;
}

/** The number of entries of ascending `sorted` that are ≤ s. */
function countAtMost(sorted: Float64Array, s: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= s) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Adds ECDF_reference(scores[i]) to out[i]. */
function addEcdf(reference: Float64Array, scores: Float64Array, out: Float64Array): void {
  const n = reference.length;
  for (let i = 0; i < scores.length; i++) out[i] += countAtMost(reference, scores[i]) / n;
}

/** At most `points` evenly spaced order statistics of ascending `sorted` (all of them if fewer). */
function thinReference(sorted: Float64Array, points: number): Float64Array {
  const n = sorted.length;
  if (n <= points) return sorted;
  const out = new Float64Array(points);
  for (let k = 0; k < points; k++) out[k] = sorted[Math.round((k * (n - 1)) / (points - 1))];
  return out;
}

interface ParsedEnsembleOptions {
  members: Array<{ algorithm: string; options: unknown }>;
  normalization?: EnsembleNormalization;
  numeric: { contamination?: number; ecdfPoints?: number };
}

/** The shape of the user options, and the ensemble's own numeric ones; the members' options are theirs to check. */
function parseEnsembleOptions(options: unknown): ParsedEnsembleOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new DetectorOptionError(
      `${ALGORITHM}: options must be an object like {"members": [{"algorithm": "isolation-forest"}, {"algorithm": "pca"}]}; got ${describe(options)}`,
    );
  }
  const given = options as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!ALLOWED_KEYS.includes(key)) {
      throw new DetectorOptionError(`${ALGORITHM}: unknown option "${key}". Allowed options: ${ALLOWED_KEYS.join(', ')}`, key);
    }
  }
  const { members: rawMembers, normalization, ...numeric } = given;
  if (!Array.isArray(rawMembers) || rawMembers.length < 1 || rawMembers.length > ENSEMBLE_MAX_MEMBERS) {
    throw new DetectorOptionError(
      `${ALGORITHM}: option "members" must be an array of 1 to ${ENSEMBLE_MAX_MEMBERS} detectors like {"algorithm": "pca", "options": {}}; ` +
        `got ${Array.isArray(rawMembers) ? `${rawMembers.length} members` : describe(rawMembers)}`,
      'members',
    );
  }
  if (normalization !== undefined && !isNormalization(normalization)) {
    throw new DetectorOptionError(
      `${ALGORITHM}: option "normalization" must be one of ${ENSEMBLE_NORMALIZATIONS.map((k) => `"${k}"`).join(', ')}; got ${describe(normalization)}`,
      'normalization',
    );
  }
  const members = rawMembers.map((raw, i) => parseNestedDetector(`${ALGORITHM}: members[${i}]`, `members[${i}]`, raw));
  resolveOptions(ALGORITHM, ENSEMBLE_OPTIONS, numeric);
  return { members, normalization, numeric: numeric as ParsedEnsembleOptions['numeric'] };
}

/** Runs `work` on member i, naming it and its option path in any error. */
function inMember<T>(i: number, algorithm: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    const prefix = error instanceof DetectorOptionError && error.option === 'algorithm' ? `members[${i}].` : `members[${i}].options.`;
    return rethrowNested(error, `${ALGORITHM}: members[${i}] ("${algorithm}")`, prefix);
  }
}

export class Ensemble implements Detector {
  static readonly algorithm = ALGORITHM;
  readonly algorithm = ALGORITHM;

  private constructor(
    readonly nFeatures: number,
    readonly threshold: number,
    readonly params: EnsembleParams,
    readonly normalization: EnsembleNormalization,
    readonly members: readonly Detector[],
    /** Per member, its sorted training-score reference ('ecdf'); empty for 'rank'. */
    private readonly references: readonly Float64Array[],
  ) {}

  /** Combines already fitted members (each fitted on X or compatible data) into an ensemble fitted on X. */
  static fitWith(
    X: Matrix,
    members: readonly Detector[],
    options: { normalization?: EnsembleNormalization; contamination?: number; ecdfPoints?: number } = {},
  ): Ensemble {
    const { normalization = 'ecdf', ...numeric } = options;
    if (!isNormalization(normalization)) {
      throw new DetectorOptionError(
        `${ALGORITHM}: option "normalization" must be one of ${ENSEMBLE_NORMALIZATIONS.map((k) => `"${k}"`).join(', ')}; got ${describe(normalization)}`,
        'normalization',
      );
    }
    const params = resolveOptions(ALGORITHM, ENSEMBLE_OPTIONS, numeric);
    checkFitInput(ALGORITHM, X);
    if (members.length < 1 || members.length > ENSEMBLE_MAX_MEMBERS) {
      throw new DetectorOptionError(`${ALGORITHM}: needs 1 to ${ENSEMBLE_MAX_MEMBERS} members; got ${members.length}`, 'members');
    }
    members.forEach((member, i) => {
      if (member.nFeatures !== X.cols) {
        throw new DetectorInputError(`${ALGORITHM}: member ${i} (${member.algorithm}) has ${member.nFeatures} features but the data has ${X.cols}`);
      }
    });
    const trainScores = new Float64Array(X.rows);
    const references: Float64Array[] = [];
    const memberScores = new Float64Array(X.rows);
    for (const member of members) {
      member.score(X, memberScores);
      const sorted = Float64Array.from(memberScores).sort();
      // 'rank' normalises within the scored batch: here the training batch, in full.
      const reference = normalization === 'ecdf' ? thinReference(sorted, params.ecdfPoints) : sorted;
      addEcdf(reference, memberScores, trainScores);
      if (normalization === 'ecdf') references.push(reference);
    }
    for (let i = 0; i < trainScores.length; i++) trainScores[i] /= members.length;
    const threshold = thresholdFromContamination(trainScores, params.contamination);
    return new Ensemble(X.cols, threshold, params, normalization, [...members], references);
  }

  /** Checks user options (see the file comment) without data: their shape here, each member's own through `checkByName`. */
  static checkOptions(options: unknown, checkByName: CheckByName): void {
    parseEnsembleOptions(options).members.forEach(({ algorithm, options: memberOptions }, i) =>
      inMember(i, algorithm, () => checkByName(algorithm, memberOptions)),
    );
  }

  /** Fits every member by name on X, then the ensemble, from user options (see the file comment). */
  static fit(X: Matrix, options: unknown, fitByName: FitByName): Ensemble {
    // Every member's shape and the numeric options are checked before any (possibly slow) fitting.
    const { members: specs, normalization, numeric } = parseEnsembleOptions(options);
    const members = specs.map(({ algorithm, options: memberOptions }, i) => inMember(i, algorithm, () => fitByName(algorithm, X, memberOptions)));
    return Ensemble.fitWith(X, members, { normalization, ...numeric });
  }

  static fromState(state: DetectorState, rebuild: RebuildDetector): Ensemble {
    const invalid = (why: string): never => {
      throw new DetectorInputError(`${ALGORITHM}: invalid model state: ${why}`);
    };
    checkStateHeader(state, ALGORITHM);
    const params = resolveOptions(ALGORITHM, ENSEMBLE_OPTIONS, state.params);
    const normalization = state.settings?.normalization;
    if (!isNormalization(normalization)) invalid(`normalization is ${describe(normalization)}`);
    const children = state.children ?? [];
    if (children.length < 1 || children.length > ENSEMBLE_MAX_MEMBERS) invalid(`it has ${children.length} members`);
    const members = children.map((child, i) => {
      let member: Detector;
      try {
        member = rebuild(child);
      } catch (error) {
        return rethrowNested(error, `${ALGORITHM}: member ${i}`, `members[${i}].`);
      }
      if (member.nFeatures !== state.nFeatures) invalid(`member ${i} has ${member.nFeatures} features, expected ${state.nFeatures}`);
      return member;
    });
    const references: Float64Array[] = [];
    if (normalization === 'ecdf') {
      members.forEach((_, i) => {
        const reference = stateSection(state, `reference.${i}`, Float64Array);
        if (reference.length === 0 || reference.length > params.ecdfPoints) {
          invalid(`reference.${i} has ${reference.length} scores; expected 1 to ${params.ecdfPoints}`);
        }
        for (let k = 0; k < reference.length; k++) {
          if (!Number.isFinite(reference[k]) || (k > 0 && reference[k] < reference[k - 1])) {
            invalid(`reference.${i} is not a sorted list of finite scores (at ${k})`);
          }
        }
        references.push(reference);
      });
    }
    return new Ensemble(state.nFeatures, state.threshold, params, normalization as EnsembleNormalization, members, references);
  }

  toState(): DetectorState {
    const sections: StateSection[] = this.references.map((data, i) => ({ name: `reference.${i}`, data }));
    return {
      algorithm: this.algorithm,
      nFeatures: this.nFeatures,
      threshold: this.threshold,
      params: this.params,
      settings: { normalization: this.normalization },
      sections,
      children: this.members.map((member) => member.toState()),
    };
  }

  score(X: Matrix, out?: Float64Array): Float64Array {
    checkScoreInput(this, X, out?.length);
    const scores = out ?? new Float64Array(X.rows);
    if (this.normalization === 'rank') {
      this.scoreRank(X, scores);
    } else {
      const scratch = new Float64Array(Math.min(X.rows, BLOCK_ROWS));
      for (let start = 0; start < X.rows; start += BLOCK_ROWS) {
        const end = Math.min(start + BLOCK_ROWS, X.rows);
        this.scoreEcdf(X.sliceRows(start, end), scores.subarray(start, end), scratch.subarray(0, end - start));
      }
    }
    return scores;
  }

  predict(X: Matrix, out?: Uint8Array): Uint8Array {
    return predictInBlocks(this, X, out);
  }

  /**
   * The members' normalised contributions, weighted as the score weighs the members: member m's
   * contributions for a row are divided by their absolute sum (so each member speaks with the
   * same voice whatever its scale), multiplied by the row's normalised member score (its ECDF
   * value, or its rank in X for 'rank', exactly the term the score averages) and averaged over
   * the members. When every member's contributions are ≥ 0 (all detectors but Isolation Forest,
   * whose path credits can be negative) a row's contributions sum to its ensemble score.
   */
  explain(X: Matrix, rows: RowSelection, out?: Float64Array): Float64Array {
    const selected = selectExplainedRows(this, X, rows, out?.length);
    const n = selected.rows;
    const d = this.nFeatures;
    const contributions = out ?? new Float64Array(n * d);
    contributions.fill(0);
    const everyRow = allRows(n);
    const memberScores = new Float64Array(n);
    const weight = new Float64Array(n);
    const memberContributions = new Float64Array(n * d);
    this.members.forEach((member, m) => {
      member.explain(selected, everyRow, memberContributions);
      member.score(selected, memberScores);
      // 'rank' normalises within the scored batch, which is X here as in score(X).
      const reference = this.normalization === 'ecdf' ? this.references[m] : member.score(X).sort();
      weight.fill(0);
      addEcdf(reference, memberScores, weight);
      for (let i = 0; i < n; i++) {
        const base = i * d;
        let size = 0;
        for (let f = base; f < base + d; f++) size += Math.abs(memberContributions[f]);
        if (!(size > 0 && size < Infinity)) continue;
        const scale = weight[i] / size;
        for (let f = base; f < base + d; f++) contributions[f] += memberContributions[f] * scale;
      }
    });
    for (let i = 0; i < n * d; i++) contributions[i] /= this.members.length;
    return contributions;
  }

  private scoreEcdf(X: Matrix, out: Float64Array, scratch: Float64Array): void {
    out.fill(0);
    this.members.forEach((member, m) => {
      member.score(X, scratch);
      addEcdf(this.references[m], scratch, out);
    });
    for (let i = 0; i < out.length; i++) out[i] /= this.members.length;
  }

  private scoreRank(X: Matrix, out: Float64Array): void {
    out.fill(0);
    if (X.rows === 0) return;
    const scratch = new Float64Array(X.rows);
    for (const member of this.members) {
      member.score(X, scratch);
      addEcdf(Float64Array.from(scratch).sort(), scratch, out);
    }
    for (let i = 0; i < out.length; i++) out[i] /= this.members.length;
  }
}
