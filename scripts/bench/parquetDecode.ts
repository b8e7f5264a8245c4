/**
 * Micro-benchmark of one Parquet row group's decode, as a detection chunk reads it: 131,072 rows
 * × 16 OPTIONAL DOUBLE columns, Snappy (what the sources benchmark's lake holds), read into a
 * table by hyparquet alone (before) and by the numeric fast path (now), alternately, in one run.
 *
 *   npm run -s build:scripts && node dist-scripts/scripts/bench/parquetDecode.js [repetitions]
 */
import { parquetMetadata } from 'hyparquet';
import type { AsyncBuffer } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { readParquetColumns } from '../../src/data/parquet';
import { TableBuilder } from '../../src/data/tableBuilder';

const ROWS = 131_072;
const COLUMNS = 16;

/** The sources benchmark's values: bell-shaped, five decimals (as its CSV holds them). */
function columns(): Float64Array[] {
  let a = 12345;
  const rand = () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 2 ** 32;
  };
  const out = Array.from({ length: COLUMNS }, () => new Float64Array(ROWS));
  for (let i = 0; i < ROWS; i++) for (const c of out) c[i] = Number((rand() + rand() + rand() - 1.5).toFixed(5));
  return out;
}

async function main(): Promise<void> {
  const repetitions = Number(process.argv[2] ?? 7);
  const names = Array.from({ length: COLUMNS }, (_, j) => `f${j}`);
  const data = columns();
  const bytes = parquetWriteBuffer({ columnData: names.map((name, j) => ({ name, data: data[j], type: 'DOUBLE' as const })), codec: 'SNAPPY', rowGroupSize: ROWS });
  const file: AsyncBuffer = { byteLength: bytes.byteLength, slice: (start, end) => bytes.slice(start, end) };
  const metadata = parquetMetadata(bytes);
  const repetition = metadata.schema[1].repetition_type;
  console.log(`${ROWS} rows × ${COLUMNS} ${repetition} DOUBLE, Snappy, one row group: ${(bytes.byteLength / 2 ** 20).toFixed(1)} MiB`);

  const read = async (fast: boolean): Promise<number> => {
    const started = process.hrtime.bigint();
    const builder = new TableBuilder(names, {}, ROWS);
    const values = await readParquetColumns(file, metadata, names, 0, ROWS, fast ? new Set(builder.numericColumns.keys()) : new Set());
    builder.addColumns(values, ROWS, (i) => `row ${i + 1}`);
    builder.build();
    return Number(process.hrtime.bigint() - started) / 1e9;
  };
  const times: Record<'hyparquet' | 'fast path', number[]> = { hyparquet: [], 'fast path': [] };
  await read(false); // warm both up
  await read(true);
  for (let r = 0; r < repetitions; r++) {
    times.hyparquet.push(await read(false));
    times['fast path'].push(await read(true));
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  for (const [what, xs] of Object.entries(times)) {
    console.log(
      `${what.padEnd(10)} median ${(median(xs) * 1000).toFixed(1)} ms → ${Math.round(ROWS / median(xs)).toLocaleString('en-US')} rows/s (runs: ${xs.map((x) => (x * 1000).toFixed(0)).join(', ')} ms)`,
    );
  }
  console.log(`speed-up ×${(median(times.hyparquet) / median(times['fast path'])).toFixed(1)}`);
}

void main();
