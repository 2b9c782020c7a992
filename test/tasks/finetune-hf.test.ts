/**
 * Fine-tuning the spam and tag tasks from a Hugging Face checkpoint directory (heed train <task>
 * --init-from <HF dir>, src/tasks/hf-finetune.ts): the model becomes the checkpoint's
 * *ForSequenceClassification / *ForTokenClassification with a newly initialized head, text goes
 * through the directory's tokenizer, NER labels sit on each word's first subword, the run reloads
 * for eval / predict with identical logits and its hf/ copy loads with fromPretrained; --freeze,
 * --peft lora and the bad-input cases behave as for a heed directory.
 *
 * The checkpoint is made here: a tiny random-weight BertForMaskedLM written by savePretrained, with
 * a WordPiece vocab.txt of letters, digits and a few words (every word splits into known pieces).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as h from '../../src/index.ts';
import { models } from '../../src/index.ts';
import { TAG_TASK, sentenceUnits, type TagMeta } from '../../src/tasks/tag-template.ts';
import { SPAM_TASK } from '../../src/tasks/spam.ts';
import { loadTokenizer } from '../../src/data/tokenizers/load.ts';
import { heed } from './run-cli.ts';
import { conll } from './ner-sentences.ts';

const root = mkdtempSync(join(tmpdir(), 'heed-ft-hf-'));
const CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789'.split('');
const WORDS = ['the', 'to', 'and', 'flew', 'smith', 'win', 'money', 'free', 'meeting', 'subject', 'bob', 'alice', 'paris'];
const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...CHARS, ...CHARS.map((c) => `##${c}`), ...'.,!?$:;\'"-()@/<>=_#%&*+[]'.split(''), ...WORDS];
const SIZES = { dModel: 16, numHeads: 2, numLayers: 2, dimFeedforward: 32, maxLen: 40, dropout: 0 };

/** A tiny random-weight Hugging Face BERT masked-LM directory with its vocab.txt. */
async function hfBert(name: string, vocab: string[] = VOCAB, vocabSize = vocab.length): Promise<string> {
  const dir = join(root, name);
  h.manualSeed(5);
  const mlm = new models.BertForMaskedLM({ vocabSize, ...SIZES });
  await h.savePretrained(mlm, dir);
  writeFileSync(join(dir, 'vocab.txt'), vocab.join('\n') + '\n');
  return dir;
}

const trainFile = join(root, 'train.conll');
writeFileSync(trainFile, conll(40));

/** Step losses a run logged to metrics.jsonl. */
function stepLosses(out: string): number[] {
  return readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.type === 'step').map((r) => r.loss as number);
}

function ids(rows: number[][]): h.Tensor {
  return h.tensor(rows, [rows.length, rows[0].length], { dtype: 'int32' });
}

test('tag words align to subwords: a word\'s label sits on its first subword, the rest are left out', async () => {
  const dir = await hfBert('align');
  const tok = loadTokenizer(dir);
  const meta = { words: [], labels: ['O'], scheme: 'BIO', tokenizer: tok.toJSON(), hf: { dir, architecture: 'BertForTokenClassification', model: {} } } as unknown as TagMeta;
  const u = sentenceUnits(['Bob', 'ok', 'x'], meta);
  // bob is a vocabulary word; ok → o ##k; x → x: first subwords at 0, 1, 3.
  assert.deepEqual(u.first, [0, 1, 3]);
  assert.deepEqual(u.ids, [VOCAB.indexOf('bob'), VOCAB.indexOf('o'), VOCAB.indexOf('##k'), VOCAB.indexOf('x')], 'the tokenizer\'s own ids, no template offset');
  assert.deepEqual(u.texts, ['Bob', 'ok', 'ok', 'x']);
});

test('heed train tag --init-from <HF BERT dir>: the token classifier overfits a tiny set, evaluates and predicts per word, and reloads with identical logits', async () => {
  const bert = await hfBert('bert-tag');
  const out = join(root, 'tag');
  const t = await heed('train', 'tag', '--train', trainFile, '--init-from', bert, '--max-steps', '40', '--batch-size', '8', '--lr', '3e-3', '--warmup-steps', '1',
    '--eval-every', '0', '--log-every', '5', '--progress', 'none', '--out', out);
  assert.equal(t.code, 0, t.out);
  assert.match(t.out, /BertForTokenClassification from .*bert-tag/);
  assert.match(t.out, /newly initialized: classifier\.weight, classifier\.bias; unused checkpoint weights: \d+ \(cls\.predictions/);
  const losses = stepLosses(out);
  assert.ok(losses.length >= 6);
  assert.ok(losses[losses.length - 1] < 0.5 * losses[0], `loss falls on a tiny overfit: ${losses.map((l) => l.toFixed(3)).join(' ')}`);
  const e = await heed('eval', out, '--split', 'valid');
  assert.equal(e.code, 0, e.out);
  const f1 = Number(/f1[^\d]*([\d.]+)/.exec(e.out)?.[1]);
  assert.ok(f1 > 0.5, `entity F1 after overfitting a repetitive set: ${e.out}`);
  const pr = await heed('predict', out, 'Bob Smith flew to Lima');
  assert.equal(pr.code, 0, pr.out);
  const tags = /(\S+\/\S+ ){4}\S+\/\S+/.exec(pr.out)![0].split(' ').map((x) => x.split('/')[1]);
  assert.equal(tags.length, 5, 'one tag per word, not per subword');
  assert.ok(tags.every((x) => ['O', 'B-LOC', 'I-LOC', 'B-PER', 'I-PER'].includes(x)));
  // The run directory (heed names + task meta) and its hf/ copy (savePretrained layout) hold the same model.
  const { model } = await TAG_TASK.loadModel!(out);
  const hf = await h.fromPretrained(join(out, 'hf'), { strict: true });
  assert.ok(hf instanceof models.BertForTokenClassification);
  const x = ids([[2, VOCAB.indexOf('bob'), VOCAB.indexOf('smith'), 3]]);
  assert.deepEqual(Array.from((model as models.BertForTokenClassification).forward(x).data), Array.from(hf.forward(x).data));
  const config = JSON.parse(readFileSync(join(out, 'hf', 'config.json'), 'utf8'));
  assert.deepEqual(Object.values(config.id2label), ['O', 'B-LOC', 'I-LOC', 'B-PER', 'I-PER']);
  assert.ok(existsSync(join(out, 'hf', 'tokenizer.json')));
  const p = await h.loadPredictor(join(out, 'hf'));
  assert.equal(p.task, 'token-classification');
});

test('heed train spam --init-from <HF BERT dir>: a sequence classifier on the tokenizer\'s subwords, padding masked; eval, predict and the hf/ copy agree', async () => {
  const bert = await hfBert('bert-spam');
  const out = join(root, 'spam');
  const t = await heed('train', 'spam', '--init-from', bert, '--max-steps', '3', '--batch-size', '8', '--label-fraction', '0.02', '--warmup-steps', '1', '--eval-every', '0',
    '--progress', 'none', '--out', out);
  assert.equal(t.code, 0, t.out);
  assert.match(t.out, /BertForSequenceClassification [\d,]+ parameters, its tokenizer \(\d+ ids\), 40 tokens per mail/);
  assert.match(t.out, /newly initialized: bert\.pooler\.dense\.weight, bert\.pooler\.dense\.bias, classifier\.weight, classifier\.bias/);
  const e = await heed('eval', out, '--split', 'valid', '--limit', '20');
  assert.equal(e.code, 0, e.out);
  assert.match(e.out, /spam valid: 20 mails, accuracy/);
  const pr = await heed('predict', out, 'win free money now');
  assert.equal(pr.code, 0, pr.out);
  assert.match(pr.out, /\b(ham|spam)\b/);
  const { model } = await SPAM_TASK.loadModel!(out);
  const clf = model as models.BertForSequenceClassification;
  const hf = await h.fromPretrained(join(out, 'hf'), { strict: true });
  const a = [2, VOCAB.indexOf('win'), VOCAB.indexOf('money'), VOCAB.indexOf('free'), 3], b = [2, VOCAB.indexOf('meeting'), 3];
  const padded = ids([a, [...b, 0, 0]]);
  assert.deepEqual(Array.from(clf.forward(padded).data), Array.from(hf.forward(padded).data), 'the reloaded run and its hf/ copy give identical logits');
  const alone = clf.forward(ids([b])).data;
  const inBatch = clf.forward(padded).data.subarray(2, 4);
  for (let k = 0; k < 2; k++) assert.ok(Math.abs(alone[k] - inBatch[k]) < 1e-5, 'padding changes nothing: it is masked out of attention');
  assert.deepEqual(Object.values(JSON.parse(readFileSync(join(out, 'hf', 'config.json'), 'utf8')).id2label), ['ham', 'spam']);
});

test('spam from an HF dir: --freeze encoder trains the head only; --peft lora saves the adapter alone and serves over the base', async () => {
  const bert = await hfBert('bert-peft');
  const frozen = await heed('train', 'spam', '--init-from', bert, '--freeze', 'encoder', '--unfreeze-every', '2', '--body-lr-ratio', '0.5', '--max-steps', '2', '--batch-size', '4',
    '--label-fraction', '0.01', '--warmup-steps', '1', '--eval-every', '0', '--progress', 'none', '--out', join(root, 'frozen'));
  assert.equal(frozen.code, 0, frozen.out);
  // The head: dense 16·16 + 16 and outProj 16·2 + 2.
  assert.match(frozen.out, /spam: 306 of [\d,]+ parameters trainable/);
  const lora = join(root, 'lora');
  const l = await heed('train', 'spam', '--init-from', bert, '--peft', 'lora', '--lora-r', '2', '--max-steps', '2', '--batch-size', '4', '--label-fraction', '0.01',
    '--warmup-steps', '1', '--eval-every', '0', '--progress', 'none', '--out', lora);
  assert.equal(l.code, 0, l.out);
  assert.match(l.out, /parameters trainable \([\d.]+%\), lora/);
  const weights = await h.readSafetensors(join(lora, 'model.safetensors'));
  assert.ok(Object.keys(weights.tensors).every((k) => k.startsWith('head.') || /lora[AB]|loraEmbedding[AB]/.test(k)), 'no frozen base weight in the run checkpoint');
  const adapter = JSON.parse(readFileSync(join(lora, 'adapter_config.json'), 'utf8'));
  assert.equal(adapter.base_model_name_or_path, bert);
  assert.equal(adapter.key_names, 'hf', 'module paths as transformers names them, for peft over the PyTorch model');
  assert.ok(adapter.target_modules.includes('bert.encoder.layer.0.attention.self.query'), adapter.target_modules.join(', '));
  assert.ok(Object.keys((await h.readSafetensors(join(lora, 'adapter_model.safetensors'))).tensors).some((k) => k.startsWith('base_model.model.bert.encoder.layer.0.attention.self.query.lora_A')));
  const p = await h.loadPredictor(lora);
  const [r] = p.predict(['win free money']);
  assert.ok(r.output === 'ham' || r.output === 'spam');
  const e = await heed('eval', lora, '--split', 'valid', '--limit', '10');
  assert.equal(e.code, 0, e.out);
});

test('heed train classify --init-from <HF BERT dir>: the template\'s texts through the checkpoint\'s tokenizer; loss falls, eval and predict answer with its labels', async () => {
  const bert = await hfBert('bert-classify');
  const csv = join(root, 'reviews.csv');
  const rows = Array.from({ length: 48 }, (_, i) => (i % 2 === 0 ? `win free money ${i},spam` : `meeting to paris ${i},ham`));
  writeFileSync(csv, ['text,label', ...rows].join('\n') + '\n');
  const out = join(root, 'classify');
  const t = await heed('train', 'classify', '--train', csv, '--init-from', bert, '--max-steps', '60', '--batch-size', '8', '--lr', '5e-3', '--label-smoothing', '0', '--warmup-steps', '1',
    '--eval-every', '0', '--log-every', '10', '--progress', 'none', '--out', out);
  assert.equal(t.code, 0, t.out);
  assert.match(t.out, /BertForSequenceClassification from .*bert-classify with its tokenizer/);
  const losses = stepLosses(out);
  assert.ok(losses[losses.length - 1] < 0.5 * losses[0], `loss falls: ${losses.map((l) => l.toFixed(3)).join(' ')}`);
  const e = await heed('eval', out, '--split', 'valid');
  assert.equal(e.code, 0, e.out);
  assert.match(e.out, /accuracy/);
  const pr = await heed('predict', out, 'win free money');
  assert.equal(pr.code, 0, pr.out);
  assert.match(pr.out, /\bspam\b/);
  assert.deepEqual(Object.values(JSON.parse(readFileSync(join(out, 'hf', 'config.json'), 'utf8')).id2label), ['ham', 'spam']);
  const m = await heed('train', 'classify', '--train', csv, '--init-from', out, '--max-steps', '1', '--progress', 'none', '--out', join(root, 'bad-classify'));
  assert.match(m.out, /NotImplementedError: classify --init-from .*heed pretrain mlm directory is not implemented/);
});

test('bad input: a model_type without a task head, a tokenizer of another vocabulary size, and options that need heed\'s words are ConfigErrors', async () => {
  const gpt2 = join(root, 'gpt2');
  h.manualSeed(1);
  await h.savePretrained(new models.GPT({ vocabSize: 40, dModel: 16, numHeads: 2, numLayers: 1, maxLen: 16, packedQkv: true, positional: 'learned', bias: true }), gpt2);
  const g = await heed('train', 'tag', '--train', trainFile, '--init-from', gpt2, '--max-steps', '1', '--progress', 'none', '--out', join(root, 'bad-gpt2'));
  assert.equal(g.code, 1, g.out);
  assert.match(g.out, /ConfigError.*tag --init-from .*gpt2: model_type 'gpt2' has no task head in heed; a task fine-tunes model_type 'bert', 'roberta', 'distilbert'.*BertForTokenClassification/);
  // The model has 300 more embedding rows than the tokenizer has ids.
  const wide = await hfBert('wide', VOCAB, VOCAB.length + 300);
  const w = await heed('train', 'spam', '--init-from', wide, '--max-steps', '1', '--label-fraction', '0.01', '--progress', 'none', '--out', join(root, 'bad-wide'));
  assert.notEqual(w.code, 0);
  assert.match(w.out, /ConfigError.*tokenizer has \d+ ids but the model's vocab_size is \d+/);
  const bert = await hfBert('bert-bad');
  const d = await heed('train', 'spam', '--init-from', bert, '--word-dropout', '0.1', '--max-steps', '1', '--label-fraction', '0.01', '--progress', 'none', '--out', join(root, 'bad-wd'));
  assert.match(d.out, /ConfigError.*--word-dropout and --distill-from act on heed's word vocabulary/);
  const tf = await heed('train', 'tag', '--train', trainFile, '--init-from', bert, '--tokenizer-file', join(bert, 'vocab.txt'), '--max-steps', '1', '--progress', 'none', '--out', join(root, 'bad-tf'));
  assert.match(tf.out, /ConfigError.*--tokenizer-file .* cannot be used with it/);
});

test.after(() => rmSync(root, { recursive: true, force: true }));
