/**
 * A quick probe of the HNSW index alone (no detector around it), for profiling and for comparing
 * two versions of the index back to back: builds over TRAIN rows × COLS of the bench generator,
 * then times a k-nearest search of QUERIES fresh rows and measures recall@k on the first 500
 * against brute force.
 *
 * usage: node dist-scripts/scripts/bench/hnswProbe.js [TRAIN=100000] [COLS=16] [QUERIES=20000] [K=5]
 */
import * as os from 'node:os';
import { buildNeighborIndex } from '../../src/scoring/neighborIndex';
import { searchNeighbors } from '../../src/scoring/neighbors';
import { generate } from './benchData';

const [trainRows, cols, queries, k] = [100_000, 16, 20_000, 5].map((fallback, i) => Number(process.argv[2 + i] ?? fallback));
const { X } = generate(trainRows + queries, cols, 20_241_204 + cols);
const train = X.sliceRows(0, trainRows);
const query = X.sliceRows(trainRows, trainRows + queries);
const seconds = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9;

let t0 = process.hrtime.bigint();
const index = buildNeighborIndex('hnsw', train, 0);
const buildS = seconds(t0);
const distances = new Float64Array(queries * k);
const indices = new Int32Array(queries * k);
t0 = process.hrtime.bigint();
searchNeighbors(index, query, k, distances, indices);
const searchS = seconds(t0);

const probe = Math.min(500, queries);
const exact = new Float64Array(probe * k);
searchNeighbors(buildNeighborIndex('brute', train, 0), query.sliceRows(0, probe), k, exact, new Int32Array(probe * k));
let found = 0;
for (let i = 0; i < probe; i++) for (let p = 0; p < k; p++) if (distances[i * k + p] <= exact[i * k + k - 1]) found++;
let checksum = 0;
for (let p = 0; p < indices.length; p++) checksum = (checksum * 31 + indices[p]) >>> 0;
process.stdout.write(
  `${trainRows}x${cols} k=${k}: build ${buildS.toFixed(2)} s, search ${queries} rows ${searchS.toFixed(2)} s ` +
    `(${Math.round(queries / searchS)} rows/s), recall@${k} ${(found / (probe * k)).toFixed(4)}, indices checksum ${checksum}, load ${os.loadavg()[0].toFixed(2)}\n`,
);
