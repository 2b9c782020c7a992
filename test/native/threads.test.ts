/**
 * The native thread pool: results do not depend on the thread count, and kernels
 * called from several worker_threads at once (as the HTTP server does) stay correct
 * and never deadlock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { native, ref, rng, randn, assertClose } from './helpers.js';

test('sgemm and attention give the same result on 1 and on all threads', async (t) => {
  const nk = native(t);
  if (!nk) return;
  const { setNumThreads, backendInfo } = await import('../../src/backend/registry.js');
  const r = rng(11);
  const m = 150, n = 170, k = 90;
  const a = randn(m * k, r), b = randn(k * n, r);
  const outs: Float32Array[] = [];
  const before = backendInfo().threads;
  for (const threads of [1, 2, 3]) {
    setNumThreads(threads);
    const c = new Float32Array(m * n);
    nk.sgemm!({ a, b, c, batch: 1, m, n, k, transA: false, transB: false, alpha: 1, beta: 0, strideA: 0, strideB: 0, strideC: 0, bias: null, activation: 0 });
    outs.push(c);
  }
  setNumThreads(Math.max(1, before));
  const cr = new Float32Array(m * n);
  ref.sgemm({ a, b, c: cr, batch: 1, m, n, k, transA: false, transB: false, alpha: 1, beta: 0, strideA: 0, strideB: 0, strideC: 0, bias: null, activation: 0 });
  for (const c of outs) assertClose(c, cr, 'sgemm across thread counts', 1e-4, 1e-4);
});

test('kernels called concurrently from worker threads stay correct', async (t) => {
  if (!native(t)) return;
  const src = `
    const { parentPort, workerData } = require('node:worker_threads');
    const addon = require(workerData.path);
    const n = 96, a = new Float32Array(n * n).fill(1), b = new Float32Array(n * n).fill(0.5), c = new Float32Array(n * n);
    let ok = true;
    for (let i = 0; i < 200; i++) {
      addon.kernels.sgemm(a, b, c, 1, n, n, n, false, false, 1, 0, 0, 0, 0, null, 0); // the raw addon: args flat, in spec order
      if (c[0] !== n * 0.5 || c[n * n - 1] !== n * 0.5) ok = false;
    }
    parentPort.postMessage(ok);
  `;
  const { fileURLToPath } = await import('node:url');
  const path = process.env.HEED_NATIVE_PATH || fileURLToPath(new URL('../../build/Release/heed.node', import.meta.url));
  const results = await Promise.all([0, 1, 2].map(() => new Promise<boolean>((resolve, reject) => {
    const w = new Worker(src, { eval: true, workerData: { path } });
    w.once('message', (v: boolean) => { resolve(v); void w.terminate(); });
    w.once('error', reject);
  })));
  assert.deepEqual(results, [true, true, true]);
});
