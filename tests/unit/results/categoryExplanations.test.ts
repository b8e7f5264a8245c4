import { categoryCode, timestampMillis } from '../../../src/data/cellValues';
import type { AnomalyRow } from '../../../src/db/anomalies';
import { explanationFromStored } from '../../../src/db/anomalies';
import { ChunkFlagger } from '../../../src/results/chunkFlagging';
import { renderDetectionReport } from '../../../src/results/detectionReport';
import { readableExplanation } from '../../../src/results/explanationText';
import { summarizeScores } from '../../../src/results/scoreSummary';
import { Encoded } from '../../../src/scoring/encoder';
import { Imputed } from '../../../src/scoring/imputer';
import { Matrix } from '../../../src/scoring/matrix';
import { featureQuantilesOf, type ModelFile } from '../../../src/scoring/modelFile';
import { SeededRandom } from '../../../src/scoring/random';
import { fitDetector } from '../../../src/scoring/registry';

const COLUMNS = ['amount', 'country', 'created_at'];
const COUNTRIES = ['FR', 'DE', 'US'];

/** Orders in three countries, business hours, amounts 50-70; a few amounts missing. */
function orders(rows: number): { X: Matrix; texts: Map<number, string> } {
  const rng = new SeededRandom(4);
  const texts = new Map(COUNTRIES.map((c) => [categoryCode(c), c] as const));
  const data = new Float64Array(rows * 3);
  const start = timestampMillis('2026-01-05T08:00:00Z');
  for (let r = 0; r < rows; r++) {
    data[r * 3] = r % 50 === 0 ? NaN : 50 + 20 * rng.next();
    data[r * 3 + 1] = categoryCode(COUNTRIES[r % 3]);
    data[r * 3 + 2] = start + Math.floor(rng.next() * 30) * 86_400_000 + rng.next() * 8 * 3_600_000;
  }
  return { X: new Matrix(rows, 3, data), texts };
}

describe('explanations of a model with category and timestamp columns', () => {
  const { X, texts } = orders(3000);
  const detector = Encoded.fitWith(X, { kinds: ['number', 'category', 'timestamp'], texts }, (E, encoder) =>
    Imputed.fitWith(E, 'median', (M) => fitDetector('ecod', M, { contamination: 0.01 }), encoder.outputMissing([60, 0, 0])),
  );
  const model: ModelFile = { detector, featureQuantiles: featureQuantilesOf(X) };
  const odd = new Matrix(3, 3, Float64Array.from([
    60, categoryCode('FR'), timestampMillis('2026-01-06T10:00:00Z'), // a normal order
    61, categoryCode('JP'), timestampMillis('2026-01-06T11:00:00Z'), // a country never seen
    60, categoryCode('DE'), timestampMillis('2026-01-10T03:00:00Z'), // a Saturday, 3 am
  ]));

  it('names the source column, shows a category\'s text and a timestamp in ISO 8601, and ranks only numbers', () => {
    const stored: AnomalyRow[] = [];
    const flagger = new ChunkFlagger(model, COLUMNS, { rule: { method: 'score', value: -Infinity }, explainTop: 3 });
    flagger.collect(0, detector.score(odd), { features: odd }, stored);
    expect(stored).toHaveLength(3);
    for (const row of stored) expect(row.explanation!.map((f) => f.feature).sort()).toEqual([...COLUMNS].sort());
    const byName = (row: number, name: string) => stored[row].explanation!.find((f) => f.feature === name)!;
    expect(byName(0, 'country')).toMatchObject({ value: categoryCode('FR'), text: 'FR', percentile: null });
    expect(byName(1, 'country')).toMatchObject({ text: '(rare)', percentile: null });
    expect(byName(2, 'created_at')).toMatchObject({ text: '2026-01-10T03:00:00.000Z', percentile: null });
    expect(byName(0, 'amount').percentile).not.toBeNull();
    expect(byName(0, 'amount')).not.toHaveProperty('text');
    // The unseen country is the top reason for row 1.
    expect(stored[1].explanation![0].feature).toBe('country');
  });

  it('keeps the text through the stored form, the CLI line and the report', () => {
    const explanation = [
      { feature: 'country', value: categoryCode('FR'), contribution: 2.5, percentile: null, text: 'FR' },
      { feature: 'amount', value: 61.5, contribution: 0.5, percentile: 80 },
    ];
    const stored = JSON.parse(JSON.stringify(explanation.map((f) => ('text' in f ? [f.feature, f.value, f.contribution, f.percentile, f.text] : [f.feature, f.value, f.contribution, f.percentile]))));
    expect(explanationFromStored(stored)).toEqual(explanation);
    expect(explanationFromStored([['amount', 1, 2, 3]])).toEqual([{ feature: 'amount', value: 1, contribution: 2, percentile: 3 }]); // rows stored before texts
    expect(readableExplanation(explanation)).toBe('country=FR +2.5, amount=61.5 (p80.0) +0.5');
    const html = renderDetectionReport({
      jobId: 'detect-1', model: 'orders@1', datasetId: 'ds_0123456789abcdef', rows: 10, anomalies: 1, anomalyRate: 0.1, threshold: 1, durationMs: 10, rowsPerSecond: 1000,
      scores: summarizeScores(Float64Array.from([0, 1, 3])),
      topAnomalies: [{ rowIndex: 1, rowId: null, score: 3, explanation }],
    } as Parameters<typeof renderDetectionReport>[0]);
    expect(html).toContain('<td class="name">country</td><td>FR</td>');
    expect(html).toContain('not ranked');
    expect(html).not.toContain('country=FR');
  });
});
