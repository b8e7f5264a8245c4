/**
 * Child process of the bench: how much memory does scoring take beyond its input?
 *
 * usage: node --expose-gc memoryProbe.js DATA_F64 FIRST_ROW ROWS COLS MODEL_FILE
 *
 * In a fresh process (so no earlier allocation hides or inflates the figure): read the rows
 * straight into one Float64Array (the input's own bytes), decode the model file, start an RSS
 * sampler thread, collect garbage, take the baseline, score once, and print JSON:
 *   peakExtraRss  max sampled RSS during score() − RSS just before it (input and model already
 *                 resident): everything scoring touched, output array and V8 heap included
 *   retainedArrayBuffers  arrayBuffers after score() − before (normally the output scores)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { decodeModel, Matrix } from '../../src/scoring';

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  gc();
}

async function main(): Promise<void> {
  const [dataPath, firstRowArg, rowsArg, colsArg, modelPath] = process.argv.slice(2);
  const firstRow = Number(firstRowArg);
  const rows = Number(rowsArg);
  const cols = Number(colsArg);
  const values = new Float64Array(rows * cols);
  const fd = fs.openSync(dataPath, 'r');
  try {
    const bytes = new Uint8Array(values.buffer);
    let done = 0;
    while (done < bytes.length) {
      const n = fs.readSync(fd, bytes, done, bytes.length - done, firstRow * cols * 8 + done);
      if (n === 0) throw new Error(`${dataPath}: file ends before row ${firstRow + rows}`);
      done += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  const X = new Matrix(rows, cols, values);
  let detector = decodeModel(fs.readFileSync(modelPath));

  const shared = new Float64Array(new SharedArrayBuffer(3 * 8));
  const sampler = new Worker(path.join(__dirname, 'rssSampler.js'), { workerData: shared.buffer });
  await new Promise<void>((resolve, reject) => {
    sampler.once('message', () => resolve());
    sampler.once('error', reject);
  });
  // Let the sampler thread settle, then measure from a clean heap.
  await new Promise((resolve) => setTimeout(resolve, 50));
  collectGarbage();
  const before = process.memoryUsage();
  const maxRssBefore = process.resourceUsage().maxRSS * 1024;
  shared[0] = 0;
  const samplesBefore = shared[2];
  const t0 = process.hrtime.bigint();
  const scores = detector.score(X);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const after = process.memoryUsage();
  const peakRss = Math.max(shared[0], after.rss);
  const samples = shared[2] - samplesBefore;
  shared[1] = 1;
  await sampler.terminate();
  const maxRssAfter = process.resourceUsage().maxRSS * 1024;

  let checksum = 0;
  for (let i = 0; i < scores.length; i++) checksum += scores[i];
  detector = undefined as never;
  process.stdout.write(
    JSON.stringify({
      rows,
      cols,
      inputBytes: values.byteLength,
      scoreSeconds: seconds,
      samples,
      baselineRss: before.rss,
      peakRss,
      peakExtraRss: peakRss - before.rss,
      retainedArrayBuffers: after.arrayBuffers - before.arrayBuffers,
      heapUsedDelta: after.heapUsed - before.heapUsed,
      maxRssHighWaterBefore: maxRssBefore,
      maxRssHighWaterAfter: maxRssAfter,
      checksum,
    }) + '\n',
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
