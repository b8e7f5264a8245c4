/**
 * HBOS, Histogram-Based Outlier Score (Goldstein & Dengel 2012), as PyOD's `HBOS` computes it
 * with static bins (PyOD defaults n_bins = 10, alpha = 0.1, tol = 0.5).
 *
 * Fit: per feature, numpy's np.histogram(x, bins = nBins, density = True): nBins equal-width bins
 * from the column's min to its max (edges by np.linspace), bin k holding min + k·w <= x <
 * min + (k+1)·w (the last bin closed), density = count / width / n.
 *
 * Score: per feature, the bin is found as PyOD does with np.digitize(x, edges, right = True), so
 * a value exactly on an inner edge scores with the bin *below* that edge (PyOD's quirk, kept):
 *   edge[0] <  x <= edge[nBins]      → bin b with edge[b] < x <= edge[b+1]
 *   x <= edge[0]                     → bin 0 if edge[0] - x <= tol·(width of bin 0), else "outside"
 *   x >  edge[nBins]                 → last bin if x - edge[nBins] <= tol·(width of the last bin),
 *                                      else "outside"
 * feature score = -log2(density[bin] + alpha), "outside" = the largest of those (the emptiest
 * bin); row score = Σ over features (PyOD: invert_order(Σ log2(density + alpha))). PyOD uses log2.
 *
 * Policy: a column that is constant in the training data (max = min, or a range too small to
 * split into nBins bins of positive width) carries no information and contributes 0 to every
 * row's score, whatever the value. (PyOD instead widens it to ±0.5 around the constant, which
 * adds -log2(alpha) to every training row and odd values near the constant.)
 *
 * The model stores the bin edges (nBins + 1 per feature) and densities (nBins per feature),
 * feature after feature, like PyOD's bin_edges_ and hist_.
 */
import {
  checkFitInput,
  checkScoreInput,
  Detector,
  DetectorInputError,
  DetectorState,
  resolveOptions,
  ResolvedOptions,
  checkStateHeader,
  stateSection,
  predictInBlocks,
  RowSelection,
  selectExplainedRows,
} from './detector';
import { Matrix } from './matrix';
import { thresholdFromContamination } from './threshold';

const ALGORITHM = 'hbos';

export const HBOS_OPTIONS = {
  /** Equal-width bins per feature (PyOD n_bins; the 'auto' mode is not supported). */
  nBins: { default: 10, min: 2, max: 65_536, integer: true },
  /** Added to every density before the log, so an empty bin scores -log2(alpha), not Infinity. */
  alpha: { default: 0.1, min: 0, max: 1, integer: false, exclusiveMin: true, exclusiveMax: true },
  /** How far outside the training range, in bin widths, a value still counts as in the edge bin. */
  tol: { default: 0.5, min: 0, max: 1, integer: false, exclusiveMin: true, exclusiveMax: true },
  contamination: { default: 0.1, min: 0, max: 0.5, integer: false, exclusiveMin: true },
} as const;

export interface HbosOptions {
  nBins?: number;
  alpha?: number;
  tol?: number;
  contamination?: number;
}

export type HbosParams = ResolvedOptions<typeof HBOS_OPTIONS>;

/** The fitted histograms, feature after feature (the stored form). */
export interface HbosHistograms {
  /** edges[f·(nBins+1) + k], non-decreasing per feature; all equal for a constant column. */
  readonly edges: Float64Array;
  /** density[f·nBins + k] = count / width / n; all 0 for a constant column. */
  readonly density: Float64Array;
}

/** Per-bin scores derived from the histograms when a model is built or loaded (never stored). */
interface ScoreTables {
  /** -log2(density + alpha) per bin; all 0 for a constant column. */
  readonly binScore: Float64Array;
  /** The score of a value beyond tol outside the range: the largest bin score. */
  readonly outsideScore: Float64Array;
  /** tol × width of the first and of the last bin (0 for a constant column). */
  readonly leftReach: Float64Array;
  readonly rightReach: Float64Array;
}

/** np.linspace(min, max, nBins + 1) into edges[base, base + nBins]. */
function linspaceEdges(min: number, max: number, nBins: number, edges: Float64Array, base: number): void {
  const step = (max - min) / nBins;
  for (let k = 0; k < nBins; k++) edges[base + k] = k * step + min;
  edges[base + nBins] = max;
}

function buildHistograms(X: Matrix, nBins: number): HbosHistograms {
  const { rows, cols, data } = X;
  const edges = new Float64Array(cols * (nBins + 1));
  const density = new Float64Array(cols * nBins);
  const counts = new Float64Array(nBins);
  for (let f = 0; f < cols; f++) {
    const eBase = f * (nBins + 1);
    const dBase = f * nBins;
    let min = Infinity;
    let max = -Infinity;
    for (let r = 0; r < rows; r++) {
      const v = data[r * cols + f];
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (!Number.isFinite(max - min)) {
      throw new DetectorInputError(
        `${ALGORITHM}: column ${f} spans ${min} to ${max}, a range too wide to bin in float64; rescale the data`,
      );
    }
    linspaceEdges(min, max, nBins, edges, eBase);
    let splittable = max > min;
    for (let k = 0; splittable && k < nBins; k++) if (!(edges[eBase + k + 1] > edges[eBase + k])) splittable = false;
    if (!splittable) {
      // Constant column (or one too narrow for nBins bins): every edge the value, densities 0.
      edges.fill(min, eBase, eBase + nBins + 1);
      continue;
    }
    counts.fill(0);
    for (let r = 0; r < rows; r++) {
      const x = data[r * cols + f];
      // np.histogram: edge[k] <= x < edge[k+1], the last bin also takes x = max.
      let lo = 0;
      let hi = nBins;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (edges[eBase + mid + 1] <= x) lo = mid + 1;
        else hi = mid;
      }
      counts[lo < nBins ? lo : nBins - 1]++;
    }
    for (let k = 0; k < nBins; k++) {
      // numpy: n / np.diff(bin_edges) / n.sum()
      density[dBase + k] = counts[k] / (edges[eBase + k + 1] - edges[eBase + k]) / rows;
    }
  }
  return { edges, density };
}

/** Validates stored histograms (so a crafted file cannot produce NaN) and derives the tables. */
function compileTables(hist: HbosHistograms, nFeatures: number, params: HbosParams): ScoreTables {
  const { nBins, alpha, tol } = params;
  const { edges, density } = hist;
  const fail = (why: string): never => {
    throw new DetectorInputError(`${ALGORITHM}: invalid model state: ${why}`);
  };
  if (edges.length !== nFeatures * (nBins + 1)) fail(`expected ${nFeatures * (nBins + 1)} bin edges, got ${edges.length}`);
  if (density.length !== nFeatures * nBins) fail(`expected ${nFeatures * nBins} densities, got ${density.length}`);
  const binScore = new Float64Array(nFeatures * nBins);
  const outsideScore = new Float64Array(nFeatures);
  const leftReach = new Float64Array(nFeatures);
  const rightReach = new Float64Array(nFeatures);
  for (let f = 0; f < nFeatures; f++) {
    const eBase = f * (nBins + 1);
    const dBase = f * nBins;
    for (let k = 0; k <= nBins; k++) {
      if (!Number.isFinite(edges[eBase + k])) fail(`feature ${f} has a non-finite bin edge`);
      if (k > 0 && edges[eBase + k] < edges[eBase + k - 1]) fail(`feature ${f} has decreasing bin edges`);
    }
    for (let k = 0; k < nBins; k++) {
      const d = density[dBase + k];
      if (!(d >= 0 && d < Infinity)) fail(`feature ${f} has an invalid density ${d}`);
    }
    if (edges[eBase] === edges[eBase + nBins]) continue; // constant column: every score 0
    let worst = -Infinity;
    for (let k = 0; k < nBins; k++) {
      const s = -Math.log2(density[dBase + k] + alpha);
      binScore[dBase + k] = s;
      if (s > worst) worst = s;
    }
    outsideScore[f] = worst;
    leftReach[f] = (edges[eBase + 1] - edges[eBase]) * tol;
    rightReach[f] = (edges[eBase + nBins] - edges[eBase + nBins - 1]) * tol;
  }
  return { binScore, outsideScore, leftReach, rightReach };
}

/**
 * Row scores into `out`; with `terms` (rows × cols), each feature's term too, so a row's terms
 * added in column order give its score bit for bit.
 */
function scoreHistograms(hist: HbosHistograms, tables: ScoreTables, nBins: number, X: Matrix, out: Float64Array, terms?: Float64Array): void {
  const { edges } = hist;
  const { binScore, outsideScore, leftReach, rightReach } = tables;
  const { rows, cols, data } = X;
  out.fill(0);
  for (let f = 0; f < cols; f++) {
    const eBase = f * (nBins + 1);
    const dBase = f * nBins;
    const first = edges[eBase];
    const last = edges[eBase + nBins];
    const outside = outsideScore[f];
    const left = leftReach[f];
    const right = rightReach[f];
    for (let r = 0; r < rows; r++) {
      const x = data[r * cols + f];
      let s: number;
      if (x <= first) {
        s = first - x <= left ? binScore[dBase] : outside;
      } else if (x > last) {
        s = x - last <= right ? binScore[dBase + nBins - 1] : outside;
      } else {
        // np.digitize(right=True): the first edge k >= 1 with x <= edge[k]; the bin is k - 1.
        let lo = 1;
        let hi = nBins;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (edges[eBase + mid] < x) lo = mid + 1;
          else hi = mid;
        }
        s = binScore[dBase + lo - 1];
      }
      out[r] += s;
      if (terms !== undefined) terms[r * cols + f] = s;
    }
  }
}

export class Hbos implements Detector {
  static readonly algorithm = ALGORITHM;
  readonly algorithm = ALGORITHM;

  private readonly tables: ScoreTables;

  private constructor(
    readonly nFeatures: number,
    readonly threshold: number,
    readonly params: HbosParams,
    private readonly hist: HbosHistograms,
    tables?: ScoreTables,
  ) {
    this.tables = tables ?? compileTables(hist, nFeatures, params);
  }

  static fit(X: Matrix, options?: HbosOptions): Hbos {
    const params = resolveOptions(ALGORITHM, HBOS_OPTIONS, options);
    checkFitInput(ALGORITHM, X);
    if (X.rows < 2) {
      throw new DetectorInputError(
        `${ALGORITHM}: cannot fit on a dataset with 1 row; at least 2 rows are needed to build a histogram`,
      );
    }
    const hist = buildHistograms(X, params.nBins);
    const tables = compileTables(hist, X.cols, params);
    const trainScores = new Float64Array(X.rows);
    scoreHistograms(hist, tables, params.nBins, X, trainScores);
    const threshold = thresholdFromContamination(trainScores, params.contamination);
    return new Hbos(X.cols, threshold, params, hist, tables);
  }

  static fromState(state: DetectorState): Hbos {
    checkStateHeader(state, ALGORITHM);
    const params = resolveOptions(ALGORITHM, HBOS_OPTIONS, state.params);
    const hist: HbosHistograms = {
      edges: stateSection(state, 'edges', Float64Array),
      density: stateSection(state, 'density', Float64Array),
    };
    return new Hbos(state.nFeatures, state.threshold, params, hist);
  }

  toState(): DetectorState {
    return {
      algorithm: this.algorithm,
      nFeatures: this.nFeatures,
      threshold: this.threshold,
      params: this.params,
      sections: [
        { name: 'edges', data: this.hist.edges },
        { name: 'density', data: this.hist.density },
      ],
    };
  }

  score(X: Matrix, out?: Float64Array): Float64Array {
    checkScoreInput(this, X, out?.length);
    const scores = out ?? new Float64Array(X.rows);
    scoreHistograms(this.hist, this.tables, this.params.nBins, X, scores);
    return scores;
  }

  predict(X: Matrix, out?: Uint8Array): Uint8Array {
    return predictInBlocks(this, X, out);
  }

  /**
   * Exact attribution: HBOS is a sum over features, so a feature's contribution is its own term,
   * -log2(density of the value's bin + alpha), and a row's contributions sum to its score (added
   * in column order they give it bit for bit). A constant training column contributes 0.
   */
  explain(X: Matrix, rows: RowSelection, out?: Float64Array): Float64Array {
    const selected = selectExplainedRows(this, X, rows, out?.length);
    const terms = out ?? new Float64Array(selected.rows * this.nFeatures);
    scoreHistograms(this.hist, this.tables, this.params.nBins, selected, new Float64Array(selected.rows), terms);
    return terms;
  }
}
