/**
 * tfjs-wasm peer of bench/train.ts: the same seq2seq Transformer built from tfjs-core ops
 * (matMul, softmax, layer norm from moments, dropout), trained with tf.variableGrads through
 * optimizer.minimize (tf.train.adam) plus the decoupled weight decay as one mul per variable
 * (tfjs has no AdamW). Single-threaded: Node gives the wasm backend no threads.
 *
 * Embeddings: tf.gather's gradient needs UnsortedSegmentSum, which tfjs-backend-wasm does not
 * have (checked at run time: if gather's gradient works, it is used); otherwise the lookup is
 * a one-hot × embedding-matrix matMul, whose gradient is a matMul too. The row's note says
 * which one ran.
 */
import { createRequire } from 'node:module';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchOptions, BenchRow } from './common.ts';
import { TRAIN_CFG, timeSteps, tokensNote, trainWorkload, type TrainBatch, type TrainCfg } from '../train.ts';

type TF = typeof import('@tensorflow/tfjs-core');
type T = import('@tensorflow/tfjs-core').Tensor;
type Var = import('@tensorflow/tfjs-core').Variable;

/**
 * tfjs-core's gradients live in the side-effect module dist/register_all_gradients.js (the
 * @tensorflow/tfjs union package imports it; tfjs-core's Node bundle has none). Its ESM sources
 * use extensionless imports that Node cannot resolve, so it is bundled here with esbuild (tsx's
 * own dependency) into one file that registers every gradient in tfjs' global registry.
 */
async function registerGradients(): Promise<void> {
  const req = createRequire(import.meta.url);
  const { buildSync } = (await import('esbuild')) as typeof import('esbuild');
  const entry = req.resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  const out = buildSync({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'node', write: false, logLevel: 'silent' });
  const file = join(tmpdir(), `heed-bench-tfjs-grads-${process.pid}.mjs`);
  writeFileSync(file, out.outputFiles[0].text);
  try { await import(pathToFileURL(file).href); } finally { rmSync(file, { force: true }); }
}

export async function run(batch: TrainBatch, opts: BenchOptions = {}, c: TrainCfg = TRAIN_CFG): Promise<BenchRow[]> {
  const workload = trainWorkload(c);
  let tf: TF;
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    tf = await import('@tensorflow/tfjs-core');
    await registerGradients();
    await tf.setBackend('wasm');
    await tf.ready();
  } catch (e) {
    return [{ workload: workload, impl: 'tfjs-wasm', threads: 0, ms: NaN, note: `skipped: ${(e as Error).message}` }];
  }
  const D = c.dModel, H = c.heads, dh = D / H, F = c.ff, V = c.tgtVocab;
  const { B, S, T } = batch;

  // gather's gradient on this backend?
  let gatherGrad = true, gatherError = '';
  try {
    const w = tf.variable(tf.ones([4, 2]));
    const { grads } = tf.variableGrads(() => tf.sum(tf.gather(w, tf.tensor1d([1, 3], 'int32'))) as import('@tensorflow/tfjs-core').Scalar, [w]);
    grads[w.name].dataSync();
    tf.dispose([w, ...Object.values(grads)]);
  } catch (e) {
    gatherGrad = false;
    gatherError = (e as Error).message;
  }

  let seed = 7;
  const vars: Var[] = [];
  const param = (shape: number[], init: 'w' | 'zeros' | 'ones' | 'emb', fanIn = shape[0]): Var => {
    const t = init === 'zeros' ? tf.zeros(shape) : init === 'ones' ? tf.ones(shape)
      : init === 'emb' ? tf.randomNormal(shape, 0, 1 / Math.sqrt(D), 'float32', seed++)
        : tf.randomUniform(shape, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn), 'float32', seed++);
    const v = tf.variable(t);
    t.dispose();
    vars.push(v);
    return v;
  };
  const ln = () => ({ g: param([D], 'ones'), b: param([D], 'zeros') });
  const lin = (i: number, o: number) => ({ w: param([i, o], 'w'), b: param([o], 'zeros') });
  const ffp = () => ({ l1: lin(D, F), l2: lin(F, D) });
  const srcEmb = param([c.srcVocab, D], 'emb'), tgtEmb = param([V, D], 'emb');
  const enc = Array.from({ length: c.encLayers }, () => ({ n1: ln(), qkv: lin(D, 3 * D), o: lin(D, D), n2: ln(), ff: ffp() }));
  const dec = Array.from({ length: c.decLayers }, () => ({ n1: ln(), qkv: lin(D, 3 * D), o: lin(D, D), n2: ln(), q: lin(D, D), kv: lin(D, 2 * D), co: lin(D, D), n3: ln(), ff: ffp() }));
  const encNorm = ln(), decNorm = ln();

  // constants
  const pe = new Float32Array(48 * D);
  for (let p = 0; p < 48; p++) for (let i = 0; i < D; i += 2) {
    const a = p / Math.pow(10000, i / D);
    pe[p * D + i] = Math.sin(a);
    pe[p * D + i + 1] = Math.cos(a);
  }
  const peS = tf.tensor2d(pe.subarray(0, S * D), [S, D]), peT = tf.tensor2d(pe.subarray(0, T * D), [T, D]);
  const srcIds = tf.tensor1d(batch.src, 'int32'), tgtIds = tf.tensor1d(batch.tgtIn, 'int32');
  const srcOneHot = tf.cast(tf.oneHot(srcIds, c.srcVocab), "float32"), tgtOneHot = tf.cast(tf.oneHot(tgtIds, V), "float32");
  const padAdd = new Float32Array(B * S);
  for (let i = 0; i < B * S; i++) padAdd[i] = batch.src[i] === c.pad ? -1e9 : 0;
  const srcPadMask = tf.tensor4d(padAdd, [B, 1, 1, S]);
  const causal = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) causal[i * T + j] = -1e9;
  const causalMask = tf.tensor2d(causal, [T, T]);
  const targetOneHot = tf.cast(tf.oneHot(tf.tensor1d(batch.tgtOut, "int32"), V), "float32");
  const notPad = tf.tensor1d(Float32Array.from(batch.tgtOut, (t) => (t === c.pad ? 0 : 1)));
  const smooth = tf.add(tf.mul(targetOneHot, 1 - c.labelSmoothing), c.labelSmoothing / V);

  const drop = (x: T) => (c.dropout > 0 ? tf.dropout(x, c.dropout) : x);
  const layerNorm = (x: T, p: { g: Var; b: Var }) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), p.g), p.b);
  };
  const linear = (x2: T, p: { w: Var; b: Var }) => tf.add(tf.matMul(x2, p.w), p.b); // (N, in) → (N, out)
  const heads = (x2: T, L: number) => tf.transpose(tf.reshape(x2, [B, L, H, dh]), [0, 2, 1, 3]); // (B·L, D) → (B, H, L, dh)
  const attend = (q: T, k: T, v: T, mask: T, L: number) => { // → (B·L, D)
    const s = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dh)), mask);
    const o = tf.matMul(drop(tf.softmax(s)), v); // (B, H, L, dh)
    return tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [B * L, D]);
  };
  const selfAttn = (x2: T, p: { qkv: { w: Var; b: Var }; o: { w: Var; b: Var } }, mask: T, L: number) => {
    const [q, k, v] = tf.split(linear(x2, p.qkv), 3, 1);
    return linear(attend(heads(q, L), heads(k, L), heads(v, L), mask, L), p.o);
  };
  const ff = (x2: T, p: ReturnType<typeof ffp>) => linear(drop(tf.relu(linear(x2, p.l1))), p.l2);
  const embed = (oneHot: T, ids: T, emb: Var, pos: T, L: number) => {
    const e = gatherGrad ? tf.gather(emb, ids) : tf.matMul(oneHot, emb); // (B·L, D)
    return tf.reshape(drop(tf.add(tf.reshape(tf.mul(e, Math.sqrt(D)), [B, L, D]), pos)), [B * L, D]);
  };

  const lossFn = () => {
    let x = embed(srcOneHot, srcIds, srcEmb, peS, S); // (B·S, D)
    for (const l of enc) {
      x = tf.add(x, drop(selfAttn(layerNorm(x, l.n1), l, srcPadMask, S)));
      x = tf.add(x, drop(ff(layerNorm(x, l.n2), l.ff)));
    }
    const mem = layerNorm(x, encNorm);
    let y = embed(tgtOneHot, tgtIds, tgtEmb, peT, T); // (B·T, D)
    for (const l of dec) {
      y = tf.add(y, drop(selfAttn(layerNorm(y, l.n1), l, causalMask, T)));
      const q = heads(linear(layerNorm(y, l.n2), l.q), T);
      const [k, v] = tf.split(linear(mem, l.kv), 2, 1);
      y = tf.add(y, drop(linear(attend(q, heads(k, S), heads(v, S), srcPadMask, T), l.co)));
      y = tf.add(y, drop(ff(layerNorm(y, l.n3), l.ff)));
    }
    const logits = tf.matMul(layerNorm(y, decNorm), tgtEmb, false, true); // tied output, (B·T, V)
    const nll = tf.neg(tf.sum(tf.mul(smooth, tf.logSoftmax(logits)), -1)); // (B·T)
    return tf.div(tf.sum(tf.mul(nll, notPad)), batch.tokens) as import('@tensorflow/tfjs-core').Scalar;
  };

  const adam = tf.train.adam(c.lr, 0.9, 0.999, 1e-8);
  const decay = 1 - c.lr * c.weightDecay;
  let last = NaN;
  const step = () => {
    tf.tidy(() => {
      const loss = adam.minimize(lossFn, true, vars)!;
      for (const v of vars) v.assign(tf.mul(v, decay));
      last = loss.dataSync()[0];
    });
  };
  if (process.env.TFJS_TRAIN_DEBUG) {
    for (let i = 0; i < 2; i++) { const t0 = performance.now(); tf.tidy(() => { lossFn().dataSync(); }); console.error('fwd ms', performance.now() - t0); }
    const prof = await tf.profile(() => { tf.tidy(() => { adam.minimize(lossFn, true, vars)!.dataSync(); }); });
    const by = new Map<string, number>();
    for (const k of prof.kernels) by.set(k.name, (by.get(k.name) ?? 0) + (k.kernelTimeMs as number));
    console.error([...by].sort((a, b) => b[1] - a[1]).slice(0, 12));
  }
  step();
  const l0 = last;
  const r = await timeSteps(step, { warm: 1, reps: opts.quick ? 2 : 4, budgetMs: opts.quick ? 5000 : 30000 });
  const nParams = vars.reduce((a, v) => a + v.size, 0);
  tf.dispose([...vars, peS, peT, srcIds, tgtIds, srcOneHot, tgtOneHot, srcPadMask, causalMask, targetOneHot, notPad, smooth]);
  adam.dispose();
  return [{
    workload: workload, impl: `tfjs-wasm ${tf.version_core}`, threads: 1, ms: r.ms,
    note: tokensNote(r.ms, batch.tokens, `median of ${r.n}; loss ${l0.toFixed(2)}→${last.toFixed(2)}; ${nParams} params; embeddings by ${gatherGrad ? 'gather' : `one-hot matMul (gather's gradient: ${gatherError})`}; single-threaded wasm under Node`),
  }];
}
