import { mkdtempSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { csvField, scoresCsvPieces, writePiecesToFile } from '../../../src/results/scoresCsv';
import { readCsv } from '../../../src/data/csv';

async function* batches(ids: string[], size: number): AsyncGenerator<string[]> {
  for (let i = 0; i < ids.length; i += size) yield ids.slice(i, i + size);
}

async function collect(pieces: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const piece of pieces) out.push(piece);
  return out;
}

describe('scores CSV export', () => {
  const scores = Float64Array.from([0.1, 1 / 3, 2.5, -0, 1e-300, 0.30000000000000004, 7]);
  const threshold = 0.5;

  it('writes row, id, exact score and is_anomaly per row, in pieces of bounded rows', async () => {
    const ids = ['a', 'b,c', 'say "hi"', 'line\nbreak', '', 'f', 'g'];
    const pieces = await collect(scoresCsvPieces({ scores, isAnomaly: (_r, s) => s > threshold, ids: { column: 'id', batches: batches(ids, 3) }, rowsPerPiece: 2 }));
    expect(pieces).toHaveLength(1 + 4); // header, then ceil(7 / 2) pieces
    const text = pieces.join('');
    expect(text.split('\n')[0]).toBe('row,id,score,is_anomaly');
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
    const text = (await collect(scoresCsvPieces({ scores: Float64Array.from([0.25, 0.75]), isAnomaly: (_r, s) => s > threshold }))).join('');
    expect(text).toBe('row,score,is_anomaly\n0,0.25,0\n1,0.75,1\n');
  });

  it('refuses ids that do not match the scores one for one', async () => {
    await expect(collect(scoresCsvPieces({ scores, isAnomaly: () => false, ids: { column: 'id', batches: batches(['a', 'b'], 1) } }))).rejects.toThrow(
      'fewer id cells (2) than the job has scores (7)',
    );
    const many = Array.from({ length: 8 }, (_, i) => `r${i}`);
    await expect(collect(scoresCsvPieces({ scores, isAnomaly: () => false, ids: { column: 'id', batches: batches(many, 5) } }))).rejects.toThrow(
      'more id cells than the job has scores (7)',
    );
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
    const written = await writePiecesToFile(file, scoresCsvPieces({ scores: big, isAnomaly: (row) => row % 10 === 0 }));
    const bytes = readFileSync(file);
    expect(written.size).toBe(bytes.length);
    expect(written.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    const lines = bytes.toString('utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(100_001);
    expect(lines[70_001]).toBe(`70000,${70_000 / 7},1`);
  });
});
