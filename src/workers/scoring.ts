#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';
import { main } from './runWorkerProcess';

// A scoring worker's JS heap is small (~40 MB) and steady; its chunk buffers live outside it. With
// V8's default growing factor, every full collection left so little headroom that the next one
// started within ~200 ms: 70 collections in a 10-million-row job, 3.7 CPU-seconds of marking
// threads. Letting the heap grow to twice its live size first leaves ~10 and 0.8 CPU-seconds.
// V8 reads the factor at every collection, so setting it at startup takes effect (measured).
setFlagsFromString('--heap-growing-percent=100');

main('scoring');
