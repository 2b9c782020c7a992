import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { models, nn } from '../../src/index.ts';

const cfg = { vocabSize: 13, maxLen: 16, numLayers: 2, numHeads: 2, dModel: 16 };
const ids = (rows: number[][]): h.Tensor => h.tensor(rows, undefined, { dtype: 'int32' });

for (const positional of ['learned', 'rope', 'alibi'] as const) {
  test(`GPT (${positional}): greedy generation on the KV cache equals argmax of full forwards`, () => {
    h.manualSeed(0);
    const gpt = new models.GPT({ ...cfg, positional, numKvHeads: 1 }).eval();
    const prompt = ids([[1, 2, 3], [4, 5, 6]]);
    const out = gpt.generate(prompt, { maxNewTokens: 5, temperature: 0 });
    assert.deepEqual(out.shape, [2, 8]);
    for (let t = 3; t < 8; t++) {
      const logits = gpt.forward(h.narrow(out, 1, 0, t));
      for (let b = 0; b < 2; b++) {
        const row = Array.from(logits.data.slice(((b * t) + t - 1) * 13, (b * t + t) * 13));
        assert.equal(out.data[b * 8 + t], row.indexOf(Math.max(...row)), `b=${b} t=${t}`);
      }
    }
  });
}

test('GPT never reads the future: changing token t changes no logits before t', () => {
  h.manualSeed(1);
  const gpt = new models.GPT({ ...cfg, positional: 'rope' });
  const a = gpt.forward(ids([[1, 2, 3, 4, 5]])), b = gpt.forward(ids([[1, 2, 3, 9, 9]]));
  for (let i = 0; i < 3 * 13; i++) assert.ok(Math.abs(a.data[i] - b.data[i]) < 1e-5);
});

test('sampling is seeded, honours topK, and the lm head is tied', () => {
  h.manualSeed(2);
  const gpt = new models.GPT(cfg);
  const p = ids([[1, 2]]);
  const a = gpt.generate(p, { maxNewTokens: 6, temperature: 1, topK: 3, seed: 7 });
  const b = gpt.generate(p, { maxNewTokens: 6, temperature: 1, topK: 3, seed: 7 });
  assert.deepEqual(Array.from(a.data), Array.from(b.data));
  const g = new h.Generator(3);
  for (let i = 0; i < 50; i++) assert.ok([4, 3].includes(models.sampleRow([0, 1, 2, 5, 6], 1, 2, undefined, g)));
  assert.equal(models.sampleRow([0, 1, 9, 0], 1, undefined, 0.5, g), 2);
  assert.equal(gpt.lmHead.weight, gpt.wte.weight);
  assert.throws(() => gpt.forward(ids([Array(17).fill(1)])), (e: Error) => e instanceof h.ShapeError && /maxLen=16/.test(e.message));
  assert.throws(() => new models.GPT({ ...cfg, nHeads: 2 } as never), (e: Error) => e instanceof h.ConfigError && /nHeads/.test(e.message) && /Valid keys: .*numHeads/.test(e.message));
});

test('RoPE is relative: q·k depends only on j − i', () => {
  const rope = new nn.RotaryEmbedding(8);
  h.manualSeed(4);
  const q = h.randn([1, 1, 1, 8]), k = h.randn([1, 1, 1, 8]);
  const score = (i: number, j: number): number => h.matmul(rope.forward(q, i), h.transpose(rope.forward(k, j), -2, -1)).item();
  assert.ok(Math.abs(score(2, 5) - score(7, 10)) < 1e-4);
  assert.ok(Math.abs(score(0, 3) - score(11, 14)) < 1e-4);
  assert.ok(Math.abs(score(0, 3) - score(0, 4)) > 1e-6);
});

test('ALiBi slopes follow the paper for powers of two and not', () => {
  const s8 = Array.from(nn.alibiSlopes(8).data);
  assert.ok(s8.every((v, i) => Math.abs(v - Math.pow(2, -(i + 1))) < 1e-7));
  const s6 = Array.from(nn.alibiSlopes(6).data);
  const expected = [2 ** -2, 2 ** -4, 2 ** -6, 2 ** -8, 2 ** -1, 2 ** -3]; // paper code: slopes(4) + slopes(8)[0::2][:2]
  s6.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-7, `${i}: ${v} vs ${expected[i]}`));
});

test('gradcheck: a GPT block in float64', () => {
  h.manualSeed(5);
  const block = new models.GPTBlock({ ...models.GPT_DEFAULTS, vocabSize: 5, dModel: 4, numHeads: 2, positional: 'rope' }).to('float64');
  const x = h.randn([1, 3, 4], { dtype: 'float64', requiresGrad: true });
  const r = h.gradcheck((xx) => block.forward(xx), [x, block.attn.kProj.weight]);
  assert.ok(r.ok, JSON.stringify(r));
});
