/**
 * Which of a chunk's scored rows are stored as anomalies, with their p-values and top features.
 *
 * Rules with a fixed cutoff (contamination, score) store exactly the job's anomalies. The
 * job-wide rules store candidates, a superset that finalising trims (src/results/jobFlagging.ts):
 * - fdr: rows whose p-value is ≤ α, since Benjamini–Hochberg's cutoff is never above α;
 * - maxAlerts: rows at or above the n-th highest score seen so far in this chunk attempt, since a
 *   row among the job's n highest is among the n highest of every run of rows that contains it.
 */
import type { ChunkFlagging, FeatureContribution, ThresholdRule } from './flagging';
import type { ChunkBlock } from '../data/formats';
import type { AnomalyRow } from '../db/anomalies';
import { checkFdrLevel, pValueOf, scoreCutoffForPValue } from '../scoring/conformal';
import type { ModelFile } from '../scoring/modelFile';
import { trainingPercentile } from '../scoring/modelFile';
import { modelEncoder, type ColumnKind, type Encoder } from '../scoring/encoder';

/** A job whose rule cannot run on its model: no retry helps. */
export class FlaggingRuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlaggingRuleError';
  }
}

/** The rule runs from before thresholds existed: the model's own threshold, nothing explained. */
const LEGACY: ChunkFlagging = { rule: { method: 'contamination' }, explainTop: 0 };

export class ChunkFlagger {
  private readonly fixedCutoff: number | undefined;
  /** maxAlerts: a min-heap of the highest scores seen in this attempt. */
  private readonly top: TopScores | undefined;
  /** The model's encoder and its column kinds, when it has category or timestamp columns: their texts. */
  private readonly encoder: Encoder | undefined;
  private readonly kinds: ColumnKind[] | undefined;

  constructor(
    private readonly model: ModelFile,
    private readonly featureNames: readonly string[],
    private readonly flagging: ChunkFlagging = LEGACY,
  ) {
    const { rule } = this.flagging;
    this.encoder = modelEncoder(model.detector);
    this.kinds = this.encoder?.kinds();
    if (rule.method === 'maxAlerts') this.top = new TopScores(rule.n);
    else this.fixedCutoff = candidateCutoff(rule, model);
  }

  /**
   * Adds the block's rows to store to `into`, keyed by id (or the source's row key); returns
   * how many. `firstRow` is the dataset row of the block's first row.
   */
  collect(firstRow: number, scores: Float64Array, block: Pick<ChunkBlock, 'ids' | 'rowKey' | 'features'>, into: AnomalyRow[]): number {
    const picked: number[] = [];
    if (this.top) {
      for (let i = 0; i < scores.length; i++) if (this.top.offer(scores[i])) picked.push(i);
    } else {
      const cutoff = this.fixedCutoff!;
      for (let i = 0; i < scores.length; i++) if (scores[i] > cutoff) picked.push(i);
    }
    if (picked.length === 0) return 0;
    const explanations = this.explain(block.features, picked);
    const { ids, rowKey } = block;
    const calibration = this.model.calibrationScores;
    picked.forEach((i, k) => {
      into.push({
        row_index: firstRow + i,
        score: scores[i],
        row_id: ids ? ids[i] : rowKey ? rowKey(i) : null,
        p_value: calibration && calibration.length > 0 ? pValueOf(calibration, scores[i]) : null,
        explanation: explanations ? explanations[k] : null,
      });
    });
    return picked.length;
  }

  /** The top features of each picked row, most anomalous first; null when the job explains nothing. */
  private explain(features: ChunkBlock['features'], rows: number[]): FeatureContribution[][] | null {
    const top = Math.min(this.flagging.explainTop, features.cols);
    if (top === 0) return null;
    const d = features.cols;
    const contributions = this.model.detector.explain(features, rows);
    const quantiles = this.model.featureQuantiles;
    const ranked = new Int32Array(top);
    return rows.map((row, k) => {
      topFeatures(contributions, k * d, d, ranked);
      return Array.from(ranked, (f) => {
        const value = features.data[row * d + f];
        const text = this.valueText(f, value);
        // A missing value (NaN) has no training percentile, nor a category or a timestamp; JSON stores NaN itself as null.
        const percentile = quantiles && value === value && text === undefined ? trainingPercentile(quantiles, f, value) : null;
        return { feature: this.featureNames[f], value, contribution: contributions[k * d + f], percentile, ...(text !== undefined ? { text } : {}) };
      });
    });
  }

  /** A category's text ('(rare)' for a value not among the model's levels), a timestamp in ISO 8601 UTC; undefined for numbers. */
  private valueText(f: number, value: number): string | undefined {
    const kind = this.kinds?.[f];
    if (kind === 'category') return this.encoder!.categoryText(f, value) ?? (this.encoder!.knowsLevel(f, value) ? `#${value}` : '(rare)');
    if (kind === 'timestamp') return value === value ? new Date(value).toISOString() : '(missing)';
    return undefined;
  }
}

/**
 * Fills `ranked` with the features of the highest contributions in values[base, base + d), highest
 * first; ties by column order, so the same row always explains the same way. An insertion into a
 * short list: no allocation or sort per row.
 */
function topFeatures(values: Float64Array, base: number, d: number, ranked: Int32Array): void {
  const top = ranked.length;
  let size = 0;
  for (let f = 0; f < d; f++) {
    const v = values[base + f];
    if (size === top && !(v > values[base + ranked[top - 1]])) continue;
    let i = size < top ? size++ : top - 1;
    // Strictly greater moves up: an equal contribution stays after the earlier column.
    while (i > 0 && v > values[base + ranked[i - 1]]) {
      ranked[i] = ranked[i - 1];
      i--;
    }
    ranked[i] = f;
  }
}

/** The score chunks store rows above, for the rules whose cutoff needs no other chunk. */
function candidateCutoff(rule: Exclude<ThresholdRule, { method: 'maxAlerts' }>, model: ModelFile): number {
  switch (rule.method) {
    case 'contamination':
      return model.detector.threshold;
    case 'score':
      return rule.value;
    case 'fdr': {
      checkFdrLevel(rule.alpha);
      const calibration = model.calibrationScores;
      if (!calibration || calibration.length === 0) {
        throw new FlaggingRuleError('the fdr rule needs calibration scores, and this model has none (it was trained before they were kept): train it again, or choose another threshold rule');
      }
      return scoreCutoffForPValue(calibration, rule.alpha);
    }
  }
}

/** The n highest scores offered so far, as a min-heap of fixed capacity. */
class TopScores {
  private readonly heap: Float64Array;
  private size = 0;

  constructor(private readonly n: number) {
    this.heap = new Float64Array(n);
  }

  /** Keeps `score` if it is among the n highest so far (ties with the lowest kept count as in); true if so. */
  offer(score: number): boolean {
    const { heap } = this;
    if (this.size < this.n) {
      let i = this.size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (heap[parent] <= score) break;
        heap[i] = heap[parent];
        i = parent;
      }
      heap[i] = score;
      return true;
    }
    if (score < heap[0]) return false;
    // Replace the lowest and sift down.
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= this.n) break;
      const right = left + 1;
      const child = right < this.n && heap[right] < heap[left] ? right : left;
      if (heap[child] >= score) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = score;
    return true;
  }
}
