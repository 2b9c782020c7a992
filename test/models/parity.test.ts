/**
 * PyTorch oracles for whole models: logits, loss and the gradient of every parameter of
 * EncoderClassifier, TokenTagger, ViT, MultimodalFusion and LstmAttentionSeq2Seq against
 * plain-torch models loaded with the same weights, and the losses of the first plain SGD
 * steps (tools/fixtures/make_model_fixtures.py, which also checks its building blocks
 * against torch.nn's).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as h from '../../src/index.ts';
import { models, nn } from '../../src/index.ts';

interface J { shape: number[]; dtype: 'float32' | 'int32'; data: number[] }
interface Fixture {
  model: string; config: Record<string, unknown>; weights: Record<string, J>; inputs: Record<string, J>;
  labels: J; ignoreIndex: number; logits: J; loss: number; grads: Record<string, J>;
  /** Losses after each of a few plain SGD steps (p -= lr · grad) from the fixture's weights. */
  sgd: { lr: number; losses: number[] };
}

/**
 * float32 against float64 golden values, absolute for small values and relative for large ones.
 * The measured worst is 3e-7 (logits, loss and gradients); the SGD losses drift a little more.
 */
const TOL = 1e-5;
const SGD_TOL = 1e-4;
const DIR = new URL('../fixtures/models/', import.meta.url);
const load = (name: string): Fixture => JSON.parse(readFileSync(new URL(`${name}.json`, DIR), 'utf8')) as Fixture;
const T = (j: J): h.Tensor => h.tensor(j.data, j.shape, { dtype: j.dtype });

function maxErr(a: h.Tensor, j: J, what: string): number {
  assert.deepEqual([...a.shape], j.shape, `${what}: shape`);
  let m = 0;
  for (let i = 0; i < a.size; i++) m = Math.max(m, Math.abs(a.data[i] - j.data[i]) / Math.max(1, Math.abs(j.data[i])));
  return m;
}

const BUILD: Record<string, (c: Record<string, unknown>) => nn.Module> = {
  EncoderClassifier: (c) => models.EncoderClassifier.fromConfig(c),
  TokenTagger: (c) => models.TokenTagger.fromConfig(c),
  ViT: (c) => models.ViT.fromConfig(c),
  MultimodalFusion: (c) => models.MultimodalFusion.fromConfig(c),
  LstmAttentionSeq2Seq: (c) => models.LstmAttentionSeq2Seq.fromConfig(c),
};

/** How each model is called on the fixture's inputs. */
const RUN: Record<string, (m: nn.Module, i: Record<string, h.Tensor>) => h.Tensor> = {
  EncoderClassifier: (m, i) => (m as models.EncoderClassifier).forward(i.ids),
  TokenTagger: (m, i) => (m as models.TokenTagger).forward(i.ids),
  ViT: (m, i) => (m as models.ViT).forward(i.images),
  MultimodalFusion: (m, i) => (m as models.MultimodalFusion).forward(i.ids, i.images),
  LstmAttentionSeq2Seq: (m, i) => (m as models.LstmAttentionSeq2Seq).forward(i.src, i.tgtIn),
};

const names = readdirSync(DIR).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();

test('there is a PyTorch fixture for every model the issue names', () => {
  const covered = new Set(names.map((n) => load(n).model));
  for (const m of Object.keys(BUILD)) assert.ok(covered.has(m), `no fixture for ${m}`);
});

for (const name of names) {
  const fx = load(name);
  test(`${fx.model} (${name}): logits, loss, every parameter gradient and the first SGD steps' losses match PyTorch`, () => {
    const m = BUILD[fx.model](fx.config);
    const weights = Object.fromEntries(Object.entries(fx.weights).map(([k, v]) => [k, T(v)]));
    assert.deepEqual(m.loadStateDict(weights, { strict: true }), { missingKeys: [], unexpectedKeys: [] });
    m.train(); // dropout is 0 in every fixture's config, so train mode must equal PyTorch too
    const inputs = Object.fromEntries(Object.entries(fx.inputs).map(([k, v]) => [k, T(v)]));
    const logits = RUN[fx.model](m, inputs);
    const eLogits = maxErr(logits, fx.logits, `${name} logits`);
    assert.ok(eLogits < TOL, `${name}: logits differ by ${eLogits}`);
    const lossOf = (y: h.Tensor): h.Tensor => h.crossEntropy(y.reshape([-1, y.shape[y.ndim - 1]]), T(fx.labels).reshape([-1]), { ignoreIndex: fx.ignoreIndex });
    const loss = lossOf(logits);
    assert.ok(Math.abs(loss.item() - fx.loss) < TOL, `${name}: loss ${loss.item()} vs ${fx.loss}`);
    m.zeroGrad();
    loss.backward();
    const params = m.namedParameters();
    // the fixture has a gradient for every parameter, and nothing else: none is skipped, none is missing
    assert.deepEqual(params.map(([k]) => k).sort(), Object.keys(fx.grads).sort(), `${name}: parameter names`);
    for (const [k, p] of params) {
      assert.ok(p.grad, `${name}: ${k} got no gradient`);
      const e = maxErr(p.grad!, fx.grads[k], `${name} grad ${k}`);
      assert.ok(e < TOL, `${name}: gradient of ${k} differs by ${e}`);
    }
    fx.sgd.losses.forEach((want, step) => {
      for (const [, p] of params) for (let i = 0; i < p.size; i++) p.data[i] -= fx.sgd.lr * p.grad!.data[i];
      m.zeroGrad();
      const l = lossOf(RUN[fx.model](m, inputs));
      l.backward();
      assert.ok(Math.abs(l.item() - want) < SGD_TOL * Math.max(1, Math.abs(want)), `${name}: loss after SGD step ${step + 1} is ${l.item()}, PyTorch ${want}`);
    });
  });
}
