/**
 * The one mask path (src/ops/attention-mask.ts): every mask form, on the fused kernel
 * (native backend) and on the composed path (js backend), against attention written out by
 * hand with a hand-built mask; where the causal diagonal sits when L ≠ S; sliding windows
 * and block layouts computed tile by tile equal their dense reference; the modules and the
 * functional op agree, and KV-cache decoding equals the full forward.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { nn } from '../../src/index.ts';
import { resolveMask, maskTiles, tileOf, kernelMask } from '../../src/ops/attention-mask.ts';
import { maxDiff } from '../tensors.ts';

const initial = h.getBackend();
after(() => h.setBackend(initial));
const backends: h.BackendName[] = h.backendInfo().nativeAvailable ? ['native', 'js'] : ['js'];

/** A small deterministic generator for masks and layouts. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

type Allowed = (b: number, h: number, i: number, j: number) => boolean;
type Bias = (b: number, h: number, i: number, j: number) => number;

/**
 * Attention written out by hand: out[b,h,i] = Σ_j softmax_j(scale·q·k + bias)·v over the
 * allowed j; zeros when none is. q (B, H, L, E), k (B, Hkv, S, E), v (B, Hkv, S, Ev).
 */
function oracle(q: h.Tensor, k: h.Tensor, v: h.Tensor, allowed: Allowed, bias: Bias = () => 0): h.Tensor {
  const [B, H, L, E] = q.shape, [, Hkv, S] = k.shape, Ev = v.shape[3];
  const out = new Float32Array(B * H * L * Ev);
  const scale = 1 / Math.sqrt(E);
  for (let b = 0; b < B; b++) for (let hh = 0; hh < H; hh++) {
    const hk = Math.floor(hh / (H / Hkv));
    for (let i = 0; i < L; i++) {
      const s: number[] = [];
      for (let j = 0; j < S; j++) {
        if (!allowed(b, hh, i, j)) { s.push(-Infinity); continue; }
        let dot = 0;
        for (let e = 0; e < E; e++) dot += q.data[((b * H + hh) * L + i) * E + e] * k.data[((b * Hkv + hk) * S + j) * E + e];
        s.push(scale * dot + bias(b, hh, i, j));
      }
      const max = Math.max(...s);
      if (max === -Infinity) continue;
      const p = s.map((x) => Math.exp(x - max));
      const z = p.reduce((a, c) => a + c, 0);
      for (let d = 0; d < Ev; d++) {
        let acc = 0;
        for (let j = 0; j < S; j++) acc += (p[j] / z) * v.data[((b * Hkv + hk) * S + j) * Ev + d];
        out[((b * H + hh) * L + i) * Ev + d] = acc;
      }
    }
  }
  return h.tensor(out, [B, H, L, Ev]);
}

interface Case {
  name: string;
  dims: [B: number, H: number, Hkv: number, L: number, S: number];
  options: h.AttentionOptions;
  /** The mask built by hand from the forms' definitions. */
  allowed: Allowed;
  bias?: Bias;
}

function cases(): Case[] {
  const rnd = lcg(7);
  const list: Case[] = [];
  // Where the diagonal sits: top-left p_i = i, bottom-right p_i = i + S − L.
  list.push({ name: 'causal top-left, L < S', dims: [2, 2, 2, 3, 5], options: { isCausal: true }, allowed: (_b, _h, i, j) => j <= i });
  list.push({ name: 'causal bottom-right, L < S', dims: [2, 2, 2, 3, 5], options: { isCausal: true, causalAlignment: 'bottom-right' }, allowed: (_b, _h, i, j) => j <= i + 2 });
  list.push({ name: 'causal top-left, L > S', dims: [1, 2, 2, 5, 3], options: { isCausal: true }, allowed: (_b, _h, i, j) => j <= i });
  list.push({ name: 'causal bottom-right, L > S (first rows see nothing)', dims: [1, 2, 2, 5, 3], options: { isCausal: true, causalAlignment: 'bottom-right' }, allowed: (_b, _h, i, j) => j <= i - 2 });

  const boolMask = Array.from({ length: 2 * 4 * 6 }, () => rnd() < 0.7);
  list.push({
    name: 'bool attnMask (B, 1, L, S) AND suffix keyPaddingMask AND causal', dims: [2, 2, 2, 4, 6],
    options: { attnMask: h.tensor(boolMask.map(Number), [2, 1, 4, 6], { dtype: 'bool' }), keyPaddingMask: h.tensor([0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0], [2, 6], { dtype: 'bool' }), isCausal: true },
    allowed: (b, _h, i, j) => boolMask[(b * 4 + i) * 6 + j] && !(b === 0 && j >= 4) && j <= i,
  });
  const holes = [1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0];
  list.push({
    name: 'keyPaddingMask with holes AND keyLengths', dims: [2, 2, 2, 4, 6],
    options: { keyPaddingMask: h.tensor(holes, [2, 6], { dtype: 'bool' }), keyLengths: h.tensor([6, 3], [2], { dtype: 'int32' }) },
    allowed: (b, _h, i, j) => !holes[b * 6 + j] && j < [6, 3][b],
  });
  const floatMask = Array.from({ length: 4 * 6 }, () => rnd() * 2 - 1);
  const slopes = [0.5, 0.125];
  list.push({
    name: 'float attnMask (L, S) + ALiBi, bottom-right causal, GQA', dims: [2, 2, 1, 4, 6],
    options: { attnMask: h.tensor(floatMask, [4, 6]), alibiSlopes: h.tensor(slopes), isCausal: true, causalAlignment: 'bottom-right', enableGqa: true },
    allowed: (_b, _h, i, j) => j <= i + 2,
    bias: (_b, hh, i, j) => floatMask[i * 6 + j] + slopes[hh] * (j - i - 2),
  });

  // Sliding windows: a causal band, a bidirectional band with L ≠ S, and one with every other form.
  list.push({ name: 'window 3, causal, L = S = 40', dims: [1, 2, 2, 40, 40], options: { slidingWindow: 3, isCausal: true }, allowed: (_b, _h, i, j) => j <= i && j > i - 3 });
  list.push({
    name: 'window 4, bidirectional, bottom-right, L = 20 < S = 37', dims: [1, 2, 2, 20, 37],
    options: { slidingWindow: 4, causalAlignment: 'bottom-right' }, allowed: (_b, _h, i, j) => Math.abs(i + 17 - j) < 4,
  });
  const padHoles = Array.from({ length: 2 * 50 }, () => (rnd() < 0.15 ? 1 : 0));
  list.push({
    name: 'window 20, causal, padding holes, ALiBi, GQA, L = S = 50', dims: [2, 2, 1, 50, 50],
    options: { slidingWindow: 20, isCausal: true, keyPaddingMask: h.tensor(padHoles, [2, 50], { dtype: 'bool' }), alibiSlopes: h.tensor(slopes), enableGqa: true },
    allowed: (b, _h, i, j) => j <= i && j > i - 20 && !padHoles[b * 50 + j],
    bias: (_b, hh, i, j) => slopes[hh] * (j - i),
  });

  // Block layouts: local + global (gathered keys are not one run), and a random layout.
  const lg = nn.localGlobalLayout(5, 1, 1);
  list.push({
    name: 'local + global layout, causal, ALiBi, keyLengths', dims: [2, 2, 2, 18, 18],
    options: { blockLayout: { blockSize: 4, layout: lg }, isCausal: true, alibiSlopes: h.tensor(slopes), keyLengths: h.tensor([18, 11], [2], { dtype: 'int32' }) },
    allowed: (b, _h, i, j) => lg[Math.floor(i / 4)][Math.floor(j / 4)] && j <= i && j < [18, 11][b],
    bias: (_b, hh, i, j) => slopes[hh] * (j - i),
  });
  // Row 0 skips key tile 1, so its causal edge cuts a gathered tile that follows a gap: not the kernel's diagonal.
  const rl = [[true, false, true, false, true], ...Array.from({ length: 3 }, () => Array.from({ length: 5 }, () => rnd() < 0.5))];
  list.push({
    name: 'random layout, L = 13 < S = 18, causal bottom-right, ALiBi', dims: [1, 2, 2, 13, 18],
    options: { blockLayout: { blockSize: 4, layout: rl }, isCausal: true, causalAlignment: 'bottom-right', alibiSlopes: h.tensor(slopes) },
    allowed: (_b, _h, i, j) => rl[Math.floor(i / 4)][Math.floor(j / 4)] && j <= i + 5,
    bias: (_b, hh, i, j) => slopes[hh] * (j - i),
  });
  return list;
}

test('every mask form equals attention with a hand-built mask, on the fused kernel and the composed path', () => {
  for (const backend of backends) {
    h.setBackend(backend);
    h.manualSeed(11);
    for (const c of cases()) {
      const [B, H, Hkv, L, S] = c.dims;
      const q = h.randn([B, H, L, 4]), k = h.randn([B, Hkv, S, 4]), v = h.randn([B, Hkv, S, 3]);
      const want = oracle(q, k, v, c.allowed, c.bias);
      assert.ok(maxDiff(h.scaledDotProductAttention(q, k, v, c.options), want) < 2e-5, `${backend}: ${c.name}`);
      assert.ok(maxDiff(h.scaledDotProductAttentionReference(q, k, v, c.options), want) < 2e-5, `${backend} reference: ${c.name}`);
    }
  }
});

test('isCausal is top-left by default (PyTorch) and bottom-right on request, on the functional op and the module', () => {
  assert.deepEqual(Array.from(nn.allowedMask({ isCausal: true }, 2, 4).data), [1, 0, 0, 0, 1, 1, 0, 0]);
  assert.deepEqual(Array.from(nn.allowedMask({ isCausal: true, causalAlignment: 'bottom-right' }, 2, 4).data), [1, 1, 1, 0, 1, 1, 1, 1]);
  assert.deepEqual(Array.from(nn.maskedSoftmax(h.zeros([1, 1, 2, 4]), { isCausal: true }).data), [1, 0, 0, 0, 0.5, 0.5, 0, 0]);
  assert.deepEqual(Array.from(nn.maskedSoftmax(h.zeros([1, 1, 2, 4]), { isCausal: true, causalAlignment: 'bottom-right' }).data).map((x) => +x.toFixed(4)), [0.3333, 0.3333, 0.3333, 0, 0.25, 0.25, 0.25, 0.25]);
  h.manualSeed(12);
  const mha = new nn.MultiheadAttention(8, 2);
  const x = h.randn([2, 3, 8]), mem = h.randn([2, 5, 8]);
  const split = (t: h.Tensor): h.Tensor => h.transpose(h.reshape(t, [2, t.shape[1], 2, 4]), 1, 2); // (B, H, T, hd)
  for (const causalAlignment of ['top-left', 'bottom-right'] as const) {
    const y = h.scaledDotProductAttention(split(mha.qProj.forward(x)), split(mha.kProj.forward(mem)), split(mha.vProj.forward(mem)), { isCausal: true, causalAlignment }); // (B, H, 3, hd)
    const byHand = mha.outProj.forward(h.reshape(h.transpose(y, 1, 2), [2, 3, 8]));
    const options = causalAlignment === 'top-left' ? { isCausal: true } : { isCausal: true, causalAlignment };
    assert.ok(maxDiff(mha.forward(x, mem, mem, options).output, byHand) < 1e-5, causalAlignment);
    assert.ok(maxDiff(mha.forward(x, mem, mem, { ...options, needWeights: true }).output, byHand) < 1e-5, `${causalAlignment}, weights path`);
  }
  assert.throws(() => h.scaledDotProductAttention(x, x, x, { isCausal: true, causalAlignment: 'diagonal' as 'top-left' }), h.ValueError);
});

test('KV-cache decoding (one token and chunks) equals the full forward, with GQA, ALiBi and RoPE', () => {
  h.manualSeed(13);
  for (const options of [{ numKvHeads: 2, alibi: true }, { numKvHeads: 1, rotary: true }]) {
    const attn = new nn.MultiheadAttention(16, 4, options);
    const x = h.randn([2, 7, 16]);
    const full = attn.forward(x, x, x, { isCausal: true }).output;
    for (const chunks of [[1, 1, 1, 1, 1, 1, 1], [3, 2, 2]]) {
      const cache = new nn.KVCache();
      const steps: h.Tensor[] = [];
      let t = 0;
      for (const n of chunks) {
        const xt = h.narrow(x, 1, t, n);
        steps.push(attn.forward(xt, xt, xt, { isCausal: true, kvCache: cache, needWeights: n === 2 }).output);
        t += n;
      }
      assert.ok(maxDiff(h.cat(steps, 1), full) < 1e-5, `${JSON.stringify(options)} chunks ${chunks}`);
    }
    const cache = new nn.KVCache();
    attn.forward(h.narrow(x, 1, 0, 2), undefined, undefined, { isCausal: true, kvCache: cache });
    const next = h.narrow(x, 1, 2, 1);
    assert.throws(() => attn.forward(next, next, next, { isCausal: true, kvCache: cache, causalAlignment: 'top-left' }), (e: Error) => e instanceof h.ValueError && /bottom-right/.test(e.message));
  }
});

test('a sliding window runs tile by tile: no tile reads keys outside its band, and no mask is L×S', () => {
  const L = 1000, w = 8;
  const m = resolveMask('test', { slidingWindow: w, isCausal: true }, [1, 1, L, L]);
  const tiles = maskTiles(m)!;
  let pairs = 0;
  for (const t of tiles) {
    assert.ok(t.keys.length <= t.ql + w - 1, `tile at ${t.q0} reads ${t.keys.length} keys`);
    assert.ok(t.keys[0] >= Math.max(0, t.q0 - w + 1) && t.keys[t.keys.length - 1] <= t.q0 + t.ql - 1);
    const km = kernelMask(tileOf(m, t));
    assert.ok(km.causal, 'the upper edge of the band is the kernel diagonal');
    assert.ok(km.mask !== null && km.mask.length === t.ql * t.keys.length, 'the lower edge is a tile-sized mask');
    pairs += t.ql * t.keys.length;
  }
  assert.deepEqual(tiles.map((t) => t.q0 + t.ql).at(-1), L);
  assert.ok(pairs < L * 30, `${pairs} scores computed, dense would be ${L * L}`);
  // Without a window or layout nothing is tiled, and plain forms need no mask array at all.
  const plain = resolveMask('test', { isCausal: true, keyPaddingMask: h.tensor([0, 0, 1], [1, 3], { dtype: 'bool' }) }, [1, 2, 3, 3]);
  assert.equal(maskTiles(plain), null);
  const km = kernelMask(plain);
  assert.deepEqual([km.causal, km.causalOffset, Array.from(km.keyLengths!), km.mask], [true, 0, [2], null]);
});

test('tiled sliding-window attention equals the dense-band reference in outputs and gradients', () => {
  for (const backend of backends) {
    h.setBackend(backend);
    h.manualSeed(14);
    const mk = (shape: number[]): h.Tensor => h.randn(shape, { requiresGrad: true });
    const q = mk([2, 2, 70, 8]), k = mk([2, 2, 70, 8]), v = mk([2, 2, 70, 8]), bias = mk([70, 70]);
    const g = h.randn([2, 2, 70, 8]);
    for (const options of [{ slidingWindow: 5, isCausal: true }, { slidingWindow: 30 }, { slidingWindow: 5, isCausal: true, attnMask: bias }]) {
      const grads = (f: typeof h.scaledDotProductAttention): h.Tensor[] => {
        for (const t of [q, k, v, bias]) t.grad = null;
        const out = f(q, k, v, options);
        h.sum(h.mul(out, g)).backward();
        return [out, q.grad!, k.grad!, v.grad!, ...(options.attnMask ? [bias.grad!] : [])];
      };
      const tiled = grads(h.scaledDotProductAttention), dense = grads(h.scaledDotProductAttentionReference);
      tiled.forEach((t, i) => assert.ok(maxDiff(t, dense[i]) < 1e-4, `${backend} ${JSON.stringify(Object.keys(options))}: tensor ${i}`));
    }
  }
});

test('SlidingWindowAttention equals MultiheadAttention with its band as attnMask, and decodes with a KV cache', () => {
  h.manualSeed(15);
  for (const causal of [true, false]) {
    const swa = new nn.SlidingWindowAttention(8, 2, { window: 4, causal });
    const dense = new nn.MultiheadAttention(8, 2);
    dense.loadStateDict(swa.stateDict());
    const x = h.randn([2, 40, 8]);
    const band = nn.slidingWindowMask(40, 40, 4, causal);
    assert.ok(maxDiff(swa.forward(x).output, dense.forward(x, x, x, { attnMask: band }).output) < 1e-5, `causal=${causal}`);
    const pad = h.tensor(Array.from({ length: 80 }, (_, i) => (i % 40 >= 35 ? 1 : 0)), [2, 40], { dtype: 'bool' });
    assert.ok(maxDiff(swa.forward(x, x, x, { keyPaddingMask: pad }).output, dense.forward(x, x, x, { attnMask: band, keyPaddingMask: pad }).output) < 1e-5, `causal=${causal}, padded`);
  }
  const swa = new nn.SlidingWindowAttention(8, 2, { window: 3 });
  const x = h.randn([1, 9, 8]);
  const cache = new nn.KVCache();
  const steps: h.Tensor[] = [];
  for (let t = 0; t < 9; t++) { const xt = h.narrow(x, 1, t, 1); steps.push(swa.forward(xt, xt, xt, { kvCache: cache }).output); }
  assert.ok(maxDiff(h.cat(steps, 1), swa.forward(x).output) < 1e-5);
});

test('bad mask options are typed errors naming the argument', () => {
  const q = h.randn([1, 2, 4, 4]);
  assert.throws(() => h.scaledDotProductAttention(q, q, q, { slidingWindow: 0 }), (e: Error) => e instanceof h.ValueError && /slidingWindow=0/.test(e.message));
  assert.throws(() => h.scaledDotProductAttention(q, q, q, { keyLengths: h.tensor([4, 4], [2], { dtype: 'int32' }) }), (e: Error) => e instanceof h.ShapeError && /keyLengths/.test(e.message) && /\[1\]/.test(e.message));
  assert.throws(() => h.scaledDotProductAttention(q, q, q, { keyPaddingMask: h.zeros([1, 4]) }), h.DTypeError);
  assert.throws(() => h.scaledDotProductAttention(q, q, q, { alibiSlopes: h.ones([3]) }), (e: Error) => e instanceof h.ShapeError && /alibiSlopes/.test(e.message));
  assert.throws(() => h.scaledDotProductAttention(q, q, q, { blockLayout: { blockSize: 2, layout: [[true]] } }), (e: Error) => e instanceof h.ShapeError && /2×2/.test(e.message));
});

test('gradcheck in float64: tiled window and layout attention, into q, k, v and a float attnMask', () => {
  h.manualSeed(16);
  const r = (shape: number[]): h.Tensor => h.randn(shape, { dtype: 'float64', requiresGrad: true });
  const q = r([1, 2, 20, 3]), k = r([1, 2, 20, 3]), v = r([1, 2, 20, 2]), bias = r([20, 20]);
  const window = h.gradcheck((a, b, c, m) => h.scaledDotProductAttention(a, b, c, { slidingWindow: 3, isCausal: true, attnMask: m }), [q, k, v, bias]);
  assert.ok(window.ok, JSON.stringify(window));
  const layout = { blockSize: 4, layout: nn.localGlobalLayout(5, 1, 1) };
  const sparse = h.gradcheck((a, b, c) => h.scaledDotProductAttention(a, b, c, { blockLayout: layout, isCausal: true }), [q, k, v]);
  assert.ok(sparse.ok, JSON.stringify(sparse));
});
