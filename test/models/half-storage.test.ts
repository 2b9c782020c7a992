/**
 * 16-bit weight storage for inference (fromPretrained's dtype): the logits of every PyTorch-made
 * fixture stay within 16-bit rounding of the float32 model's (padded batches included), the
 * resident weight bytes halve, tied weights stay one table, and the bad inputs are typed errors
 * (an unknown dtype, saving a 16-bit model, a float16 overflow, an id out of range).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as h from '../../src/index.ts';
import { HalfEmbedding, HalfLinear, toHalfStorage } from '../../src/models/half-storage.ts';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'hf');
const quiet = { onReport: () => {} };

interface Io {
  inputs: Record<string, { shape: number[]; data: number[] }>;
}

function inputs(name: string): { ids: h.Tensor; options: Record<string, h.Tensor> } {
  const io = JSON.parse(readFileSync(join(FIX, name, 'io.json'), 'utf8')) as Io;
  const int = (k: string) => new h.Tensor(Int32Array.from(io.inputs[k].data), io.inputs[k].shape);
  const options: Record<string, h.Tensor> = {};
  if (io.inputs.attention_mask) options.attentionMask = int('attention_mask');
  if (io.inputs.token_type_ids) options.tokenTypeIds = int('token_type_ids');
  return { ids: int('input_ids'), options };
}

/** Largest |a − b| relative to the largest |a|. */
function relDiff(a: h.Tensor, b: h.Tensor): number {
  let d = 0, m = 0;
  for (let i = 0; i < a.size; i++) {
    d = Math.max(d, Math.abs(a.data[i] - b.data[i]));
    m = Math.max(m, Math.abs(a.data[i]));
  }
  return d / m;
}

for (const name of ['bert_mlm', 'bert_seqcls', 'roberta_tokcls', 'distilbert_mlm', 'gpt2_lm']) {
  test(`${name}: float16 and bfloat16 storage compute the float32 logits within 16-bit rounding`, async () => {
    const { ids, options } = inputs(name);
    const call = (m: h.Module) => (m as unknown as { forward(x: h.Tensor, o?: unknown): h.Tensor }).forward(ids, name.startsWith('gpt2') ? undefined : options);
    const ref = call(await h.fromPretrained(join(FIX, name), quiet));
    const f16 = await h.fromPretrained(join(FIX, name), { ...quiet, dtype: 'float16' });
    assert.ok(f16.namedModules().some(([, m]) => m instanceof HalfLinear), 'Linear layers are 16-bit');
    assert.ok(!f16.namedModules().some(([, m]) => m instanceof h.nn.Linear || m instanceof h.nn.Embedding), 'no float32 Linear or Embedding is left');
    const d16 = relDiff(ref, call(f16));
    assert.ok(d16 < 5e-3, `float16: relative difference ${d16}`);
    const dbf = relDiff(ref, call(await h.fromPretrained(join(FIX, name), { ...quiet, dtype: 'bfloat16' })));
    assert.ok(dbf < 4e-2, `bfloat16: relative difference ${dbf}`);
  });
}

test('16-bit storage halves the weight bytes, and a tied table is stored once', async () => {
  const m = await h.fromPretrained(join(FIX, 'bert_mlm'), quiet);
  const floatBytes = m.namedParameters().filter(([n]) => /(Embed|Proj|linear\d|dense|decoder|pooler)/.test(n) && n.endsWith('weight')).reduce((s, [, p]) => s + 4 * p.size, 0);
  const tied = (m as h.models.BertForMaskedLM).lmHead.decoder.weight === (m as h.models.BertForMaskedLM).backbone.tokEmbed.weight;
  const r = toHalfStorage(m, 'float16');
  assert.equal(r.float32Bytes, 2 * r.halfBytes);
  assert.ok(r.halfBytes > 0 && r.halfBytes * 2 <= floatBytes, `${r.halfBytes} B in 16 bits for ${floatBytes} B of float32 weights`);
  const bert = m as unknown as { backbone: { tokEmbed: HalfEmbedding }; lmHead: { decoder: HalfLinear } };
  if (tied) assert.equal(bert.lmHead.decoder.weightHalf, bert.backbone.tokEmbed.weightHalf, 'the tied decoder shares the embedding\'s 16-bit table');
});

test('bad input: an unknown dtype, saving a 16-bit model, a float16 overflow and an id out of range are typed errors', async () => {
  await assert.rejects(h.fromPretrained(join(FIX, 'bert_base'), { ...quiet, dtype: 'int8' as never }), (e: Error) => e instanceof h.ConfigError && /dtype 'int8'/.test(e.message));
  const m = await h.fromPretrained(join(FIX, 'bert_base'), { ...quiet, dtype: 'bfloat16' });
  const dir = mkdtempSync(join(tmpdir(), 'heed-half-'));
  try {
    await assert.rejects(h.savePretrained(m, dir), (e: Error) => e instanceof h.ConfigError && /16-bit inference storage/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const big = await h.fromPretrained(join(FIX, 'bert_base'), quiet);
  (big as h.models.Bert).pooler!.weight.data[0] = 1e6;
  assert.throws(() => toHalfStorage(big, 'float16'), (e: Error) => e instanceof h.ValueError && /beyond float16's range/.test(e.message));
  assert.ok(big.namedModules().every(([, x]) => !(x instanceof HalfLinear)), 'a refused model is left as it was');
  const emb = await h.fromPretrained(join(FIX, 'bert_base'), { ...quiet, dtype: 'float16' });
  assert.throws(() => (emb as h.models.Bert).forward(new h.Tensor(Int32Array.from([1, 999]), [1, 2])), (e: Error) => e instanceof h.IndexError && /id 999/.test(e.message));
});
