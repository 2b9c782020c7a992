// The README's TypeScript example runs as written (with 'heed' pointing at the sources), and
// gives what the README says it gives: the shapes in its comments, a causal attention whose
// first position sees only itself, gradients for q, and the printed parameter count and backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import type { Tensor, nn, models, BackendInfo } from '../../src/index.ts';

const root = join(import.meta.dirname, '..', '..');

interface Example { q: Tensor; out: Tensor; mha: nn.MultiheadAttention; x: Tensor; output: Tensor; model: models.Seq2SeqTransformer }

/** Runs the README's ```ts block as a module, returning its top-level names and what it printed. */
async function runExample(): Promise<{ mod: Example; printed: unknown[][] }> {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'README has a ```ts example');
  const code = block[1].replace(`from 'heed'`, `from ${JSON.stringify(pathToFileURL(join(root, 'src', 'index.ts')).href)}`);
  const dir = mkdtempSync(join(tmpdir(), 'heed-readme-'));
  const printed: unknown[][] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => { printed.push(args); };
  try {
    const file = join(dir, 'example.ts');
    writeFileSync(file, code + '\nexport { q, out, mha, x, output, model };\n');
    return { mod: (await import(pathToFileURL(file).href)) as Example, printed };
  } finally {
    console.log = log;
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the README example runs and gives the shapes, values and printout its comments state', async () => {
  const { mod, printed } = await runExample();
  const { q, out, x, output, model } = mod;

  // q: (B, H, L, E) = (2, 8, 128, 64); attention keeps that shape, and backward reaches q
  assert.deepEqual([...q.shape], [2, 8, 128, 64]);
  assert.deepEqual([...out.shape], [2, 8, 128, 64]);
  assert.ok(q.grad, 'out.sum().backward() gives q a gradient');
  assert.deepEqual([...q.grad.shape], [2, 8, 128, 64]);
  assert.ok(q.grad.data.every(Number.isFinite), 'the gradient is finite');
  // isCausal: position 0 attends only to itself, so out[b, h, 0] = v[b, h, 0] = q[b, h, 0]
  const E = 64, L = 128;
  for (let bh = 0; bh < 2 * 8; bh++) {
    for (let e = 0; e < E; e++) {
      const i = bh * L * E + e;
      assert.ok(Math.abs(out.data[i] - q.data[i]) < 1e-5, `out[${bh}, 0, ${e}] = ${out.data[i]}, expected q = ${q.data[i]} (causal)`);
    }
  }

  // MultiheadAttention(256, 8, { numKvHeads: 2 }) on x (B, T, C) = (4, 32, 256), batch first
  assert.deepEqual([...x.shape], [4, 32, 256]);
  assert.deepEqual([...output.shape], [4, 32, 256]);
  assert.ok(output.data.every(Number.isFinite));
  assert.equal(mod.mha.numKvHeads, 2);

  // console.log(model.numParameters(), heed.backendInfo())
  assert.equal(printed.length, 1, 'the example prints one line');
  const [count, info] = printed[0] as [number, BackendInfo];
  // The defaults (d = 256, 2 + 2 layers, feed-forward 1024, pre-norm, output tied to the target
  // embedding) counted by hand: a different architecture, or a tied weight counted twice, changes it.
  const d = 256, f = 1024, attention = 4 * (d * d + d), feedForward = d * f + f + f * d + d, norm = 2 * d;
  const encoderLayer = attention + feedForward + 2 * norm, decoderLayer = 2 * attention + feedForward + 3 * norm;
  const expected = 32 * d + 48 * d + 2 * encoderLayer + 2 * decoderLayer + 2 * norm; // embeddings, layers, final norms
  assert.equal(expected, 3_707_904);
  assert.equal(count, expected, 'model.numParameters() of Seq2SeqTransformer({ srcVocabSize: 32, tgtVocabSize: 48 })');
  assert.equal(model.numParameters(), count);
  assert.equal(info.backend, info.nativeAvailable ? 'native' : 'js', '"fused kernel on native": native is the default when the addon loaded');
});
