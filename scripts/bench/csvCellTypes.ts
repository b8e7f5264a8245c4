/**
 * Micro-benchmark of the CSV parse with cell types, paired in one run: the same rows as 16
 * numeric columns, as 12 numeric + 4 category columns (country-like codes, hashed where the
 * bytes lie), and as 12 numeric + 2 category + 2 timestamp columns, alternately, rows/s each.
 * With `--base DIR` it also parses the numeric file with another build's csv module (DIR's
 * `src/data/csv.js`), to compare the numeric fast path before and after.
 *
 *   npm run -s build:scripts && node dist-scripts/scripts/bench/csvCellTypes.js [rows] [rounds] [--base DIR]
 */
import path from 'node:path';
import { readCsv, type CsvReadOptions } from '../../src/data/csv';
import type { DatasetTable } from '../../src/data/table';

const COLUMNS = 16;
const COUNTRIES = ['DE', 'FR', 'US', 'GB', 'IT', 'ES', 'NL', 'PL', 'SE', 'AT', 'BE', 'CH'];

function rand(seed: number): () => number {
  let a = seed;
  return () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 2 ** 32;
  };
}

/** `rows` rows: columns 0-11 decimals; 12-15 decimals, country codes, or (kind 'time') two codes and two ISO timestamps. */
function csvText(rows: number, kind: 'numeric' | 'category' | 'time'): Buffer {
  const r = rand(12345);
  const header = Array.from({ length: COLUMNS }, (_, j) => `f${j}`).join(',');
  const lines: string[] = [header];
  for (let i = 0; i < rows; i++) {
    const cells: string[] = [];
    for (let j = 0; j < COLUMNS; j++) {
      const x = r();
      if (j < 12 || kind === 'numeric') cells.push((x * 1000 - 500).toFixed(5));
      else if (kind === 'category' || j < 14) cells.push(COUNTRIES[Math.floor(x * COUNTRIES.length)]);
      else cells.push(new Date(Date.UTC(2026, 0, 1) + Math.floor(x * 365 * 86_400_000)).toISOString());
    }
    lines.push(cells.join(','));
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

type Reader = (input: Buffer, options: CsvReadOptions) => DatasetTable;

function main(): void {
  const args = process.argv.slice(2);
  const baseAt = args.indexOf('--base');
  const base = baseAt >= 0 ? (require(path.resolve(args[baseAt + 1], 'src/data/csv.js')) as { readCsv: Reader }).readCsv : undefined;
  const [rows = 1_000_000, rounds = 3] = args.filter((_, i) => baseAt < 0 || (i !== baseAt && i !== baseAt + 1)).map(Number);
  const numeric = csvText(rows, 'numeric');
  const category = csvText(rows, 'category');
  const time = csvText(rows, 'time');
  const cases: Array<{ name: string; bytes: Buffer; read: Reader; options: CsvReadOptions }> = [
    { name: '16 numeric', bytes: numeric, read: readCsv, options: {} },
    { name: '12 numeric + 4 category', bytes: category, read: readCsv, options: { cellTypes: { f12: 'category', f13: 'category', f14: 'category', f15: 'category' } } },
    { name: '12 numeric + 2 category + 2 timestamp', bytes: time, read: readCsv, options: { cellTypes: { f12: 'category', f13: 'category', f14: 'timestamp', f15: 'timestamp' } } },
  ];
  if (base) cases.unshift({ name: '16 numeric, --base build', bytes: numeric, read: base, options: {} });
  console.log(`${rows} rows × ${COLUMNS} columns; ${rounds} rounds, cases alternating; MiB: ${cases.map((c) => (c.bytes.length / 2 ** 20).toFixed(0)).join(', ')}`);
  const best = new Map<string, number>();
  for (let round = 0; round < rounds; round++) {
    for (const c of cases) {
      const started = process.hrtime.bigint();
      const table = c.read(c.bytes, c.options);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (table.features.rows !== rows) throw new Error(`${c.name}: ${table.features.rows} rows`);
      best.set(c.name, Math.max(best.get(c.name) ?? 0, rows / seconds));
    }
  }
  const reference = best.get('16 numeric')!;
  for (const [name, rowsPerSecond] of best) console.log(`${name.padEnd(40)} ${(rowsPerSecond / 1e6).toFixed(2)} M rows/s  (${((rowsPerSecond / reference) * 100).toFixed(0)}% of 16 numeric)`);
}

main();
