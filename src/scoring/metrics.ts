/**
 * Ranking metrics for evaluating a detector against known labels (1 = anomaly), matching
 * scikit-learn's roc_auc_score and average_precision_score, ties included, so our numbers can
 * be compared with published benchmarks.
 */

function checkLabelsAndScores(metric: string, labels: Uint8Array, scores: Float64Array): number {
  if (labels.length !== scores.length) {
    throw new RangeError(`${metric}: ${labels.length} labels but ${scores.length} scores`);
  }
  let positives = 0;
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (label > 1) throw new RangeError(`${metric}: labels must be 0 or 1; label ${i} is ${label}`);
    positives += label;
    if (Number.isNaN(scores[i])) throw new RangeError(`${metric}: score ${i} is NaN`);
  }
  if (positives === 0 || positives === labels.length) {
    throw new RangeError(
      `${metric} is undefined when only one class is present ` +
        `(${positives} anomalies among ${labels.length} rows); it needs both normal and anomalous labels`,
    );
  }
  return positives;
}

/** Row indices ordered by score, descending, so tied scores are adjacent. */
function orderByScoreDescending(scores: Float64Array): Uint32Array {
  const order = new Uint32Array(scores.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => scores[b] - scores[a] || a - b);
}

/**
 * Area under the ROC curve via the Mann–Whitney U statistic: the probability that a random
 * anomaly scores above a random normal row, with tied scores (average ranks) counting half.
 */
export function rocAuc(labels: Uint8Array, scores: Float64Array): number {
  const positives = checkLabelsAndScores('rocAuc', labels, scores);
  const negatives = labels.length - positives;
  const order = orderByScoreDescending(scores);
  // Walk groups of tied scores from the top; a positive outranks every negative below its
  // group and half of the negatives inside it. Counting this way avoids huge rank sums.
  let negativesBelow = negatives;
  let wins = 0;
  for (let start = 0; start < order.length; ) {
    const value = scores[order[start]];
    let end = start;
    let groupPositives = 0;
    while (end < order.length && scores[order[end]] === value) {
      groupPositives += labels[order[end]];
      end++;
    }
    const groupNegatives = end - start - groupPositives;
    negativesBelow -= groupNegatives;
    wins += groupPositives * (negativesBelow + groupNegatives / 2);
    start = end;
  }
  return wins / (positives * negatives);
}

/**
 * Average precision as scikit-learn computes it: the step-wise sum over distinct score
 * thresholds (highest first) of (recall gained) × (precision at that threshold). Rows with tied
 * scores enter together at one threshold; there is no interpolation.
 */
export function averagePrecision(labels: Uint8Array, scores: Float64Array): number {
  const positives = checkLabelsAndScores('averagePrecision', labels, scores);
  const order = orderByScoreDescending(scores);
  let truePositives = 0;
  let flagged = 0;
  let sum = 0;
  for (let start = 0; start < order.length; ) {
    const value = scores[order[start]];
    let end = start;
    let groupPositives = 0;
    while (end < order.length && scores[order[end]] === value) {
      groupPositives += labels[order[end]];
      end++;
    }
    truePositives += groupPositives;
    flagged = end;
    if (groupPositives > 0) sum += (groupPositives / positives) * (truePositives / flagged);
    start = end;
  }
  return sum;
}
