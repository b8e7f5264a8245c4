/**
 * `npm run bench:neighbors`: KNN and LOF at scale against scikit-learn's NearestNeighbors, in one
 * run, interleaved case by case so both sides see the same machine load.
 *
 * Cases: training sets of 100k and 1M rows × 16 and × 64 columns in two data shapes, each scoring
 * 100k fresh rows of the same distribution: 'gaussian' (the `npm run bench` generator: two
 * correlated Gaussian clusters plus 3% uniform outliers; full rank, the worst case for every
 * neighbour index) and, at 100k × 16, 'tabular' (generateTabular: 16 columns driven by 4 latent
 * factors plus small noise, the same 3% outliers; closer to real tables' low intrinsic dimension). Ours: KNN (k = 5) and LOF (k = 20) fitted with index 'auto' and maxTrainRows
 * set to the case's rows (so the whole training set is kept), single thread; fit is timed whole (index build + every training row's
 * neighbours + threshold), scoring on all 100k rows (or, when that would exceed SCORE_BUDGET_S,
 * on the first rows, marked). For HNSW the report adds recall@k on RECALL_QUERIES query rows
 * against brute force. The peer (sklearn_neighbors_peer.py, n_jobs=1, one BLAS/OpenMP thread)
 * times its tree build whole and its searches on a sample of rows (peerSample), extrapolated (marked ≈).
 *
 * Writes bench/neighbors-last-run.md after every case, so a run cut short keeps what it measured.
 * Optional arguments: a comma list of cases to run instead (rows x columns, then :tabular for that
 * shape, e.g. 100000x16,100000x16:tabular,1000000x16), then a comma list of detectors (knn, lof) to
 * run, both by default; then --no-peer to time ours alone (scikit-learn's 1M cases take long), or
 * --peer-only to time the peers alone (ours' 1M fits take minutes).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Detector, encodeModel, KNN, LOF, Matrix } from '../../src/scoring';
import { buildNeighborIndex } from '../../src/scoring/neighborIndex';
import { searchNeighbors } from '../../src/scoring/neighbors';
import { generate, generateTabular, machine, TABULAR_FACTORS, TABULAR_NOISE, mib, rate, secs, writeLittleEndian } from './benchData';
import { repoRoot } from '../repoRoot';

const REPO_ROOT = repoRoot;
/** The report: a --peer-only run (no rows of ours) keeps its own, beside the full run's. */
const REPORT_PATH = path.join(REPO_ROOT, 'bench', process.argv.includes('--peer-only') ? 'neighbors-peers-last-run.md' : 'neighbors-last-run.md');
const PEER_SCRIPT = path.join(REPO_ROOT, 'scripts', 'bench', 'sklearn_neighbors_peer.py');
const PYTHON = '/usr/bin/python3';
const QUERY_ROWS = 100_000;
const SCORE_BUDGET_S = 120;
const SCORE_PROBE_ROWS = 5_000;
const RECALL_QUERIES = 500;
/** Rows the peer searches per case: 2,000 at 100k training rows, fewer (≥ 250) as a search slows with n. */
const peerSample = (trainRows: number): number => Math.max(250, Math.round(2e8 / trainRows));
type Shape = 'gaussian' | 'tabular';
const CASES: [number, number, Shape][] = [
  [100_000, 16, 'gaussian'],
  [100_000, 16, 'tabular'],
  [100_000, 64, 'gaussian'],
  [1_000_000, 16, 'gaussian'],
  [1_000_000, 64, 'gaussian'],
];

/** A case's rows: each shape with its own fixed seed per column count. */
function caseData(rows: number, cols: number, shape: Shape): Matrix {
  return shape === 'tabular' ? generateTabular(rows, cols, 20_251_205 + cols).X : generate(rows, cols, 20_241_204 + cols).X;
}

function parseCase(text: string): [number, number, Shape] {
  const [size, shape = 'gaussian'] = text.split(':');
  if (shape !== 'gaussian' && shape !== 'tabular') throw new Error(`unknown data shape "${shape}" (gaussian or tabular)`);
  const [rows, cols] = size.split('x').map(Number);
  return [rows, cols, shape];
}

function log(message: string): void {
  process.stderr.write(`[bench:neighbors] ${new Date().toISOString().slice(11, 19)} ${message}\n`);
}

function time<T>(fn: () => T): { s: number; result: T } {
  (globalThis as { gc?: () => void }).gc?.();
  const t0 = process.hrtime.bigint();
  const result = fn();
  return { s: Number(process.hrtime.bigint() - t0) / 1e9, result };
}

const load = (): string => os.loadavg()[0].toFixed(1);

interface Side {
  fitS: number;
  fitEstimated: boolean;
  scoreRowsPerS: number;
  scoreEstimated: boolean;
  note: string;
}

interface Row {
  trainRows: number;
  cols: number;
  shape: Shape;
  detector: string;
  /** Absent with --peer-only. */
  ours?: Side;
  peer?: Side;
  peerError?: string;
  /** The native references' cell (see nativeReferences). */
  native?: string;
  loads: string;
}

/** Scores all query rows, or (when a probe says that would exceed the budget) the probe's rows. */
function scoreRate(model: Detector, query: Matrix): { rowsPerS: number; estimated: boolean; rows: number } {
  const probe = time(() => model.score(query.sliceRows(0, SCORE_PROBE_ROWS)));
  if ((probe.s / SCORE_PROBE_ROWS) * query.rows > SCORE_BUDGET_S) return { rowsPerS: SCORE_PROBE_ROWS / probe.s, estimated: true, rows: SCORE_PROBE_ROWS };
  const full = time(() => model.score(query));
  return { rowsPerS: query.rows / full.s, estimated: false, rows: query.rows };
}

/** recall@k of the model's index on the first RECALL_QUERIES query rows, against brute force. */
function recallAgainstBrute(train: Matrix, query: Matrix, k: number, model: KNN | LOF): number {
  const q = query.sliceRows(0, RECALL_QUERIES);
  const exact = new Float64Array(q.rows * k);
  const approximate = new Float64Array(q.rows * k);
  searchNeighbors(buildNeighborIndex('brute', train, 0), q, k, exact, new Int32Array(q.rows * k));
  searchNeighbors(model.index, q, k, approximate, new Int32Array(q.rows * k));
  let found = 0;
  for (let i = 0; i < q.rows; i++) for (let p = 0; p < k; p++) if (approximate[i * k + p] <= exact[i * k + k - 1]) found++;
  return found / exact.length;
}

function runPeer(trainFile: string, rows: number, queryFile: string, cols: number, algorithm: string, ks: number[]): Record<string, number | string> | { error: string } {
  const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1', NUMBA_NUM_THREADS: '1' };
  const child = spawnSync(PYTHON, [PEER_SCRIPT, trainFile, String(rows), queryFile, String(QUERY_ROWS), String(cols), algorithm, String(peerSample(rows)), ks.join(',')], {
    encoding: 'utf8',
    env,
    maxBuffer: 1 << 20,
  });
  if (child.status !== 0) return { error: (child.stderr || child.error?.message || 'failed').trim().split('\n').slice(-1)[0] };
  return JSON.parse(child.stdout.trim()) as Record<string, number | string>;
}

/** The native references' cell for detector k: what the peer ran (python3-hnswlib, python3-pynndescent installed). */
function nativeReferences(peer: Record<string, unknown>, k: number): string | undefined {
  const hnsw = peer[`hnswlib_k${k}`] as { ef: number; recall: number; rows_per_s: number } | undefined;
  const graph = peer[`nndescent_k${k}`] as { fit_s: number; recall: number } | undefined;
  const parts = [
    ...(hnsw ? [`hnswlib: build ${secs(Number(peer.hnswlib_build_s))} s, score ${rate(1, 1 / hnsw.rows_per_s)} rows/s at ef ${hnsw.ef} (recall@${k} ${hnsw.recall.toFixed(4)})`] : []),
    ...(graph ? [`NN-descent k-NN graph ${secs(graph.fit_s)} s (recall ${graph.recall.toFixed(4)})`] : []),
  ];
  return parts.length > 0 ? parts.join('; ') : undefined;
}

function report(rows: Row[], started: Date, env: ReturnType<typeof machine>, peerVersion: string, notes: string[]): string {
  const fmtFit = (side: Side, trainRows: number): string => `${side.fitEstimated ? '≈ ' : ''}${secs(side.fitS)} s (${rate(trainRows, side.fitS)} rows/s)`;
  const fmtScore = (side: Side): string => `${side.scoreEstimated ? '≈ ' : ''}${rate(1, 1 / side.scoreRowsPerS)} rows/s`;
  const lines = [
    '# Neighbour detectors at scale: KNN and LOF vs scikit-learn',
    '',
    `Command: \`npm run bench:neighbors${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\`. Started ${started.toISOString()}; ${env.nproc} cores (${env.cpu}), Node ${env.node}, ${env.os}; scikit-learn ${peerVersion}.`,
    `Load average (1 min) at the start: ${env.load}. The machine is shared (a load above the core count means other processes took CPU from both sides alike: each case runs ours, then scikit-learn, back to back).`,
    '',
    'Single thread on both sides. Training rows × columns and data shape; 100k fresh rows of the same shape scored. Fit = index build + every training row\'s k nearest other rows (+ LOF\'s densities, the threshold). ≈ = extrapolated from a sample (see notes).',
    '',
    '| training set | detector | ours: index | ours: fit | ours: score | scikit-learn: fit | scikit-learn: score | native references (one thread): hnswlib at recall ≥ 0.99; the training rows\' k-NN graph by NN-descent | load (1 min) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const peer = r.peer ? `${fmtFit(r.peer, r.trainRows)} | ${fmtScore(r.peer)}` : `not run: ${r.peerError ?? 'skipped'} | —`;
    lines.push(`| ${r.trainRows.toLocaleString('en-US')} × ${r.cols} ${r.shape} | ${r.detector} | ${r.ours ? `${r.ours.note} | ${fmtFit(r.ours, r.trainRows)} | ${fmtScore(r.ours)}` : 'not run (--peer-only) | — | —'} | ${peer} | ${r.native ?? 'not run'} | ${r.loads} |`);
  }
  lines.push('', '## Notes', '', ...notes.map((n) => `- ${n}`), '');
  return lines.join('\n');
}

function main(): void {
  const skipPeer = process.argv.includes('--no-peer');
  const peerOnly = process.argv.includes('--peer-only');
  const [caseList, detectorList] = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
  const cases = caseList ? caseList.split(',').map(parseCase) : CASES;
  const started = new Date();
  const env = machine();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nomaly-bench-neighbors-'));
  const rows: Row[] = [];
  let peerVersion = 'not run';
  const notes = [
    `Data shapes. gaussian: two Gaussian clusters (means ±1 per feature, sd 1, every other feature correlated 0.8 with its neighbour), full rank: the worst case for every neighbour index. tabular: 16 columns driven by ${TABULAR_FACTORS} latent factors plus small noise: each row W·z + ${TABULAR_NOISE}·e with z ~ N(0, I_${TABULAR_FACTORS}), e ~ N(0, I_d) and loadings W (d × ${TABULAR_FACTORS}, entries N(0, 1)) drawn once from the seed. Both: 3% of rows uniform in [-8, 8] on every feature (outliers). Seeds fixed per shape and column count (scripts/bench/benchData.ts).`,
    `scikit-learn side: NearestNeighbors(algorithm='kd_tree' for 16 columns, 'ball_tree' for 64; n_jobs=1; OMP/OpenBLAS threads 1). Its tree build is timed whole; its searches (kneighbors with k+1 for training rows, k for new rows) on 2,000 evenly spaced training rows and the first 2,000 query rows (250 of each at 1M training rows), extrapolated per row to all of them (≈): a full self-search of 1M rows takes it hours here. LOF's arithmetic beyond the search (O(n·k)) is not counted for it, which favours it slightly.`,
    'Native HNSW reference (when Debian\'s python3-hnswlib is installed): hnswlib, C++ with SIMD, one thread, built on float32 rows with M = 16 and our build beam (max(64, 4·20, 1.5·d)); for each k the narrowest search beam (ef of 16, 32, … 1,024) whose recall@k on the scikit-learn query sample reaches 0.99 (recall as ours: a returned distance within the exact k-th), then that beam timed over all 100k query rows. Not a detector (no LOF densities, no float64 re-rank): what a native approximate search costs at the recall our tests demand. NN-descent reference (when python3-pynndescent is installed): pynndescent (numba, NUMBA_NUM_THREADS=1, n_jobs=1, its JIT compiled on 2,000 rows first) building the k-NN graph of all training rows, which is what a KNN or LOF fit searches for: a graph of max(30, 2(k + 1)) neighbours cut to the first k + 1 (a graph of k + 1 alone had recall ~0.88); recall on the scikit-learn training sample.',
    `Ours: fit timed whole. Scoring on all 100k rows unless the first ${SCORE_PROBE_ROWS.toLocaleString('en-US')} project beyond ${SCORE_BUDGET_S} s, then their rate (≈).`,
  ];
  try {
    for (const [trainRows, cols, shape] of cases) {
      log(`case ${trainRows} × ${cols} ${shape}: generating`);
      const X = caseData(trainRows + QUERY_ROWS, cols, shape);
      const train = X.sliceRows(0, trainRows);
      const query = X.sliceRows(trainRows, trainRows + QUERY_ROWS);
      const trainFile = path.join(tmp, 'train.f64');
      const queryFile = path.join(tmp, 'query.f64');
      writeLittleEndian(trainFile, train.data);
      writeLittleEndian(queryFile, query.data);
      const algorithm = cols <= 16 ? 'kd_tree' : 'ball_tree';
      const ours: { detector: string; k: number; side?: Side; load: string }[] = [];
      const detectors = detectorList?.split(',') ?? ['knn', 'lof'];
      for (const [detector, k] of ([['knn', 5], ['lof', 20]] as const).filter(([name]) => detectors.includes(name))) {
        const loadBefore = load();
        if (peerOnly) {
          ours.push({ detector, k, load: loadBefore });
          continue;
        }
        log(`${detector} ${trainRows} × ${cols}: fitting (load ${loadBefore})`);
        // maxTrainRows is the case's size: the default (20,000) would fit a sample instead.
        const options = { nNeighbors: k, maxTrainRows: trainRows };
        const fitted = time(() => (detector === 'knn' ? KNN.fit(train, options) : LOF.fit(train, options)));
        const model = fitted.result;
        log(`${detector}: fit ${secs(fitted.s)} s with ${model.indexKind}; scoring`);
        const scored = scoreRate(model, query);
        const size = encodeModel(model).length;
        let note = `${model.indexKind}, model ${mib(size)} MiB`;
        if (model.indexKind === 'hnsw') note += `, recall@${k} ${recallAgainstBrute(train, query, k, model).toFixed(4)}`;
        log(`${detector}: score ${rate(1, 1 / scored.rowsPerS)} rows/s; ${note}`);
        ours.push({ detector, k, load: loadBefore, side: { fitS: fitted.s, fitEstimated: false, scoreRowsPerS: scored.rowsPerS, scoreEstimated: scored.estimated, note } });
      }
      const peerLoad = load();
      log(`scikit-learn ${algorithm} (load ${peerLoad})`);
      const peer = skipPeer ? { error: 'skipped (--no-peer)' } : runPeer(trainFile, trainRows, queryFile, cols, algorithm, ours.map((o) => o.k));
      if ('error' in peer) log(`scikit-learn: ${peer.error}`);
      else peerVersion = String(peer.sklearn);
      for (const o of ours) {
        const row: Row = { trainRows, cols, shape, detector: `${o.detector} (k=${o.k})`, ours: o.side, loads: `${o.load} / ${peerLoad}` };
        if ('error' in peer) row.peerError = String(peer.error);
        else {
          const build = Number(peer.build_s);
          const fitPerRow = Number(peer[`fit_search_per_row_s_k${o.k}`]);
          const scorePerRow = Number(peer[`score_per_row_s_k${o.k}`]);
          row.peer = { fitS: build + fitPerRow * trainRows, fitEstimated: true, scoreRowsPerS: 1 / scorePerRow, scoreEstimated: true, note: algorithm };
          row.native = nativeReferences(peer, o.k);
        }
        rows.push(row);
      }
      fs.writeFileSync(REPORT_PATH, report(rows, started, env, peerVersion, [...notes, `Load average (1 min) at the end: ${load()}.`]));
      log(`case done; report written to ${REPORT_PATH}`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  process.stdout.write(fs.readFileSync(REPORT_PATH, 'utf8'));
}

main();
