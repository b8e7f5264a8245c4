/**
 * Accuracy against PyOD's published ROC-AUC on eight ODDS datasets (tests/accuracy/data).
 *
 * Protocol (PyOD notebooks/benchmark.py, see data/README.md): for seeds 0..9, PyOD's own
 * splits, i.e. scikit-learn's train_test_split(X, y, test_size=0.4,
 * random_state=np.random.RandomState(seed)) reproduced index for index by ./numpySplit.ts
 * (checked against numpy/scikit-learn in numpySplit.test.ts): test = the first ceil(0.4 n)
 * entries of RandomState(seed).permutation(n), train = the rest, in that order. Both parts are
 * standardised with the train mean and population standard deviation (PyOD's standardizer,
 * i.e. StandardScaler; a constant column keeps scale 1), fit on train with the detector's
 * defaults (PyOD's defaults), score test, ROC-AUC. Per detector and dataset the mean over the
 * ten seeds must be at least PyOD's figure − 0.02 (or a documented per-case tolerance below).
 * Beating PyOD by more than 0.02 never fails; it is reported.
 *
 * The table (dataset, detector, ours mean ± sd, PyOD, diff) goes to stdout and to
 * tests/accuracy/last-run.md. No timing assertions: fit+score times are reported only.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fitDetector, Matrix, rocAuc, supportedAlgorithms } from '../../src/scoring';
import { trainTestSplit } from './numpySplit';
import { loadOddsDataset, ODDS_DATA_DIR as DATA_DIR, ODDS_DATASETS as DATASETS, type OddsDataset as Dataset, type OddsDatasetName as DatasetName } from './oddsDatasets';

const REPORT_PATH = path.join(__dirname, 'last-run.md');


const SEEDS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
const TEST_SIZE = 0.4;
const DEFAULT_TOLERANCE = 0.02;

/** Our algorithm → the column of pyod-benchmark-roc.csv it is held to. */
const PYOD_COLUMN: Readonly<Record<string, string>> = {
  hbos: 'HBOS',
  'isolation-forest': 'IForest',
  knn: 'KNN',
  lof: 'LOF',
  pca: 'PCA',
  copod: 'COPOD',
  ecod: 'ECOD',
};

/**
 * Every detector that must be registered. A missing one FAILS its tests (it is not skipped).
 * Those without a PyOD column are run and reported, with no floor.
 */
const EXPECTED_ALGORITHMS = [
  'isolation-forest',
  'hbos',
  'ecod',
  'copod',
  'robust-z',
  'knn',
  'knn-mean',
  'knn-median',
  'lof',
  'pca',
] as const;

/**
 * Report-only runs of the composite detectors, when registered (never asserted; absence is only
 * noted). The pipelines get the RAW splits and must standardise by themselves: a 'zscore'
 * pipeline should then reproduce its inner detector's row on the standardised splits.
 */
interface ReportOnlyCase {
  readonly algorithm: string;
  readonly note: string;
  readonly raw: boolean;
  readonly options: (seed: number) => unknown;
}
const REPORT_ONLY: readonly ReportOnlyCase[] = [
  {
    algorithm: 'ensemble',
    note: 'iforest+hbos+ecod+copod+pca, ecdf',
    raw: false,
    options: (seed) => ({
      members: [
        { algorithm: 'isolation-forest', options: { seed } },
        { algorithm: 'hbos' },
        { algorithm: 'ecod' },
        { algorithm: 'copod' },
        { algorithm: 'pca' },
      ],
    }),
  },
  // KNN is scale-sensitive (the tree, histogram and ECDF detectors are not), so it shows what the
  // standardiser does; 'zscore' must reproduce the knn row exactly.
  {
    algorithm: 'pipeline',
    note: 'zscore → knn, raw input',
    raw: true,
    options: (seed) => ({ standardize: 'zscore', detector: { algorithm: 'knn', options: { seed } } }),
  },
  {
    algorithm: 'pipeline',
    note: 'robust → knn, raw input',
    raw: true,
    options: (seed) => ({ standardize: 'robust', detector: { algorithm: 'knn', options: { seed } } }),
  },
];

/**
 * Per-case tolerances, "dataset/algorithm" → how far below PyOD's figure our mean may fall,
 * each with its measured reason. Everything not listed is held to 0.02.
 *
 * With PyOD's own ten splits (numpySplit.ts) every other case is within 0.02 of PyOD or above
 * it; KNN, LOF, HBOS and PCA reproduce PyOD's figures to the fourth decimal on most datasets.
 * (The table used to hold 12 cases, glass ×7, ionosphere ×4 and pendigits/lof, missing by
 * 0.02-0.13 only because the test drew its own ten splits.)
 *
 * One case remains, and it is a documented design difference, not split variance: ECOD/COPOD
 * score each row as if appended to the training data on its own (see ecod.ts), where PyOD's
 * decision_function appends the whole test batch at once, so its ECDFs and skewness pool all
 * 86 glass test rows with the 128 training rows. Measured with /usr/bin/python3 (numpy, scipy,
 * scikit-learn; PyOD's COPOD formula re-implemented) on these very splits:
 *
 *   glass/copod    batch-pooled (PyOD's way) 0.7083 = PyOD's table;  per-row 0.6742 = ours
 *                  (per seed identical to ours to 4 decimals)
 *   for scale:     glass/ecod 0.6846 vs 0.6817; ionosphere/copod 0.7992 vs 0.7938;
 *                  pima/copod 0.6492 vs 0.6454; wbc/copod 0.9590 vs 0.9595
 *
 * As before, the tolerance is (PyOD − the reference computed our way), rounded up to 0.01,
 * plus the usual 0.02: the floor is "PyOD's formula scored per row on these splits − 0.02".
 */
const TOLERANCE: Readonly<Record<string, { readonly tolerance: number; readonly reason: string }>> = {
  'glass/copod': {
    tolerance: 0.06,
    reason:
      "per-row vs batch scoring: PyOD's COPOD on these splits scored per row (as ours) 0.6742, " +
      'batch-pooled (as PyOD) 0.7083 (PyOD − 0.034); 86 test rows pooled with 128 training rows move glass ECDFs',
  },
};

/**
 * Report-only runs (no PyOD figure) on datasets above this many rows use only the first
 * REPORT_ONLY_LARGE_SEEDS seeds: on shuttle each neighbour-based run costs ~4 s per seed.
 */
const REPORT_ONLY_LARGE_ROWS = 20_000;
const REPORT_ONLY_LARGE_SEEDS = 3;

// ---------------------------------------------------------------------------------------------
// Data

function loadPyodTable(): Map<string, Map<string, number>> {
  const lines = fs
    .readFileSync(path.join(DATA_DIR, 'pyod-benchmark-roc.csv'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '');
  const header = lines[0].split(',');
  const table = new Map<string, Map<string, number>>();
  for (const line of lines.slice(1)) {
    const fields = line.split(',');
    const row = new Map<string, number>();
    header.forEach((column, i) => row.set(column, Number(fields[i])));
    table.set(fields[0], row);
  }
  return table;
}

interface Split {
  readonly seed: number;
  readonly train: Matrix;
  readonly test: Matrix;
  readonly testLabels: Uint8Array;
  /** The same rows before standardisation (for a detector that standardises by itself). */
  readonly rawTrain: Matrix;
  readonly rawTest: Matrix;
}

/**
 * PyOD's split for this seed: train_test_split(X, y, test_size=0.4,
 * random_state=np.random.RandomState(seed)) exactly (rows in scikit-learn's order), then
 * PyOD's standardizer.
 */
function splitAndStandardise(ds: Dataset, seed: number): Split {
  const { train, test } = trainTestSplit(ds.X.rows, TEST_SIZE, seed);
  const nTrain = train.length;
  const nTest = test.length;
  const rawTrain = ds.X.selectRows(train);
  const rawTest = ds.X.selectRows(test);
  const testLabels = new Uint8Array(nTest);
  for (let i = 0; i < nTest; i++) testLabels[i] = ds.labels[test[i]];

  const cols = ds.X.cols;
  const mean = new Float64Array(cols);
  const scale = new Float64Array(cols);
  for (let r = 0; r < nTrain; r++) for (let c = 0; c < cols; c++) mean[c] += rawTrain.data[r * cols + c];
  for (let c = 0; c < cols; c++) mean[c] /= nTrain;
  for (let r = 0; r < nTrain; r++) {
    for (let c = 0; c < cols; c++) {
      const d = rawTrain.data[r * cols + c] - mean[c];
      scale[c] += d * d;
    }
  }
  for (let c = 0; c < cols; c++) {
    const sd = Math.sqrt(scale[c] / nTrain);
    // A constant training column would divide by zero (or, its mean being off in the last bit,
    // by rounding noise): like StandardScaler, a spread below 10·ε leaves the column unscaled.
    scale[c] = sd >= 10 * Number.EPSILON ? sd : 1;
  }
  const standardise = (m: Matrix): Matrix => {
    const out = new Float64Array(m.data.length);
    for (let i = 0; i < out.length; i++) {
      const c = i % cols;
      out[i] = (m.data[i] - mean[c]) / scale[c];
    }
    return new Matrix(m.rows, cols, out);
  };
  return { seed, train: standardise(rawTrain), test: standardise(rawTest), testLabels, rawTrain, rawTest };
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/**
 * Options per seed: PyOD's defaults are our defaults, so only a detector with a `seed` option
 * (found by its resolved params) gets one, the split's seed, as PyOD passes random_state.
 */
const seededAlgorithms = new Map<string, boolean>();
function optionsFor(algorithm: string, seed: number, probe: Matrix): Record<string, number> | undefined {
  let seeded = seededAlgorithms.get(algorithm);
  if (seeded === undefined) {
    seeded = Object.prototype.hasOwnProperty.call(fitDetector(algorithm, probe).params, 'seed');
    seededAlgorithms.set(algorithm, seeded);
  }
  return seeded ? { seed } : undefined;
}

interface ResultRow {
  readonly dataset: DatasetName;
  readonly algorithm: string;
  readonly note: string;
  readonly aucs: number[];
  readonly mean: number;
  readonly sd: number;
  readonly pyod?: number;
  readonly tolerance?: number;
  readonly seconds: number;
  readonly params: string;
  verdict: string;
}

const results: ResultRow[] = [];
const absent: string[] = [];
const optionalAbsent: string[] = [];
const started = Date.now();

function meanAndSd(values: number[]): { mean: number; sd: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(values.length - 1, 1);
  return { mean, sd: Math.sqrt(variance) };
}

function evaluate(
  dataset: DatasetName,
  algorithm: string,
  splits: readonly Split[],
  note = '',
  raw = false,
  explicitOptions?: (seed: number) => unknown,
): ResultRow {
  const t0 = process.hrtime.bigint();
  const aucs: number[] = [];
  let params = '';
  const reportOnly = explicitOptions !== undefined || PYOD_COLUMN[algorithm] === undefined;
  const used = reportOnly && splits.length > 0 && splits[0].train.rows + splits[0].test.rows > REPORT_ONLY_LARGE_ROWS
    ? splits.slice(0, REPORT_ONLY_LARGE_SEEDS)
    : splits;
  for (const split of used) {
    const train = raw ? split.rawTrain : split.train;
    const test = raw ? split.rawTest : split.test;
    const options = explicitOptions ? explicitOptions(split.seed) : optionsFor(algorithm, split.seed, split.train);
    const detector = fitDetector(algorithm, train, options);
    if (params === '') params = JSON.stringify(detector.params);
    aucs.push(rocAuc(split.testLabels, detector.score(test)));
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const { mean, sd } = meanAndSd(aucs);
  const row: ResultRow = { dataset, algorithm, note, aucs, mean, sd, seconds, params, verdict: 'report only' };
  results.push(row);
  return row;
}

const fmt = (x: number | undefined, digits = 4): string => (x === undefined ? '—' : x.toFixed(digits));
const signed = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;

function renderTable(): string {
  const order = (r: ResultRow): number => {
    const i = [...EXPECTED_ALGORITHMS, ...REPORT_ONLY.map((c) => c.algorithm)].indexOf(r.algorithm);
    return i < 0 ? 99 : i;
  };
  const rows = [...results].sort(
    (a, b) => DATASETS.indexOf(a.dataset) - DATASETS.indexOf(b.dataset) || order(a) - order(b) || a.note.localeCompare(b.note),
  );
  const lines = [
    '| dataset | detector | ours mean ± sd (seeds 0..9) | PyOD | diff | verdict | fit+score s |',
    '| --- | --- | --- | ---: | ---: | --- | ---: |',
  ];
  for (const r of rows) {
    const name = r.note ? `${r.algorithm} (${r.note})` : r.algorithm;
    const diff = r.pyod === undefined ? '—' : signed(r.mean - r.pyod);
    lines.push(
      `| ${r.dataset} | ${name} | ${fmt(r.mean)} ± ${fmt(r.sd)}${r.aucs.length === SEEDS.length ? '' : ` (seeds 0..${r.aucs.length - 1})`} | ${fmt(r.pyod)} | ${diff} | ${r.verdict} | ${r.seconds.toFixed(2)} |`,
    );
  }
  return lines.join('\n');
}

function writeReport(): void {
  const table = renderTable();
  const params = new Map<string, string>();
  for (const r of results) if (!params.has(r.algorithm + r.note)) params.set(r.algorithm + r.note, `${r.algorithm}${r.note ? ` (${r.note})` : ''}: \`${r.params}\``);
  const tolerances = Object.entries(TOLERANCE).map(([key, t]) => `- ${key}: ${t.tolerance} — ${t.reason}`);
  if (tolerances.length > 0) {
    tolerances.unshift(
      'Cases that still miss PyOD − 0.02 on PyOD\'s own splits, with the measured reason; see the TOLERANCE comment in odds.test.ts.',
      '',
    );
  }
  const text = [
    '# Accuracy vs PyOD (ODDS, ROC-AUC)',
    '',
    `- date: ${new Date().toISOString()}`,
    `- machine: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), Node ${process.version}`,
    '- command: `npx jest tests/accuracy --selectProjects accuracy`',
    `- protocol: seeds ${SEEDS[0]}..${SEEDS[SEEDS.length - 1]}, PyOD's splits (sklearn train_test_split(test_size=0.4, random_state=RandomState(seed)), reproduced exactly by numpySplit.ts), train mean/population-sd standardisation, defaults, mean ROC-AUC on test` +
      ` (report-only rows on datasets over ${REPORT_ONLY_LARGE_ROWS} rows: seeds 0..${REPORT_ONLY_LARGE_SEEDS - 1})`,
    `- floor: PyOD − ${DEFAULT_TOLERANCE} unless listed below; "higher" = ours beats PyOD by more than ${DEFAULT_TOLERANCE} (never a failure)`,
    `- registered: ${supportedAlgorithms().join(', ')}`,
    absent.length > 0 ? `- NOT REGISTERED (these cases fail): ${absent.join(', ')}` : '- every expected algorithm is registered',
    ...(optionalAbsent.length > 0 ? [`- optional, not registered (not run): ${optionalAbsent.join(', ')}`] : []),
    `- wall time: ${((Date.now() - started) / 1000).toFixed(1)} s`,
    '',
    table,
    '',
    '## Per-case tolerances',
    '',
    ...(tolerances.length > 0 ? tolerances : ['- none: every case is held to PyOD − 0.02']),
    '',
    '## Resolved parameters',
    '',
    ...[...params.values()].map((p) => `- ${p}`),
    '',
  ].join('\n');
  fs.writeFileSync(REPORT_PATH, text);
  process.stdout.write(`\n${text}\n`);
}

// ---------------------------------------------------------------------------------------------
// Tests

const pyodTable = loadPyodTable();
const registered = (algorithm: string): boolean => supportedAlgorithms().includes(algorithm);

afterAll(() => {
  writeReport();
});

test('every expected algorithm is registered', () => {
  const missing = EXPECTED_ALGORITHMS.filter((a) => !registered(a));
  expect(missing).toEqual([]);
});

describe.each(DATASETS)('%s', (dataset) => {
  let splits: Split[] = [];

  beforeAll(() => {
    const ds = loadOddsDataset(dataset);
    splits = SEEDS.map((seed) => splitAndStandardise(ds, seed));
  });
  afterAll(() => {
    splits = [];
  });

  test.each([...EXPECTED_ALGORITHMS])(
    `%s: mean ROC-AUC over ${SEEDS.length} seeds ≥ PyOD − tolerance`,
    (algorithm) => {
      if (!registered(algorithm)) {
        if (!absent.includes(algorithm)) absent.push(algorithm);
        throw new Error(
          `algorithm "${algorithm}" is not registered (registered: ${supportedAlgorithms().join(', ')})`,
        );
      }
      const column = PYOD_COLUMN[algorithm];
      const pyod = column === undefined ? undefined : pyodTable.get(dataset)?.get(column);
      if (column !== undefined && (pyod === undefined || !Number.isFinite(pyod))) {
        throw new Error(`pyod-benchmark-roc.csv has no ${column} figure for ${dataset}`);
      }
      const row = evaluate(dataset, algorithm, splits, '');
      if (pyod === undefined) return;
      const tolerance = TOLERANCE[`${dataset}/${algorithm}`]?.tolerance ?? DEFAULT_TOLERANCE;
      Object.assign(row, { pyod, tolerance });
      const diff = row.mean - pyod;
      row.verdict =
        diff < -tolerance
          ? `FAIL (< PyOD − ${tolerance})`
          : diff > DEFAULT_TOLERANCE
            ? 'higher'
            : tolerance !== DEFAULT_TOLERANCE && diff < -DEFAULT_TOLERANCE
              ? `ok (per-case tolerance ${tolerance})`
              : 'ok';
      if (diff < -tolerance) {
        throw new Error(
          `${algorithm} on ${dataset}: mean ROC-AUC ${row.mean.toFixed(4)} ± ${row.sd.toFixed(4)} is ` +
            `${(-diff).toFixed(4)} below PyOD's ${pyod.toFixed(4)} (allowed ${tolerance}); ` +
            `per seed ${row.aucs.map((a) => a.toFixed(4)).join(' ')}`,
        );
      }
    },
    15 * 60 * 1000,
  );

  test.each(REPORT_ONLY.map((c) => [`${c.algorithm} (${c.note})`, c] as const))(
    '%s: report only',
    (_name, c) => {
      if (!registered(c.algorithm)) {
        if (!optionalAbsent.includes(c.algorithm)) optionalAbsent.push(c.algorithm);
        return;
      }
      evaluate(dataset, c.algorithm, splits, c.note, c.raw, c.options);
    },
    15 * 60 * 1000,
  );

  // Anything registered that this file does not know yet is still run (defaults) and reported.
  test('other registered algorithms: report only', () => {
    const known = new Set<string>([...EXPECTED_ALGORITHMS, ...REPORT_ONLY.map((c) => c.algorithm)]);
    for (const algorithm of supportedAlgorithms().filter((a) => !known.has(a))) {
      try {
        evaluate(dataset, algorithm, splits, 'unlisted, defaults');
      } catch (error) {
        process.stdout.write(`${dataset}: unlisted algorithm ${algorithm} could not run with defaults: ${String(error)}\n`);
      }
    }
  }, 15 * 60 * 1000);
});
