/**
 * Hugging Face checkpoints against PyTorch: fromPretrained builds each architecture from a
 * directory that tools/fixtures/make_hf_fixtures.py wrote (HF's names and semantics rebuilt in
 * plain PyTorch, random weights, F32 / F16 / BF16, one file or shards), and its logits equal
 * PyTorch's to 1e-4 on a right-padded batch with an attention mask. Then savePretrained writes
 * the model back and the copy loads to the same weights and logits, bit for bit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as h from '../../src/index.ts';
import { models } from '../../src/index.ts';

interface J { shape: number[]; data: number[] }
interface IO { architecture: string; dtype: string; inputs: Record<string, J>; logits: J }

const DIR = new URL('../fixtures/hf/', import.meta.url).pathname;
const TOL = 1e-4;
const names = readdirSync(DIR).sort();

function run(m: models.PretrainedModel, io: IO): h.Tensor {
  const i = io.inputs;
  const int = (j: J): h.Tensor => h.tensor(j.data, j.shape, { dtype: 'int32' });
  if (m instanceof models.ViT) return m.forward(h.tensor(i.pixel_values.data, i.pixel_values.shape));
  if (m instanceof models.GPT) return m.forward(int(i.input_ids), null, { attentionMask: int(i.attention_mask) });
  return m.forward(int(i.input_ids), { attentionMask: int(i.attention_mask), tokenTypeIds: i.token_type_ids ? int(i.token_type_ids) : null });
}

function maxErr(a: h.Tensor, j: J): number {
  assert.deepEqual([...a.shape], j.shape);
  let m = 0;
  for (let k = 0; k < a.size; k++) m = Math.max(m, Math.abs(a.data[k] - j.data[k]) / Math.max(1, Math.abs(j.data[k])));
  return m;
}

test('there is a PyTorch-made checkpoint for every architecture the issue names', () => {
  const archs = new Set(names.map((n) => (JSON.parse(readFileSync(join(DIR, n, 'io.json'), 'utf8')) as IO).architecture));
  for (const a of ['BertModel', 'BertForMaskedLM', 'BertForSequenceClassification', 'BertForTokenClassification', 'RobertaForMaskedLM',
    'RobertaForSequenceClassification', 'RobertaForTokenClassification', 'DistilBertForMaskedLM', 'DistilBertForSequenceClassification',
    'DistilBertForTokenClassification', 'GPT2LMHeadModel', 'ViTForImageClassification']) assert.ok(archs.has(a), `no fixture for ${a}`);
});

for (const name of names) {
  const io = JSON.parse(readFileSync(join(DIR, name, 'io.json'), 'utf8')) as IO;
  test(`${io.architecture} (${name}, ${io.dtype}): fromPretrained logits match PyTorch to 1e-4 on a padded batch, and savePretrained round-trips bit-identically`, async () => {
    let report: models.PretrainedLoadReport | null = null;
    const m = await h.fromPretrained(join(DIR, name), { strict: true, onReport: (r) => { report = r; } });
    assert.equal(report!.architecture, io.architecture);
    assert.deepEqual(report!.newlyInitialized, []);
    assert.deepEqual(report!.unexpectedKeys, []);
    assert.equal(m.training, false, 'fromPretrained returns the model in eval mode');
    const logits = run(m, io);
    const err = maxErr(logits, io.logits);
    assert.ok(err < TOL, `${name}: logits differ from PyTorch by ${err}`);

    const out = mkdtempSync(join(tmpdir(), 'heed-hf-'));
    try {
      await h.savePretrained(m, out, { overwrite: true });
      const back = await h.fromPretrained(out, { strict: true });
      assert.equal(back.constructor, m.constructor);
      const a = m.stateDict(), b = back.stateDict();
      assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort());
      for (const k of Object.keys(a)) assert.deepEqual(b[k].data, a[k].data, `${name}: ${k} changed in the round trip`);
      assert.deepEqual(run(back, io).data, logits.data);
      const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
      const src = JSON.parse(readFileSync(join(DIR, name, 'config.json'), 'utf8')) as Record<string, unknown>;
      assert.deepEqual(cfg.architectures, src.architectures);
      if (src.id2label) assert.deepEqual(cfg.id2label, src.id2label, 'label names survive the round trip');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
}
