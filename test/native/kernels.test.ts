/** Native norms, softmax, elementwise, embedding, cross-entropy, AdamW and int8 kernels equal the reference. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native, ref, rng, randn, randint, assertClose } from './helpers.js';

const SIZES = [1, 3, 17, 63, 65, 127, 129, 1000];

test('softmax and logSoftmax, forward and backward, on the last and on inner axes', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(1);
  for (const size of SIZES) for (const [outer, inner] of [[3, 1], [2, 5], [1, 17]]) for (const log of [false, true]) {
    const n = outer * size * inner;
    const x = randn(n, r, 3), dy = randn(n, r);
    if (size > 3) { x[1] = -Infinity; }
    const yr = new Float32Array(n), yn = new Float32Array(n);
    ref.softmaxForward({ x, y: yr, outer, size, inner, log });
    nk.softmaxForward!({ x, y: yn, outer, size, inner, log });
    assertClose(yn, yr, `softmax fwd size${size} inner${inner} log${log}`, 1e-6, 1e-5);
    const dr = new Float32Array(n), dn = new Float32Array(n);
    ref.softmaxBackward({ y: yr, dy, dx: dr, outer, size, inner, log });
    nk.softmaxBackward!({ y: yr, dy, dx: dn, outer, size, inner, log });
    assertClose(dn, dr, `softmax bwd size${size} inner${inner} log${log}`, 1e-5, 1e-4);
  }
  // a fully −∞ row gives zeros (softmax) / −∞ (logSoftmax); a NaN poisons its row only
  const x = Float32Array.from([-Infinity, -Infinity, -Infinity, 1, NaN, 2]);
  for (const log of [false, true]) {
    const yr = new Float32Array(6), yn = new Float32Array(6);
    ref.softmaxForward({ x, y: yr, outer: 2, size: 3, inner: 1, log });
    nk.softmaxForward!({ x, y: yn, outer: 2, size: 3, inner: 1, log });
    assertClose(yn, yr, `softmax special values log${log}`);
  }
});

test('layerNorm and rmsNorm forward/backward, with and without affine parameters', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(2);
  for (const cols of SIZES) for (const rows of [1, 7, 64]) for (const affine of [true, false]) {
    const n = rows * cols;
    const x = randn(n, r, 2), dy = randn(n, r);
    const w = affine ? randn(cols, r) : null, b = affine ? randn(cols, r) : null;
    const yr = new Float32Array(n), yn = new Float32Array(n);
    const mr = new Float32Array(rows), mn = new Float32Array(rows), sr = new Float32Array(rows), sn = new Float32Array(rows);
    ref.layerNormForward({ x, weight: w, bias: b, y: yr, mean: mr, rstd: sr, rows, cols, eps: 1e-5 });
    nk.layerNormForward!({ x, weight: w, bias: b, y: yn, mean: mn, rstd: sn, rows, cols, eps: 1e-5 });
    const what = `layerNorm ${rows}x${cols} affine${affine}`;
    assertClose(yn, yr, `${what} y`, 1e-4, 1e-4);
    assertClose(sn, sr, `${what} rstd`, 1e-4, 1e-4);
    const dxr = new Float32Array(n), dxn = new Float32Array(n);
    const dwr = affine ? new Float32Array(cols) : null, dwn = affine ? new Float32Array(cols).fill(NaN) : null;
    const dbr = affine ? new Float32Array(cols) : null, dbn = affine ? new Float32Array(cols).fill(NaN) : null;
    ref.layerNormBackward({ x, weight: w, mean: mr, rstd: sr, dy, dyAdd: null, dx: dxr, dxAdd: null, dweight: dwr, dbias: dbr, rows, cols });
    nk.layerNormBackward!({ x, weight: w, mean: mr, rstd: sr, dy, dyAdd: null, dx: dxn, dxAdd: null, dweight: dwn, dbias: dbn, rows, cols });
    assertClose(dxn, dxr, `${what} dx`, 1e-4, 1e-3);
    if (affine) { assertClose(dwn!, dwr!, `${what} dw`, 1e-4, 1e-3); assertClose(dbn!, dbr!, `${what} db`, 1e-4, 1e-3); }
    ref.rmsNormForward({ x, weight: w, y: yr, rstd: sr, rows, cols, eps: 1e-6 });
    nk.rmsNormForward!({ x, weight: w, y: yn, rstd: sn, rows, cols, eps: 1e-6 });
    assertClose(yn, yr, `rms ${what} y`, 1e-4, 1e-4);
    ref.rmsNormBackward({ x, weight: w, rstd: sr, dy, dx: dxr, dweight: dwr, rows, cols });
    nk.rmsNormBackward!({ x, weight: w, rstd: sr, dy, dx: dxn, dweight: dwn, rows, cols });
    assertClose(dxn, dxr, `rms ${what} dx`, 1e-4, 1e-3);
    if (affine) assertClose(dwn!, dwr!, `rms ${what} dw`, 1e-4, 1e-3);
  }
});

test('unary ops and their backward, including NaN and ±Infinity', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(3);
  for (const n of [1, 17, 1000, 70000]) {
    const x = randn(n, r, 3);
    if (n > 10) { x[0] = NaN; x[1] = Infinity; x[2] = -Infinity; x[3] = 0; x[4] = 100; x[5] = -100; }
    const pos = x.map(Math.abs);
    for (let op = 0; op <= 10; op++) {
      const input = op === 2 || op === 3 ? pos : x;
      const yr = new Float32Array(n), yn = new Float32Array(n);
      ref.unary({ op, x: input, out: yr });
      nk.unary!({ op, x: input, out: yn });
      assertClose(yn, yr, `unary op${op} n${n}`, 1e-6, 2e-6);
      const dy = randn(n, r), dr = new Float32Array(n), dn = new Float32Array(n);
      ref.unaryBackward({ op, x: input, y: yr, dy, dx: dr });
      nk.unaryBackward!({ op, x: input, y: yr, dy, dx: dn });
      assertClose(dn, dr, `unaryBackward op${op} n${n}`, 1e-5, 1e-5);
    }
  }
});

test('binary ops: same shape, row-vector, scalar and general broadcasts', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(4);
  for (let op = 0; op <= 6; op++) {
    for (const n of [1, 17, 1000, 70000]) {
      const a = randn(n, r), b = randn(n, r).map((v) => (op === 4 ? Math.abs(v) : v));
      if (n > 2) { a[0] = NaN; b[1] = NaN; }
      const yr = new Float32Array(n), yn = new Float32Array(n);
      const aa = op === 4 ? a.map(Math.abs) : a;
      ref.binarySame({ op, a: aa, b, out: yr });
      nk.binarySame!({ op, a: aa, b, out: yn });
      assertClose(yn, yr, `binarySame op${op} n${n}`, 1e-6, 1e-5);
    }
    const cases: [number[], number[], number[]][] = [
      [[4, 33], [33, 1], [0, 1]],          // row vector
      [[4, 33], [33, 1], [0, 0]],          // scalar
      [[5, 3, 17], [51, 17, 1], [0, 1, 0]], // middle axis
      [[2, 3, 4, 129], [0, 129, 0, 1], [516, 0, 129, 1]],
      [[7, 1000], [1, 7], [1000, 1]],      // transposed a
      [[], [], []],
    ];
    for (const [shape, as, bs] of cases) {
      const n = shape.reduce((p, v) => p * v, 1);
      const extent = (s: number[]) => 1 + shape.reduce((acc, d, i) => acc + (d - 1) * s[i], 0);
      const a = randn(extent(as), r).map((v) => (op === 4 ? Math.abs(v) : v)), b = randn(extent(bs), r);
      const yr = new Float32Array(n), yn = new Float32Array(n);
      ref.binaryBroadcast({ op, a, aStrides: as, b, bStrides: bs, out: yr, outShape: shape });
      nk.binaryBroadcast!({ op, a, aStrides: as, b, bStrides: bs, out: yn, outShape: shape });
      assertClose(yn, yr, `binaryBroadcast op${op} ${JSON.stringify(shape)}`, 1e-6, 1e-5);
    }
  }
});

test('embedding lookup and scatter-add gradient with repeats and padding', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(5);
  for (const dim of [1, 3, 64, 129]) for (const count of [1, 100, 3000]) {
    const rows = 50;
    const w = randn(rows * dim, r), idx = randint(count, 0, rows, r);
    const or = new Float32Array(count * dim), on = new Float32Array(count * dim);
    ref.embeddingForward({ weight: w, indices: idx, out: or, dim });
    nk.embeddingForward!({ weight: w, indices: idx, out: on, dim });
    assert.deepEqual(on, or);
    const dOut = randn(count * dim, r);
    const gr = randn(rows * dim, r), gn = gr.slice();
    ref.embeddingBackward({ dOut, indices: idx, dWeight: gr, dim, paddingIdx: 7 });
    nk.embeddingBackward!({ dOut, indices: idx, dWeight: gn, dim, paddingIdx: 7 });
    assertClose(gn, gr, `embeddingBackward dim${dim} count${count}`, 1e-4, 1e-5);
  }
});

test('cross-entropy forward/backward with ignoreIndex and label smoothing', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(6);
  for (const classes of SIZES) for (const eps of [0, 0.1]) {
    const rows = 13;
    const x = randn(rows * classes, r, 3), tg = randint(rows, 0, classes, r);
    tg[2] = -100;
    const lr = new Float32Array(rows), ln = new Float32Array(rows), sr = new Float32Array(rows), sn = new Float32Array(rows);
    ref.crossEntropyForward({ logits: x, targets: tg, losses: lr, lse: sr, rows, classes, ignoreIndex: -100, labelSmoothing: eps });
    nk.crossEntropyForward!({ logits: x, targets: tg, losses: ln, lse: sn, rows, classes, ignoreIndex: -100, labelSmoothing: eps });
    assertClose(ln, lr, `CE loss classes${classes} eps${eps}`, 1e-5, 1e-5);
    assertClose(sn, sr, `CE lse classes${classes}`, 1e-5, 1e-5);
    const dL = randn(rows, r), dr = new Float32Array(x.length), dn = new Float32Array(x.length).fill(NaN);
    ref.crossEntropyBackward({ logits: x, targets: tg, lse: sr, dLoss: dL, dLogits: dr, rows, classes, ignoreIndex: -100, labelSmoothing: eps });
    nk.crossEntropyBackward!({ logits: x, targets: tg, lse: sr, dLoss: dL, dLogits: dn, rows, classes, ignoreIndex: -100, labelSmoothing: eps });
    assertClose(dn, dr, `CE grad classes${classes} eps${eps}`, 1e-6, 1e-4);
  }
});

test('adamwStep matches PyTorch-style AdamW over several steps', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(7);
  for (const n of [1, 17, 1000, 100003]) {
    const p0 = randn(n, r), pr = p0.slice(), pn = p0.slice();
    const mr = new Float32Array(n), mn = new Float32Array(n), vr = new Float32Array(n), vn = new Float32Array(n);
    for (let step = 1; step <= 3; step++) {
      const g = randn(n, r);
      ref.adamwStep({ param: pr, grad: g, m: mr, v: vr, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step });
      nk.adamwStep!({ param: pn, grad: g, m: mn, v: vn, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step });
    }
    assertClose(pn, pr, `adamw p n${n}`, 1e-6, 1e-5);
    assertClose(mn, mr, `adamw m n${n}`, 1e-7, 1e-5);
    assertClose(vn, vr, `adamw v n${n}`, 1e-7, 1e-5);
  }
});

test('int8: per-channel quantization is bit-identical; int8Gemm integer sums match exactly', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(8);
  for (const [m, n, k] of [[1, 1, 1], [3, 17, 63], [17, 65, 129], [64, 129, 1000], [65, 63, 5], [2, 1000, 3]]) {
    const w = randn(n * k, r);
    if (n > 1) for (let c = 0; c < k; c++) w[k + c] = 0; // an all-zero row → scale 1
    const qr = new Int8Array(n * k), qn = new Int8Array(n * k), sr = new Float32Array(n), sn = new Float32Array(n);
    ref.quantizePerChannel({ w, q: qr, scales: sr, n, k });
    nk.quantizePerChannel!({ w, q: qn, scales: sn, n, k });
    assert.deepEqual(qn, qr, `quantize ${n}x${k}`);
    assert.deepEqual(sn, sr, `scales ${n}x${k}`);
    const x = randn(m * k, r), bias = randn(n, r);
    for (const b of [null, bias]) {
      const or = new Float32Array(m * n), on = new Float32Array(m * n);
      ref.int8Gemm({ x, wq: qr, wScales: sr, out: or, m, n, k, bias: b });
      nk.int8Gemm!({ x, wq: qr, wScales: sr, out: on, m, n, k, bias: b });
      assertClose(on, or, `int8Gemm ${m}x${n}x${k} bias${b !== null}`, 1e-6, 1e-6);
    }
  }
});

test('im2col and col2im: strides, padding, dilation and kernels larger than the input all match', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(12);
  const out = (n: number, k: number, s: number, p: number, d: number) => Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;
  for (const [B, C, H, W, kh, kw, s, p, d] of [
    [1, 1, 1, 1, 1, 1, 1, 0, 1], [2, 3, 5, 7, 3, 3, 1, 1, 1], [1, 17, 8, 9, 2, 3, 2, 0, 1], [2, 4, 28, 28, 5, 5, 1, 2, 1],
    [1, 2, 9, 11, 3, 2, 3, 2, 2], [3, 1, 4, 4, 5, 5, 1, 2, 1], [1, 65, 3, 17, 1, 7, 1, 3, 1], [2, 3, 6, 6, 3, 3, 2, 1, 2],
  ]) {
    const Ho = out(H, kh, s, p, d), Wo = out(W, kw, s, p, d);
    const g = { B, C, H, W, kh, kw, Ho, Wo, strideH: s, strideW: s, padH: p, padW: p, dilationH: d, dilationW: d };
    const x = randn(B * C * H * W, r), n = B * Ho * Wo * C * kh * kw;
    const cr = new Float32Array(n), cn = new Float32Array(n).fill(NaN);
    ref.im2col({ x, cols: cr, ...g });
    nk.im2col!({ x, cols: cn, ...g });
    assert.deepEqual(cn, cr, `im2col ${JSON.stringify(g)}`);
    const dCols = randn(n, r), dr = randn(B * C * H * W, r), dn = Float32Array.from(dr);
    ref.col2im({ dCols, dx: dr, ...g });
    nk.col2im!({ dCols, dx: dn, ...g });
    assertClose(dn, dr, `col2im ${JSON.stringify(g)}`, 1e-5, 1e-5);
  }
});

test('conv2dForward and conv2dBackward: groups, strides, padding, dilation, 1×1 and awkward sizes match the reference', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(14);
  const out = (n: number, k: number, s: number, p: number, d: number) => Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;
  // B C H W O groups kh kw stride padding dilation bias
  for (const [B, C, H, W, O, G, kh, kw, s, p, d, hasBias] of [
    [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1], [2, 3, 5, 7, 4, 1, 3, 3, 1, 1, 1, 1], [3, 4, 8, 9, 6, 2, 2, 3, 2, 0, 1, 0],
    [17, 2, 28, 28, 16, 1, 3, 3, 1, 1, 1, 0], [2, 6, 9, 11, 6, 6, 3, 3, 1, 1, 1, 1], [1, 65, 3, 17, 3, 1, 1, 7, 1, 3, 1, 1],
    [5, 8, 6, 6, 12, 4, 1, 1, 1, 0, 1, 1], [4, 3, 6, 6, 5, 1, 3, 3, 2, 1, 2, 0], [9, 16, 7, 7, 32, 1, 3, 3, 1, 1, 1, 1],
    // stride 1 runs on the direct kernels (native/conv_direct.cpp): rows past a register tile (W 31, 15, 29),
    // channels past a tile (C 33, O 65), dilation with padding, no padding, and 1×1 with padding (dx falls back)
    [3, 33, 13, 31, 65, 1, 3, 3, 1, 1, 1, 1], [2, 8, 10, 29, 10, 2, 3, 3, 1, 2, 2, 0], [2, 5, 6, 15, 7, 1, 5, 5, 1, 0, 1, 1],
    [2, 4, 5, 5, 3, 1, 1, 1, 1, 1, 1, 1], [6, 32, 28, 28, 32, 1, 3, 3, 1, 1, 1, 0],
  ]) {
    const Ho = out(H, kh, s, p, d), Wo = out(W, kw, s, p, d);
    const g = { B, C, H, W, kh, kw, Ho, Wo, strideH: s, strideW: s, padH: p, padW: p, dilationH: d, dilationW: d, O, groups: G };
    const what = JSON.stringify(g);
    const x = randn(B * C * H * W, r), weight = randn(O * (C / G) * kh * kw, r), bias = hasBias ? randn(O, r) : null;
    const yr = new Float32Array(B * O * Ho * Wo), yn = new Float32Array(yr.length).fill(NaN);
    ref.conv2dForward({ x, weight, bias, y: yr, ...g });
    nk.conv2dForward!({ x, weight, bias, y: yn, ...g });
    assertClose(yn, yr, `conv2dForward ${what}`, 1e-4, 1e-4);
    const dy = randn(yr.length, r);
    const grads = () => ({ dx: new Float32Array(x.length).fill(NaN), dWeight: new Float32Array(weight.length).fill(NaN), dBias: new Float32Array(O).fill(NaN) });
    const gr = grads(), gn = grads();
    ref.conv2dBackward({ x, weight, dy, ...gr, ...g });
    nk.conv2dBackward!({ x, weight, dy, ...gn, ...g });
    assertClose(gn.dx, gr.dx, `conv2dBackward dx ${what}`, 1e-4, 1e-4);
    assertClose(gn.dWeight, gr.dWeight, `conv2dBackward dWeight ${what}`, 1e-3, 1e-4);
    assertClose(gn.dBias, gr.dBias, `conv2dBackward dBias ${what}`, 1e-3, 1e-4);
    // a null output is skipped, the others are unchanged
    const only = { dx: null, dWeight: new Float32Array(weight.length), dBias: null };
    nk.conv2dBackward!({ x, weight, dy, ...only, ...g });
    assertClose(only.dWeight, gr.dWeight, `conv2dBackward dWeight alone ${what}`, 1e-3, 1e-4);
  }
});

test('batchNormForward/Backward (training and eval, with and without the fused ReLU) and maxPool match the reference', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(15);
  for (const [B, C, L] of [[2, 1, 1], [3, 5, 17], [17, 3, 63], [128, 16, 49], [4, 65, 129]]) {
    for (const training of [true, false]) for (const relu of [false, true]) {
      const what = JSON.stringify({ B, C, L, training, relu });
      const x = randn(B * C * L, r), weight = randn(C, r), bias = randn(C, r), dy = randn(B * C * L, r);
      const stats = () => ({ mean: training ? new Float32Array(C).fill(NaN) : randn(C, r), invstd: training ? new Float32Array(C).fill(NaN) : Float32Array.from(randn(C, r), (v) => 0.5 + Math.abs(v)) });
      const sr = stats(), sn = { mean: Float32Array.from(sr.mean), invstd: Float32Array.from(sr.invstd) };
      const yr = new Float32Array(x.length), yn = new Float32Array(x.length).fill(NaN);
      const dims = { B, C, L, eps: 1e-5, training, relu };
      ref.batchNormForward({ x, weight, bias, y: yr, ...sr, ...dims });
      nk.batchNormForward!({ x, weight, bias, y: yn, ...sn, ...dims });
      assertClose(sn.mean, sr.mean, `batchNorm mean ${what}`, 1e-5, 1e-4);
      assertClose(sn.invstd, sr.invstd, `batchNorm invstd ${what}`, 1e-5, 1e-4);
      assertClose(yn, yr, `batchNormForward ${what}`, 1e-4, 1e-4);
      const gr = { dx: new Float32Array(x.length), dWeight: new Float32Array(C), dBias: new Float32Array(C) };
      const gn = { dx: new Float32Array(x.length).fill(NaN), dWeight: new Float32Array(C).fill(NaN), dBias: new Float32Array(C).fill(NaN) };
      const common = { x, dy, y: relu ? yr : null, weight, B, C, L, training };
      ref.batchNormBackward({ ...common, ...sr, ...gr });
      nk.batchNormBackward!({ ...common, ...sr, ...gn });
      assertClose(gn.dx, gr.dx, `batchNormBackward dx ${what}`, 1e-4, 1e-3);
      assertClose(gn.dWeight, gr.dWeight, `batchNormBackward dWeight ${what}`, 1e-3, 1e-3);
      assertClose(gn.dBias, gr.dBias, `batchNormBackward dBias ${what}`, 1e-3, 1e-3);
    }
  }
  const out = (n: number, k: number, s: number, p: number) => Math.floor((n + 2 * p - k) / s) + 1;
  // planes H W kernel stride padding
  for (const [planes, H, W, kk, s, p] of [[1, 1, 1, 1, 1, 0], [3, 28, 28, 2, 2, 0], [5, 7, 9, 3, 2, 1], [2, 17, 3, 3, 1, 1], [65, 8, 8, 4, 4, 2], [4, 7, 9, 2, 2, 0]]) {
    const Ho = out(H, kk, s, p), Wo = out(W, kk, s, p), what = JSON.stringify({ planes, H, W, kk, s, p });
    const x = randn(planes * H * W, r);
    x[3 % x.length] = NaN; // a NaN wins its windows, as in PyTorch
    const dims = { planes, H, W, Ho, Wo };
    const yr = new Float32Array(planes * Ho * Wo), yn = new Float32Array(yr.length).fill(7), ar = new Int32Array(yr.length), an = new Int32Array(yr.length).fill(-5);
    ref.maxPoolForward({ x, y: yr, argmax: ar, ...dims, kh: kk, kw: kk, strideH: s, strideW: s, padH: p, padW: p });
    nk.maxPoolForward!({ x, y: yn, argmax: an, ...dims, kh: kk, kw: kk, strideH: s, strideW: s, padH: p, padW: p });
    assert.deepEqual(an, ar, `maxPool argmax ${what}`);
    assert.deepEqual(yn, yr, `maxPool y ${what}`);
    const dy = randn(yr.length, r), dr = new Float32Array(x.length), dn = new Float32Array(x.length).fill(NaN);
    ref.maxPoolBackward({ dy, argmax: ar, dx: dr, ...dims });
    nk.maxPoolBackward!({ dy, argmax: ar, dx: dn, ...dims });
    assertClose(dn, dr, `maxPoolBackward ${what}`, 1e-6, 1e-6);
  }
  // the 2×2 path's tie and NaN rules: ties keep the first in row-major order; the first NaN wins
  const windows = Float32Array.from([1, 1, 0, 2, 1, 1, 5, NaN, /* row 2 */ 1, 1, 2, 2, NaN, 9, 5, 5]); // one plane 2×8 → 1×4
  for (const impl of [ref, nk]) {
    const y = new Float32Array(4), argmax = new Int32Array(4);
    impl.maxPoolForward!({ x: windows, y, argmax, planes: 1, H: 2, W: 8, Ho: 1, Wo: 4, kh: 2, kw: 2, strideH: 2, strideW: 2, padH: 0, padW: 0 });
    assert.deepEqual([...argmax], [0, 3, 12, 7], 'maxPool 2×2 ties and NaN');
  }
  // channelScale: y = x · gate per row; dx = dy · gate, dGate = Σ dy · x
  for (const [rows, L] of [[1, 1], [3, 17], [64, 49], [5, 784]]) {
    const x = randn(rows * L, r), gate = randn(rows, r), dy = randn(rows * L, r), what = JSON.stringify({ rows, L });
    const yr = new Float32Array(x.length), yn = new Float32Array(x.length).fill(NaN);
    ref.channelScaleForward({ x, gate, y: yr, rows, L });
    nk.channelScaleForward!({ x, gate, y: yn, rows, L });
    assertClose(yn, yr, `channelScaleForward ${what}`, 1e-6, 1e-6);
    const gr = { dx: new Float32Array(x.length), dGate: new Float32Array(rows) };
    const gn = { dx: new Float32Array(x.length).fill(NaN), dGate: new Float32Array(rows).fill(NaN) };
    ref.channelScaleBackward({ x, gate, dy, ...gr, rows, L });
    nk.channelScaleBackward!({ x, gate, dy, ...gn, rows, L });
    assertClose(gn.dx, gr.dx, `channelScaleBackward dx ${what}`, 1e-6, 1e-6);
    assertClose(gn.dGate, gr.dGate, `channelScaleBackward dGate ${what}`, 1e-4, 1e-4);
    const only = { dx: null, dGate: new Float32Array(rows).fill(NaN) };
    nk.channelScaleBackward!({ x, gate, dy, ...only, rows, L });
    assertClose(only.dGate, gr.dGate, `channelScaleBackward dGate alone ${what}`, 1e-4, 1e-4);
  }
});
