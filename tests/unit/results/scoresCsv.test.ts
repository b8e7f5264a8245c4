import { mkdtempSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { csvField, flaggedRowsOf, scoresCsvPieces, writePiecesToFile, type FlaggedRow } from '../../../src/results/scoresCsv';
import { readCsv } from '../../../src/data/csv';
import { parseCompactExplanation } from '../../../src/results/explanationText';

async function* batches(ids: string[], size: number): AsyncGenerator<string[]> {
  for (let i = 0; i < ids.length; i += size) yield ids.slice(i, i + size);
}

async function collect(pieces: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const piece of pieces) out.push(piece);
  return out;
}

/** The rows a job stored as anomalies: here, those scoring above `threshold`, without p-values or explanations. */
function storedAbove(scores: Float64Array, threshold: number) {
  const rows = new Map<number, FlaggedRow>();
  scores.forEach((s, row) => s > threshold && rows.set(row, { pValue: null, explanation: null }));
  return flaggedRowsOf(rows);
}

describe('scores CSV export', () => {
  const scores = Float64Array.from([0.1, 1 / 3, 2.5, -0, 1e-300, 0.30000000000000004, 7]);
  const threshold = 0.5;
  const none = flaggedRowsOf(new Map());

  it('writes row, id, exact score and is_anomaly per row, in pieces of bounded rows', async () => {
    const ids = ['a', 'b,c', 'say "hi"', 'line\nbreak', '', 'f', 'g'];
    const pieces = await collect(scoresCsvPieces({ scores, anomalies: storedAbove(scores, threshold), ids: { column: 'id', batches: batches(ids, 3) }, rowsPerPiece: 2 }));
    expect(pieces).toHaveLength(1 + 4); // header, then ceil(7 / 2) pieces
    const text = pieces.join('');
    expect(text.split('\n')[0]).toBe('row,id,score,is_anomaly,p_value,explanation');
    // Read back with the project's own RFC 4180 reader: ids survive quoting, scores are bit-exact.
    const table = readCsv(text, { idColumn: 'id', featureColumns: ['row', 'score', 'is_anomaly'] });
    expect(table.ids).toEqual(ids);
    for (let i = 0; i < scores.length; i++) {
      expect(table.features.get(i, 0)).toBe(i);
      expect(Object.is(table.features.get(i, 1), scores[i])).toBe(true);
      expect(table.features.get(i, 2)).toBe(scores[i] > threshold ? 1 : 0);
    }
  });

  it('has no id column when the dataset has none', async () => {
    const two = Float64Array.from([0.25, 0.75]);
    const text = (await collect(scoresCsvPieces({ scores: two, anomalies: storedAbove(two, threshold) }))).join('');
    expect(text).toBe('row,score,is_anomaly,p_value,explanation\n0,0.25,0,,\n1,0.75,1,,\n');
  });

  it('refuses ids that do not match the scores one for one', async () => {
    await expect(collect(scoresCsvPieces({ scores, anomalies: none, ids: { column: 'id', batches: batches(['a', 'b'], 1) } }))).rejects.toThrow(
      'fewer id cells (2) than the job has scores (7)',
    );
    const many = Array.from({ length: 8 }, (_, i) => `r${i}`);
    await expect(collect(scoresCsvPieces({ scores, anomalies: none, ids: { column: 'id', batches: batches(many, 5) } }))).rejects.toThrow(
      'more id cells than the job has scores (7)',
    );
  });

  it('marks exactly the stored anomalies, whatever their scores, with their exact p-values and compact explanations', async () => {
    // Flagged by a job's own rule: row 0 scores low but was stored, row 6 scores highest but was not.
    const anomalies = new Map<number, FlaggedRow>([
      [0, { pValue: 1 / 3, explanation: [{ feature: 'amount', value: 9000, contribution: 0.8312, percentile: 99.9 }, { feature: 'n,items', value: 3, contribution: -0.0123456, percentile: null }] }],
      [2, { pValue: null, explanation: null }],
    ]);
    const text = (await collect(scoresCsvPieces({ scores, anomalies: flaggedRowsOf(anomalies), rowsPerPiece: 3 }))).join('');
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('row,score,is_anomaly,p_value,explanation');
    expect(lines[1]).toBe(`0,0.1,1,${1 / 3},"amount:+0.831;n,items:-0.0123"`);
    expect(lines[3]).toBe('2,2.5,1,,');
    expect(lines[7]).toBe('6,7,0,,');
    expect(lines.slice(1).filter((l) => l.split(',')[2] === '1').map((l) => Number(l.split(',')[0]))).toEqual([0, 2]);
    expect(Number(lines[1].split(',')[3])).toBe(1 / 3);
    expect(parseCompactExplanation('amount:+0.831;n,items:-0.0123')).toEqual([
      { feature: 'amount', contribution: 0.831 },
      { feature: 'n,items', contribution: -0.0123 },
    ]);
  });

  it('quotes only the fields that need it', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('x"y')).toBe('"x""y"');
    expect(csvField('a\r\nb')).toBe('"a\r\nb"');
  });

  it('streams pieces to a file and reports its size and sha256', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'nomaly-scores-csv-')), 'scores.csv');
    const big = new Float64Array(100_000).map((_, i) => i / 7);
    const everyTenth = new Map<number, FlaggedRow>(Array.from({ length: 10_000 }, (_, i) => [i * 10, { pValue: null, explanation: null }]));
    const asked: Array<[number, number]> = [];
    const lookup = flaggedRowsOf(everyTenth);
    const written = await writePiecesToFile(file, scoresCsvPieces({ scores: big, anomalies: (start, end) => (asked.push([start, end]), lookup(start, end)) }));
    // The anomalies are asked for one piece of rows at a time, never all at once.
    expect(asked).toHaveLength(Math.ceil(100_000 / 8192));
    expect(asked.every(([start, end]) => end - start <= 8192)).toBe(true);
    const bytes = readFileSync(file);
    expect(written.size).toBe(bytes.length);
    expect(written.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    const lines = bytes.toString('utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(100_001);
    expect(lines[70_001]).toBe(`70000,${70_000 / 7},1,,`);
    expect(lines[70_002]).toBe(`70001,${70_001 / 7},0,,`);
  });
});
