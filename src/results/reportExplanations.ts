/**
 * The report's "why" for its top anomalies: per anomaly its score and p-value, and per top
 * feature its name, value, a bar for its contribution and a bar for the training range (0–100th
 * percentile) with a marker where the value sits. Inline SVG, no scripts or external assets;
 * every text escaped.
 */
import type { FeatureContribution } from './flagging';
import type { TopAnomaly } from '../db/anomalies';
import { percentileText, pValueText, signedContribution, valueText } from './explanationText';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const CONTRIBUTION_WIDTH = 160;
const RANGE_WIDTH = 160;
const BAR_HEIGHT = 12;

/** Length proportional to |contribution| against the largest shown; a negative one (pulling toward normal) in grey. */
function contributionBar(contribution: number, largest: number): string {
  const length = largest > 0 && Number.isFinite(contribution) ? Math.max(1, (CONTRIBUTION_WIDTH * Math.min(Math.abs(contribution), largest)) / largest) : 0;
  const fill = contribution < 0 ? '#95a5a6' : '#c0392b';
  return `<svg class="bar" width="${CONTRIBUTION_WIDTH}" height="${BAR_HEIGHT}" role="img" aria-label="contribution ${escapeHtml(signedContribution(contribution))}"><rect x="0" y="0" width="${CONTRIBUTION_WIDTH}" height="${BAR_HEIGHT}" fill="#f2f3f4"/><rect class="contribution" x="0" y="0" width="${length.toFixed(1)}" height="${BAR_HEIGHT}" fill="${fill}"/></svg>`;
}

/**
 * The training range as a bar from the 0th to the 100th percentile, the middle half shaded, and
 * a marker at the value's percentile; without a profile, the bar alone and "no profile".
 */
function rangeBar(percentile: number | null): string {
  const known = percentile !== null && Number.isFinite(percentile);
  const x = known ? (RANGE_WIDTH * Math.min(100, Math.max(0, percentile))) / 100 : 0;
  const marker = known
    ? `<rect class="percentile" x="${Math.min(RANGE_WIDTH - 3, Math.max(0, x - 1.5)).toFixed(1)}" y="0" width="3" height="${BAR_HEIGHT}" fill="#000"/>`
    : '';
  const label = known ? `training percentile ${percentileText(percentile)}` : 'no training profile';
  return `<svg class="bar" width="${RANGE_WIDTH}" height="${BAR_HEIGHT}" role="img" aria-label="${label}"><rect x="0" y="3" width="${RANGE_WIDTH}" height="${BAR_HEIGHT - 6}" fill="#d6eaf8"/><rect x="${RANGE_WIDTH / 4}" y="3" width="${RANGE_WIDTH / 2}" height="${BAR_HEIGHT - 6}" fill="#85c1e9"/>${marker}</svg>`;
}

function featureRow(f: FeatureContribution, largest: number): string {
  const where = percentileText(f.percentile);
  // A category or a timestamp has no rank among training values: its text says what it was.
  const range = f.text !== undefined ? '<td></td><td>not ranked</td>' : `<td>${rangeBar(f.percentile)}</td><td>${where || 'no profile'}</td>`;
  return `<tr><td class="name">${escapeHtml(f.feature)}</td><td>${escapeHtml(valueText(f.value, f.text))}</td><td>${contributionBar(f.contribution, largest)}</td><td>${escapeHtml(signedContribution(f.contribution))}</td>${range}</tr>`;
}

/** The section, or '' when no top anomaly carries an explanation (a job from before explanations). */
export function explanationsHtml(top: readonly TopAnomaly[]): string {
  const explained = top.filter((a) => a.explanation && a.explanation.length > 0);
  if (explained.length === 0) return '';
  // One scale for every anomaly's bars, so a strong reason looks strong beside a weak one.
  const largest = Math.max(...explained.flatMap((a) => a.explanation!.map((f) => (Number.isFinite(f.contribution) ? Math.abs(f.contribution) : 0))));
  const blocks = explained
    .map((a) => {
      const heading = `row ${a.rowIndex}${a.rowId !== null ? ` · id ${a.rowId}` : ''} · score ${a.score.toFixed(4)}${a.pValue !== undefined && a.pValue !== null ? ` · p-value ${pValueText(a.pValue)}` : ''}`;
      const rows = a.explanation!.map((f) => featureRow(f, largest)).join('');
      return `<tbody><tr><th colspan="6" class="anomaly">${escapeHtml(heading)}</th></tr>${rows}</tbody>`;
    })
    .join('\n');
  // One table for every anomaly, so the bars line up from one anomaly to the next.
  return `<h2>Why these rows</h2>
<p class="note">Each anomaly's top features, most anomalous first: the feature's contribution to the score (red bars, one scale for the page; grey when it pulls toward normal) and where its value sits among the model's training rows (the blue bar runs from the lowest to the highest training value, the darker middle half from the 25th to the 75th percentile; the black mark is this row's value).</p>
<table class="why"><thead><tr><th class="name">feature</th><th>value</th><th colspan="2">contribution</th><th colspan="2">training range</th></tr></thead>
${blocks}
</table>`;
}
