/**
 * What the category/timestamp encoder (src/scoring/encoder.ts) costs scoring, in process: the
 * same seeded N rows scored by Isolation Forest as 16 numbers, and as 12 numbers + 4 categories
 * (8 and 3 levels one-hot, 200 and 5,000 levels frequency-encoded) + 2 timestamps (cyclic, in
 * UTC and in Europe/Paris), fitted on 100,000 of them. Each variant scores all rows in 200,000-row
 * chunks (as a detection chunk does), in alternating order, five times; the median of each is
 * reported, with the encoding alone (the encoder's transform without the detector). No stack: only the scoring core.
 *
 *   npm run bench:encoder                   # 1,000,000 rows
 *   npm run bench:encoder -- --rows 200000
 */
import { readFileSync } from 'node:fs';
import { categoryCode, timestampMillis } from '../../src/data/cellValues';
import type { Detector } from '../../src/scoring/detector';
import { Encoded, type ColumnKind } from '../../src/scoring/encoder';
import { Matrix } from '../../src/scoring/matrix';
import { SeededRandom } from '../../src/scoring/random';
import { fitDetector } from '../../src/scoring/registry';
import { intOption } from '../stack/benchReport';


const rows = intOption('rows', 1_000_000);
const CHUNK = 200_000;
const SAMPLE = 100_000;
const IF_OPTIONS = { seed: 1, contamination: 0.01 };

/** 16 numbers per row. */
function numeric(n: number, seed: number): Matrix {
  const rng = new SeededRandom(seed);
  const data = new Float64Array(n * 16);
  for (let i = 0; i < data.length; i++) data[i] = rng.next() * 10;
  return new Matrix(n, 16, data);
}

/** 12 numbers, 4 categories, 2 timestamps per row, as the readers put them in the Matrix. */
function mixed(n: number, seed: number): { X: Matrix; kinds: ColumnKind[] } {
  const rng = new SeededRandom(seed);
  const levels = [8, 3, 200, 5000].map((count, c) => Array.from({ length: count }, (_, i) => categoryCode(`c${c}-${i}`)));
  const start = timestampMillis('2026-01-01T00:00:00Z');
  const cols = 18;
  const data = new Float64Array(n * cols);
  for (let r = 0; r < n; r++) {
    const at = r * cols;
    for (let c = 0; c < 12; c++) data[at + c] = rng.next() * 10;
    for (let c = 0; c < 4; c++) data[at + 12 + c] = levels[c][Math.floor(rng.next() * levels[c].length)];
    data[at + 16] = start + rng.next() * 365 * 86_400_000;
    data[at + 17] = start + rng.next() * 365 * 86_400_000;
  }
  const kinds: ColumnKind[] = [...Array<ColumnKind>(12).fill('number'), 'category', 'category', 'category', 'category', 'timestamp', 'timestamp'];
  return { X: new Matrix(n, cols, data), kinds };
}

function scoreAll(model: Detector, X: Matrix): number {
  const out = new Float64Array(X.rows);
  const started = process.hrtime.bigint();
  for (let s = 0; s < X.rows; s += CHUNK) {
    const e = Math.min(s + CHUNK, X.rows);
    model.score(X.sliceRows(s, e), out.subarray(s, e));
  }
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** The encoding alone: every row through the encoder, block by block as Encoded.score does, without the detector. */
function encodeAll(model: Detector, X: Matrix): number {
  if (!(model instanceof Encoded)) return 0;
  const { encoder } = model;
  const block = 8192;
  const buffer = new Float64Array(block * encoder.nOutputs);
  const started = process.hrtime.bigint();
  for (let s = 0; s < X.rows; s += block) encoder.transformRows(X, s, Math.min(s + block, X.rows), buffer);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function main(): void {
  const A = numeric(rows, 1);
  const B = mixed(rows, 1);
  const variants = [
    { name: '16 numbers', X: A, model: fitDetector('isolation-forest', A.sliceRows(0, SAMPLE), IF_OPTIONS) },
    ...['UTC', 'Europe/Paris'].map((timeZone) => ({
      name: `12 numbers + 4 categories + 2 timestamps (${timeZone})`,
      X: B.X,
      model: Encoded.fitWith(B.X.sliceRows(0, SAMPLE), { kinds: B.kinds, timeZone }, (E) => fitDetector('isolation-forest', E, IF_OPTIONS)) as Detector,
    })),
  ];
  for (const v of variants) scoreAll(v.model, v.X.sliceRows(0, Math.min(rows, CHUNK))); // warm up
  const times = variants.map(() => [] as number[]);
  const encoding = variants.map(() => [] as number[]);
  for (const round of [0, 1, 2, 3, 4]) {
    const order = round % 2 === 0 ? [...variants.keys()] : [...variants.keys()].reverse();
    for (const i of order) {
      times[i].push(scoreAll(variants[i].model, variants[i].X));
      encoding[i].push(encodeAll(variants[i].model, variants[i].X));
    }
  }
  const base = median(times[0]);
  console.log(`load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  console.log(`| variant (Isolation Forest, ${rows.toLocaleString('en-US')} rows, 200,000-row chunks) | encoded width | score s (median of 5) | rows/s | vs 16 numbers | of which encoding s |`);
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  variants.forEach((v, i) => {
    const seconds = median(times[i]);
    const width = v.model instanceof Encoded ? v.model.encoder.nOutputs : 16;
    console.log(`| ${v.name} | ${width} | ${seconds.toFixed(2)} | ${Math.round(rows / seconds).toLocaleString('en-US')} | ${(base / seconds).toFixed(2)}x | ${median(encoding[i]).toFixed(2)} |`);
  });
}

main();
