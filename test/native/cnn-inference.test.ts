/**
 * The CNN's inference kernels against their references (src/backend/js): the convolution with
 * transposed weights and a bias + ReLU epilogue (native/conv_direct.cpp) and CBAM + max pooling
 * in one pass per image (native/cnn.cpp), on the Fashion-MNIST shapes and awkward ones (channels
 * past a register tile, rows past a tile, odd sides, no pooling, a 1×1 spatial kernel).
 */
import { test } from 'node:test';
import { native, ref, rng, randn, assertClose } from './helpers.js';

test('conv2dTransposedForward: bias, ReLU and padding match the reference on tile-edge shapes', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(31);
  // B C H W O kh pad bias relu
  for (const [B, C, H, W, O, kh, pad, hasBias, relu] of [
    [1, 1, 28, 28, 32, 3, 1, 1, 1], [1, 32, 28, 28, 32, 3, 1, 1, 1], [3, 32, 14, 14, 64, 3, 1, 1, 0], [1, 1, 1, 1, 1, 1, 0, 0, 0],
    [2, 3, 5, 17, 7, 3, 1, 0, 1], [2, 33, 7, 31, 65, 3, 1, 1, 1], [1, 4, 9, 15, 16, 5, 2, 1, 0], [5, 2, 6, 6, 3, 3, 0, 1, 1],
  ]) {
    const Ho = H + 2 * pad - kh + 1, Wo = W + 2 * pad - kh + 1;
    const g = { B, C, H, W, O, kh, kw: kh, Ho, Wo, padH: pad, padW: pad, relu: relu === 1 };
    const x = randn(B * C * H * W, r), weightT = randn(C * kh * kh * O, r, 0.3), bias = hasBias ? randn(O, r) : null;
    const yr = new Float32Array(B * O * Ho * Wo), yn = new Float32Array(yr.length).fill(NaN);
    ref.conv2dTransposedForward({ x, weightT, bias, y: yr, ...g });
    nk.conv2dTransposedForward!({ x, weightT, bias, y: yn, ...g });
    assertClose(yn, yr, `conv2dTransposedForward ${JSON.stringify(g)}`, 1e-4, 1e-4);
  }
});

test('cbamPoolForward: channel and spatial gates, pooling and the pooled mean match the reference', (t) => {
  const nk = native(t);
  if (!nk) return;
  const r = rng(32);
  // B C H W R ks pool biases mean
  for (const [B, C, H, W, R, ks, pool, hasBias, hasMean] of [
    [1, 32, 28, 28, 4, 7, 2, 1, 0], [3, 64, 14, 14, 8, 7, 2, 1, 1], [2, 5, 7, 9, 1, 3, 2, 0, 1], [1, 17, 3, 3, 3, 7, 1, 1, 1],
    [2, 3, 5, 6, 2, 1, 3, 1, 0], [1, 1, 1, 1, 1, 7, 1, 0, 1],
  ]) {
    const Ho = Math.floor(H / pool), Wo = Math.floor(W / pool);
    const g = { B, C, H, W, R, ks, pool, Ho, Wo };
    const x = randn(B * C * H * W, r);
    const fc1W = randn(R * C, r, 0.3), fc2W = randn(C * R, r, 0.3), spatialW = randn(2 * ks * ks, r, 0.3);
    const fc1B = hasBias ? randn(R, r) : null, fc2B = hasBias ? randn(C, r) : null;
    const make = () => ({ y: new Float32Array(B * C * Ho * Wo).fill(NaN), mean: hasMean ? new Float32Array(B * C).fill(NaN) : null });
    const a = make(), b = make();
    ref.cbamPoolForward({ x, fc1W, fc1B, fc2W, fc2B, spatialW, ...a, ...g });
    nk.cbamPoolForward!({ x, fc1W, fc1B, fc2W, fc2B, spatialW, ...b, ...g });
    assertClose(b.y, a.y, `cbamPoolForward y ${JSON.stringify(g)}`, 1e-5, 1e-4);
    if (a.mean && b.mean) assertClose(b.mean, a.mean, `cbamPoolForward mean ${JSON.stringify(g)}`, 1e-5, 1e-4);
  }
});
