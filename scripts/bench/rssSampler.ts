/**
 * Worker thread for memoryProbe: samples the whole process's resident set size about every
 * millisecond and keeps the maximum in shared memory, so the peak is caught while the main
 * thread is busy inside a synchronous score() call (a timer on the main thread would not run).
 *
 * Shared Float64Array layout: [0] running maximum RSS in bytes (main thread resets it to 0 to
 * start a window), [1] stop flag (1 = exit), [2] samples taken.
 */
import { parentPort, workerData } from 'node:worker_threads';

const shared = new Float64Array(workerData as SharedArrayBuffer);
const sleeper = new Int32Array(new SharedArrayBuffer(4));

parentPort?.postMessage('ready');
while (shared[1] === 0) {
  const rss = process.memoryUsage.rss();
  if (rss > shared[0]) shared[0] = rss;
  shared[2]++;
  Atomics.wait(sleeper, 0, 0, 1);
}
