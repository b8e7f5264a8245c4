/**
 * An anomaly's explanation (its top features, most anomalous first) as one line of text: the
 * compact form the CSV export carries, and the readable form `nomaly anomalies --explain` prints.
 *
 * Compact (CSV `explanation` column):   amount:+0.831;n_items:+0.12
 *   - one `feature:contribution` per feature, in the stored order (most anomalous first), joined by `;`;
 *   - the contribution signed (`+` or `-`), to 3 significant digits (the Parquet export and
 *     `nomaly anomalies --json` carry every digit, the value and the percentile);
 *   - in a feature name, `\`, `:` and `;` are escaped as `\\`, `\:` and `\;`, so any name reads
 *     back (parseCompactExplanation);
 *   - no explanation (a row that is not an anomaly, or a job that explained nothing): empty.
 *
 * Readable (CLI):   amount=1520.5 (p99.9) +0.831, country=FR +0.12
 *   the value (a category's text, a timestamp in ISO 8601), its percentile among the model's
 *   training rows when known (numbers only), and the contribution.
 */
import type { FeatureContribution } from './flagging';

const SIGNIFICANT_DIGITS = 3;

/** `+0.831`, `-0.0012`, `+0`: a contribution's sign always shown, 3 significant digits. */
export function signedContribution(contribution: number): string {
  if (!Number.isFinite(contribution)) return String(contribution);
  const rounded = Number(contribution.toPrecision(SIGNIFICANT_DIGITS));
  return `${rounded < 0 || Object.is(rounded, -0) ? '-' : '+'}${Math.abs(rounded)}`;
}

function escapeName(name: string): string {
  return name.replace(/[\\:;]/g, (c) => `\\${c}`);
}

export function compactExplanation(explanation: readonly FeatureContribution[] | null | undefined): string {
  if (!explanation || explanation.length === 0) return '';
  return explanation.map((f) => `${escapeName(f.feature)}:${signedContribution(f.contribution)}`).join(';');
}

/** Reads the compact form back: feature names and (rounded) contributions, in order. */
export function parseCompactExplanation(text: string): Array<{ feature: string; contribution: number }> {
  const out: Array<{ feature: string; contribution: number }> = [];
  let name = '';
  let number: string | null = null;
  const finish = () => {
    if (number === null) throw new Error(`explanation ${JSON.stringify(text)}: feature ${JSON.stringify(name)} has no contribution`);
    out.push({ feature: name, contribution: Number(number) });
    name = '';
    number = null;
  };
  if (text === '') return out;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (number !== null) {
      if (c === ';') finish();
      else number += c;
    } else if (c === '\\' && i + 1 < text.length) {
      name += text[++i];
    } else if (c === ':') {
      number = '';
    } else {
      name += c;
    }
  }
  finish();
  return out;
}

/** A p-value as a person reads it: small ones in scientific notation; `–` when there is none. */
export function pValueText(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return '–';
  return p >= 0.001 ? p.toFixed(4) : p.toExponential(2);
}

/** `p99.9`: where a value sits among the training rows, or '' when the model kept no profile. */
export function percentileText(percentile: number | null): string {
  return percentile === null || !Number.isFinite(percentile) ? '' : `p${percentile.toFixed(1)}`;
}

/**
 * A feature's value as a person reads it: its text when it has one (a category, a timestamp),
 * else integers whole, others to 6 significant digits; a missing value (stored as null) reads as "missing".
 */
export function valueText(value: number | null, text?: string): string {
  if (text !== undefined) return text;
  if (value === null || Number.isNaN(value)) return 'missing';
  return Number.isInteger(value) || !Number.isFinite(value) ? String(value) : String(Number(value.toPrecision(6)));
}

export function readableExplanation(explanation: readonly FeatureContribution[] | null | undefined): string {
  if (!explanation || explanation.length === 0) return '-';
  return explanation
    .map((f) => {
      const where = percentileText(f.percentile);
      return `${f.feature}=${valueText(f.value, f.text)}${where ? ` (${where})` : ''} ${signedContribution(f.contribution)}`;
    })
    .join(', ');
}
