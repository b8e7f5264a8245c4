// Training-read benchmark: generates an N × 16 CSV (default 10,000,000 rows), then runs the
// training read path — streaming CSV batches → seeded reservoir sample → fit — and reports rows/s
// read and sampled and peak memory (RSS). With --minio it uploads the file to the MinIO named by
// MINIO_ENDPOINT and streams it back through ObjectStore.streamVerified, exactly as fitModel does.
//   npm run bench:train -- [--rows 10000000] [--sample 65536] [--algorithm isolation-forest] [--minio] [--keep]
// Writes the numbers to bench/train-last-run.md.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getDetectorFactory } from '../../src/scoring/registry';
import { loadConfig } from '../../src/config';
import { datasetBatches } from '../../src/data/readDataset';
import { RowReservoir } from '../../src/data/reservoir';
import { fitDetector } from '../../src/scoring/registry';
import { ObjectStore } from '../../src/storage/objectStore';
import { repoRoot as root } from '../repoRoot';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}
const rows = Number(arg('rows') ?? 10_000_000);
const cols = 16;
const algorithm = arg('algorithm') ?? 'isolation-forest';
const sample = Number(arg('sample') ?? getDetectorFactory(algorithm).trainingRows({}));
const useMinio = process.argv.includes('--minio');
const file = arg('file') ?? path.join(os.tmpdir(), `nomaly-train-bench-${rows}x${cols}.csv`);

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);

async function generate(): Promise<void> {
  if (fs.existsSync(file) && fs.statSync(file).size > 0) return;
  const out = fs.createWriteStream(file);
  const write = (s: string) => (out.write(s) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', () => r())));
  await write(`${Array.from({ length: cols }, (_, j) => `f${j}`).join(',')}\n`);
  let x = 12345;
  const rand = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 4294967296);
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    const outlier = rand() < 0.01;
    const cells = new Array<string>(cols);
    for (let j = 0; j < cols; j++) cells[j] = ((outlier ? 6 : 0) + rand() + rand() + rand() - 1.5).toFixed(5);
    lines.push(cells.join(','));
    if (lines.length === 10000) {
      await write(`${lines.join('\n')}\n`);
      lines.length = 0;
    }
  }
  if (lines.length) await write(`${lines.join('\n')}\n`);
  await new Promise<void>((r) => out.end(() => r()));
}

async function source(): Promise<{ stream: AsyncIterable<Buffer>; where: string }> {
  if (!useMinio) return { stream: fs.createReadStream(file, { highWaterMark: 1 << 20 }), where: 'local file' };
  const config = loadConfig();
  const store = ObjectStore.connect(config.minio);
  await store.ensureBuckets([config.buckets.datasets]);
  const hash = createHash('sha256');
  for await (const c of fs.createReadStream(file)) hash.update(c);
  const sha = hash.digest('hex');
  const key = `sha256/${sha.slice(0, 2)}/${sha}.csv`;
  if (!(await store.stat(config.buckets.datasets, key))) await store.putFile(config.buckets.datasets, key, file);
  return { stream: store.streamVerified(config.buckets.datasets, key, sha), where: `MinIO ${config.minio.endPoint}:${config.minio.port}` };
}

(async () => {
  const genStart = Date.now();
  await generate();
  const bytes = fs.statSync(file).size;
  const genSeconds = (Date.now() - genStart) / 1000;
  peakRss = process.memoryUsage().rss;
  const { stream, where } = await source();
  const t0 = Date.now();
  const reservoir = new RowReservoir(sample, cols, 0);
  let read = 0;
  for await (const batch of datasetBatches(stream, 'csv')) {
    const data = batch.features.data;
    for (let r = 0; r < batch.features.rows; r++) reservoir.offer(data, r);
    read += batch.features.rows;
  }
  const readSeconds = (Date.now() - t0) / 1000;
  const t1 = Date.now();
  const detector = fitDetector(algorithm, reservoir.rows(), { seed: 0 });
  const fitSeconds = (Date.now() - t1) / 1000;
  clearInterval(sampler);
  const mb = (n: number) => (n / 1024 / 1024).toFixed(0);
  const report = `# Training read benchmark (last run)

\`npm run bench:train -- --rows ${rows}${useMinio ? ' --minio' : ''}\` on ${os.cpus()[0].model} (${os.cpus().length} cores), Node ${process.version}, ${new Date().toISOString()}.

| what | value |
| --- | --- |
| dataset | ${rows.toLocaleString('en-US')} rows × ${cols} features, CSV, ${mb(bytes)} MiB, read from ${where} |
| rows read | ${read.toLocaleString('en-US')} |
| read + parse + sample time | ${readSeconds.toFixed(1)} s |
| **rows/s read and sampled** | **${Math.round(read / readSeconds).toLocaleString('en-US')}** (${mb(bytes / readSeconds)} MiB/s) |
| reservoir sample | ${reservoir.size.toLocaleString('en-US')} rows (${algorithm} default) |
| fit on the sample | ${fitSeconds.toFixed(2)} s (${algorithm}, threshold ${detector.threshold.toFixed(4)}) |
| **peak RSS** | **${mb(peakRss)} MiB** (the full dataset as doubles would be ${mb(rows * cols * 8)} MiB) |
| generating the CSV | ${genSeconds.toFixed(1)} s (not part of training) |

Memory is bounded by one batch of text (8 MiB) and its parsed rows plus the reservoir
(${reservoir.size.toLocaleString('en-US')} × ${cols} × 8 bytes), whatever the number of rows.
`;
  fs.mkdirSync(path.join(root, 'bench'), { recursive: true });
  fs.writeFileSync(path.join(root, 'bench/train-last-run.md'), report);
  console.log(report);
  if (!process.argv.includes('--keep') && !arg('file')) fs.rmSync(file, { force: true });
  process.exit(0);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
