/**
 * The dropout backward of linearDropout's output folded into the backward of the layerNorm that reads
 * it (ops/residual-grad.ts DropoutGrad, kernel layerNormBackwardDropout): the same gradients as the
 * composed linear → dropout → layerNorm, with no dropoutBackwardBias call; and when the output has a
 * second consumer (the tape sums its gradients), linearDropout computes dz itself, still correctly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { k } from '../../src/backend/registry.ts';
import { linearDropout } from '../../src/ops/linear-fused.ts';
import { maxDiff } from '../tensors.ts';

function counting<T>(names: string[], fn: () => T): { result: T; calls: Record<string, number> } {
  const table = k as unknown as Record<string, (p: unknown) => unknown>;
  const saved = names.map((n) => table[n]);
  const calls: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  names.forEach((n, i) => { table[n] = (p: unknown) => { calls[n]++; return saved[i](p); }; });
  try {
    return { result: fn(), calls };
  } finally {
    names.forEach((n, i) => { table[n] = saved[i]; });
  }
}

for (const secondUse of [false, true]) for (const bias of [true, false]) {
  test(`linearDropout → layerNorm: the norm's backward does the dropout backward (${bias ? 'bias' : 'no bias'}${secondUse ? ', output used twice: not folded' : ''})`, () => {
    const g = new h.Generator(6);
    const x = h.randn([3, 7, 12], { generator: g, requiresGrad: true });
    const W = h.randn([20, 12], { generator: g, requiresGrad: true });
    const b = bias ? h.randn([20], { generator: g, requiresGrad: true }) : null;
    const lw = h.randn([20], { generator: g, requiresGrad: true }), lb = h.randn([20], { generator: g, requiresGrad: true });
    const up = h.randn([3, 7, 20], { generator: g });
    const run = (fused: boolean) => {
      for (const t of [x, W, b, lw, lb]) if (t) t.grad = null;
      const y = fused ? linearDropout(x, W, b, { p: 0.3, generator: new h.Generator(11) }) : h.dropout(h.linear(x, W, b), 0.3, { generator: new h.Generator(11) });
      let loss = h.sum(h.mul(h.layerNorm(y, [20], lw, lb), up));
      if (secondUse) loss = h.add(loss, h.sum(h.mul(y, y)));
      loss.backward();
      return { gx: x.grad!, gW: W.grad!, gb: b?.grad ?? null, glw: lw.grad! };
    };
    const f = counting(['dropoutBackwardBias', 'dropout', 'layerNormBackwardDropout', 'layerNormBackward'], () => run(true));
    const c = run(false);
    if (secondUse) assert.equal(f.calls.dropoutBackwardBias + f.calls.dropout, 1, 'not folded: linearDropout computes dz');
    else {
      assert.equal(f.calls.dropoutBackwardBias + f.calls.dropout, 0, 'folded: no separate dropout backward');
      assert.equal(f.calls.layerNormBackwardDropout, 1);
    }
    for (const key of ['gx', 'gW', 'glw'] as const) assert.ok(maxDiff(f.result[key], c[key]) < 1e-4, `${key} differs by ${maxDiff(f.result[key], c[key])}`);
    if (bias) assert.ok(maxDiff(f.result.gb!, c.gb!) < 1e-4, `gb differs by ${maxDiff(f.result.gb!, c.gb!)}`);
  });
}
