/**
 * Hugging Face directories behind loadPredictor (and so heed predict / serve / viz): the
 * architecture picks the pipeline task, the directory's tokenizer encodes the text, and the
 * answers are the model's (checked against a direct forward). The PyTorch-made fixtures get
 * tokenizer files here, sized to their 40-token vocabularies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as h from '../../src/index.ts';

const FIX = new URL('../fixtures/hf/', import.meta.url).pathname;
const WORDS = ['paris', 'is', 'the', 'capital', 'of', 'france', 'a', 'fine', 'film', 'ada', 'lives', 'in', 'london', 'rome', 'city', 'big', 'small', 'red',
  'blue', 'green', 'cat', 'dog', 'runs', 'sits', 'on', 'mat', 'and', 'or', 'not', 'very', 'good', 'bad', 'old', 'new', '.'];
const BERT_VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...WORDS].join('\n') + '\n'; // 40 ids
const CHARS = 'abcdefghijklmnopqrstuvwxyz'.split('');
const GPT2_VOCAB = Object.fromEntries([...CHARS, 'Ġ', '.', ',', '!', '?', 'e', 'th', 'he', 'an', 'in', 'er', 'on', '<|endoftext|>'].filter((t, i, a) => a.indexOf(t) === i).slice(0, 40).map((t, i) => [t, i]));

function withTokenizer(name: string, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), `heed-pipe-${name}-`));
  cpSync(join(FIX, name), dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return dir;
}

test('a BERT masked-LM directory is a fill-mask predictor: the blank is filled with the most probable tokens, scores descending', async () => {
  const dir = withTokenizer('bert_mlm', { 'vocab.txt': BERT_VOCAB });
  try {
    const p = await h.loadPredictor(dir);
    assert.equal(p.task, 'fill-mask');
    const [r] = p.predict(['paris is the [MASK] of france .'], { nBest: 3 });
    assert.equal(r.alternatives!.length, 3);
    assert.ok(r.alternatives![0].score >= r.alternatives![1].score && r.alternatives![1].score >= r.alternatives![2].score);
    assert.equal(r.output, r.alternatives![0].output);
    assert.match(r.output as string, /^paris is the \S+ of france ?\.$/);
    // the same answer as the model itself
    const m = await h.fromPretrained(dir, { onReport: () => undefined }) as h.models.BertForMaskedLM;
    const ids = h.tensor([[2, 5, 6, 7, 4, 9, 10, 39, 3]], [1, 9], { dtype: 'int32' });
    const row = Array.from(h.softmax(m.forward(ids), -1).data.subarray(4 * 40, 5 * 40));
    assert.ok(Math.abs(row[row.indexOf(Math.max(...row))] - r.alternatives![0].score) < 1e-6);
    assert.throws(() => p.validateInput('no blank here'), (e: Error) => e instanceof h.ValueError && /no mask token/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sequence- and token-classification directories answer with id2label names, with attention maps per layer', async () => {
  const dir = withTokenizer('bert_seqcls', { 'vocab.txt': BERT_VOCAB });
  const tdir = withTokenizer('bert_tokcls', { 'vocab.txt': BERT_VOCAB });
  try {
    const p = await h.loadPredictor(dir);
    assert.equal(p.task, 'text-classification');
    const [r] = p.predict(['a fine film'], { attention: true });
    assert.ok(['NEG', 'NEU', 'POS'].includes(r.output as string));
    assert.ok(Math.abs(r.alternatives!.reduce((s, a) => s + a.score, 0) - 1) < 1e-5);
    assert.equal(r.attention!.length, 2, 'one map per layer');
    assert.deepEqual(r.attention![0].queryTokens, ['[CLS]', 'a', 'fine', 'film', '[SEP]']);
    assert.equal(r.attention![0].weights.length, 2, 'one matrix per head');
    const t = await h.loadPredictor(tdir);
    assert.equal(t.task, 'token-classification');
    const [tr] = t.predict(['Ada lives in London']);
    const out = tr.output as { word: string; entity: string; start: number; end: number }[];
    assert.deepEqual(out.map((x) => x.word), ['Ada', 'lives', 'in', 'London'], 'special tokens are dropped; words come from the offsets');
    assert.ok(out.every((x) => ['NEG', 'NEU', 'POS'].includes(x.entity)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(tdir, { recursive: true, force: true });
  }
});

test('a GPT-2 directory generates greedily, and a ViT directory classifies pixel arrays', async () => {
  const dir = withTokenizer('gpt2_lm', { 'vocab.json': JSON.stringify(GPT2_VOCAB), 'merges.txt': '#version: 0.2\n' });
  try {
    const p = await h.loadPredictor(dir);
    assert.equal(p.task, 'text-generation');
    const [r] = p.predict(['the cat'], { nBest: 5 });
    assert.ok((r.output as string).startsWith('the cat'));
    const m = await h.fromPretrained(dir, { onReport: () => undefined }) as h.models.GPT;
    const ids = h.tensor([[GPT2_VOCAB.t, GPT2_VOCAB.h, GPT2_VOCAB.e, GPT2_VOCAB['Ġ'], GPT2_VOCAB.c, GPT2_VOCAB.a, GPT2_VOCAB.t]], [1, 7], { dtype: 'int32' });
    const want = Array.from(m.generate(ids, { maxNewTokens: 5, temperature: 0 }).data as Int32Array);
    const byId = Object.fromEntries(Object.entries(GPT2_VOCAB).map(([k, v]) => [v, k]));
    assert.equal(r.output, want.map((i) => byId[i]).join('').replace(/Ġ/g, ' ').replace('<|endoftext|>', ''));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const vit = await h.loadPredictor(join(FIX, 'vit'));
  assert.equal(vit.task, 'image-classification');
  const [v] = vit.predict([{ pixels: Array.from({ length: 3 * 8 * 8 }, (_, i) => Math.sin(i)) }], { attention: true });
  assert.ok(['NEG', 'NEU', 'POS'].includes(v.output as string));
  assert.equal(v.attention![0].queryTokens.length, 5, '[CLS] + 4 patches');
  assert.throws(() => vit.validateInput({ pixels: [1, 2] }), (e: Error) => e instanceof h.ValueError && /192 finite numbers/.test(e.message));
});

test('bad input: a tokenizer that does not match the vocab_size, a missing tokenizer, and a model with a newly initialized head are refused', async () => {
  const big = withTokenizer('bert_seqcls', { 'vocab.txt': BERT_VOCAB + 'extra\n' });
  await assert.rejects(h.loadPredictor(big), (e: Error) => e instanceof h.ConfigError && /vocab_size is 40/.test(e.message));
  rmSync(big, { recursive: true, force: true });
  await assert.rejects(h.loadPredictor(join(FIX, 'bert_seqcls')), (e: Error) => e instanceof h.CheckpointError);
  const base = withTokenizer('bert_base', { 'vocab.txt': BERT_VOCAB });
  const cfg = join(base, 'config.json');
  const c = JSON.parse((await import('node:fs')).readFileSync(cfg, 'utf8')) as Record<string, unknown>;
  writeFileSync(cfg, JSON.stringify({ ...c, architectures: ['BertForSequenceClassification'] }));
  await assert.rejects(h.loadPredictor(base), (e: Error) => e instanceof h.CheckpointError && /newly initialized/.test(e.message));
  rmSync(base, { recursive: true, force: true });
});
