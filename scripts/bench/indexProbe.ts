/**
 * A quick probe of one neighbour index alone (no detector around it), for profiling and for
 * comparing two versions or two kinds of index back to back: builds it over TRAIN rows × COLS of
 * a bench data shape (benchData.ts; the seeds bench:neighbors uses), then times a k-nearest
 * search of QUERIES fresh rows in the scoring path's blocks and measures recall@k on the first
 * 500 against brute force. CPU time is printed beside wall time: on a shared machine it varies less.
 *
 * usage: node dist-scripts/scripts/bench/indexProbe.js [TRAIN=100000] [COLS=16] [QUERIES=20000] [K=5] [gaussian|tabular] [hnsw|kdtree]
 */
import * as os from 'node:os';
import { buildNeighborIndex, NeighborIndexKind } from '../../src/scoring/neighborIndex';
import { scoreFromNeighborBlocks, searchNeighbors } from '../../src/scoring/neighbors';
import { generate, generateTabular } from './benchData';

const [trainRows, cols, queries, k] = [100_000, 16, 20_000, 5].map((fallback, i) => Number(process.argv[2 + i] ?? fallback));
const shape = process.argv[6] ?? 'gaussian';
const kind = (process.argv[7] ?? 'hnsw') as NeighborIndexKind;
const { X } = shape === 'tabular' ? generateTabular(trainRows + queries, cols, 20_251_205 + cols) : generate(trainRows + queries, cols, 20_241_204 + cols);
const train = X.sliceRows(0, trainRows);
const query = X.sliceRows(trainRows, trainRows + queries);

function timed(fn: () => void): { wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  fn();
  const cpu = process.cpuUsage(c0);
  return { wall: Number(process.hrtime.bigint() - t0) / 1e9, cpu: (cpu.user + cpu.system) / 1e6 };
}

let index = buildNeighborIndex('brute', train, 0);
const build = timed(() => (index = buildNeighborIndex(kind, train, 0)));
// The scoring path: blocks of query rows, each block's lists summarised (here: kept for recall).
const distances = new Float64Array(queries * k);
let kept = 0;
const search = timed(() =>
  scoreFromNeighborBlocks(index, query, k, new Float64Array(queries), (blockDistances, _indices, rows) => {
    distances.set(blockDistances.subarray(0, rows * k), kept * k);
    kept += rows;
  }),
);

const probe = Math.min(500, queries);
const exact = new Float64Array(probe * k);
searchNeighbors(buildNeighborIndex('brute', train, 0), query.sliceRows(0, probe), k, exact, new Int32Array(probe * k));
let found = 0;
for (let i = 0; i < probe; i++) for (let p = 0; p < k; p++) if (distances[i * k + p] <= exact[i * k + k - 1]) found++;
const r = (t: number): string => `${Math.round(queries / t)}`;
process.stdout.write(
  `${trainRows}x${cols} ${shape} ${kind} k=${k}: build ${build.wall.toFixed(2)} s; search ${queries} rows ${search.wall.toFixed(2)} s wall ` +
    `(${r(search.wall)} rows/s), ${search.cpu.toFixed(2)} s CPU (${r(search.cpu)} rows/CPU-s); recall@${k} ${(found / (probe * k)).toFixed(4)}; load ${os.loadavg()[0].toFixed(2)}\n`,
);
