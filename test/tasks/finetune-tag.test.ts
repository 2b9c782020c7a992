/**
 * Transfer learning for the tag template (heed train tag --init-from, src/tasks/finetune.ts and
 * tag-template.ts): WordTagger's backbone layout computes what its own layout does; a pretrained
 * masked LM's backbone is copied in value for value and only the tagger's own weights (features,
 * head, CRF) are reported new; --freeze keeps it, --peft saves the adapter only and serves over its
 * base, --label-fraction keeps a hash-chosen share; bad --init-from input is a typed error; and the
 * whole path runs from the CLI (pretrain mlm → train tag --init-from → eval → predict).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as h from '../../src/index.ts';
import { models } from '../../src/index.ts';
import { saveCheckpoint } from '../../src/io/checkpoint.ts';
import { Vocab, UNK_ID } from '../../src/data/vocab.ts';
import { WordTagger, type WordTaggerConfig } from '../../src/models/word-tagger.ts';
import { initBackbone, loadPretrained } from '../../src/tasks/finetune.ts';
import { TAG_DEFAULTS, TAG_TASK, encodeSentences, pretrainedLookup, type TagConfig } from '../../src/tasks/tag-template.ts';
import { evaluate, loadPredictor } from '../../src/tasks/index.ts';
import { heed } from './run-cli.ts';
import { PEOPLE, PLACES, conll } from './ner-sentences.ts';

const root = mkdtempSync(join(tmpdir(), 'heed-ft-tag-'));
const SIZES = { dModel: 16, numHeads: 2, numLayers: 2, dimFeedforward: 32, maxLen: 12, dropout: 0 };
const WORDS = ['alice', 'bob', 'smith', 'flew', 'to', 'paris', 'oslo', '<mask>'];

const trainFile = join(root, 'train.conll');
writeFileSync(trainFile, conll(40));

/** A saved MaskedLM directory (what heed pretrain mlm writes), seeded. */
async function pretrainedDir(name: string, seed = 2): Promise<{ dir: string; mlm: models.MaskedLM }> {
  const dir = join(root, name);
  const vocab = Vocab.fromTokens(WORDS);
  h.manualSeed(seed);
  const mlm = new models.MaskedLM({ vocabSize: vocab.size, ...SIZES });
  await saveCheckpoint(dir, { task: 'mlm', runId: 'r', config: { model: mlm.toConfig() }, weights: mlm.stateDict(), files: { vocab: { name: 'words.vocab.json', json: vocab.toJSON() } } });
  return { dir, mlm };
}

const quiet = (lines: string[]) => ({ progress: 'none' as const, print: (l: string) => void lines.push(l) });
const run = (o: Record<string, unknown>) => ({ train: trainFile, maxSteps: 2, batchSize: 8, warmupSteps: 1, evalEvery: 0, charBuckets: 64, ...o });

test('WordTagger: the backbone layout (backbone.*) computes what the own layout does with the same weights', () => {
  const cfg: WordTaggerConfig = { vocabSize: 12, numTags: 5, labels: ['O', 'B-LOC', 'I-LOC', 'B-PER', 'I-PER'], scheme: 'BIO', ...SIZES, charBuckets: 32, crf: true };
  h.manualSeed(4);
  const own = new WordTagger(cfg);
  const bb = new WordTagger({ ...cfg, backbone: true });
  const rename = (k: string) => k.replace(/^wordEmbed\./, 'backbone.tokEmbed.').replace(/^posEmbed\./, 'backbone.posEmbed.').replace(/^encoder\./, 'backbone.encoder.');
  const sd = Object.fromEntries(Object.entries(own.stateDict()).map(([k, t]) => [rename(k), t]));
  bb.loadStateDict(sd); // strict: every name maps one to one
  own.eval();
  bb.eval();
  const config = { ...TAG_DEFAULTS, charBuckets: 32 } as TagConfig;
  const batch = encodeSentences([['Alice', 'flew', 'to', 'Paris'], ['Bob', '#oslo']], new Map([['alice', 2], ['flew', 3], ['to', 4]]), config);
  const a = bb.forward(batch).data, b = own.forward(batch).data;
  assert.equal(a.length, b.length);
  // The same sums in another order (the word vector joins the features inside the backbone): float rounding only.
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-5, `emission ${i}: ${a[i]} vs ${b[i]}`);
  assert.deepEqual(own.trunk().encoder[0], 'encoder');
  assert.deepEqual(bb.trunk().encoder[0], 'backbone.encoder');
});

test('a pretrained word vocabulary reads a token lowercased, else by the words the MLM tokenizer finds in it, else <unk>', () => {
  const tokens = Vocab.fromTokens(WORDS).tokens;
  const id = pretrainedLookup(tokens);
  assert.equal(id('Paris'), tokens.indexOf('paris'));
  assert.equal(id('#Oslo'), tokens.indexOf('oslo'));
  assert.equal(id('@alice_smith'), tokens.indexOf('alice'));
  assert.equal(id(','), UNK_ID);
  assert.equal(id('Zed'), UNK_ID);
});

test('tag --init-from: the backbone is the masked LM\'s value for value; only the tagger\'s own weights are newly initialized; --freeze keeps it', async () => {
  const { dir, mlm } = await pretrainedDir('mlm-a');
  const pre = await loadPretrained(dir);
  const tagger = new WordTagger({ vocabSize: pre.vocab.size, numTags: 5, labels: ['O', 'B-LOC', 'I-LOC', 'B-PER', 'I-PER'], scheme: 'BIO', ...SIZES, charBuckets: 32, crf: true, backbone: true });
  const fresh = initBackbone(tagger, pre);
  assert.deepEqual(fresh.sort(), ['crf.endTransitions', 'crf.startTransitions', 'crf.transitions', 'head.bias', 'head.weight', 'ngramEmbed.weight', 'shapeEmbed.weight']);
  const want = mlm.stateDict();
  for (const [k, t] of Object.entries(tagger.stateDict())) if (k.startsWith('backbone.')) assert.deepEqual(Array.from(t.data), Array.from(want[k].data), k);

  const lines: string[] = [];
  const out = join(root, 'frozen');
  await TAG_TASK.train(run({ initFrom: dir, freeze: 'encoder' }), { out, runId: 't', ...quiet(lines) });
  assert.match(lines.join('\n'), /backbone initialised from .*mlm-a; newly initialized: shapeEmbed\.weight, ngramEmbed\.weight, head\.weight, head\.bias, crf\.transitions/);
  assert.doesNotMatch(lines.join('\n'), /newly initialized: .*backbone\./);
  const saved = (await h.readSafetensors(join(out, 'model.safetensors'))).tensors;
  for (const [k, t] of Object.entries(want)) {
    if (!k.startsWith('backbone.')) continue;
    assert.deepEqual(Array.from(saved[k].data as Float32Array), Array.from(t.data), `${k} stays the pretrained value under --freeze encoder`);
  }
  const ev = await evaluate(out, { split: 'valid' });
  assert.ok(ev.metrics.f1 >= 0 && ev.metrics.f1 <= 1);
});

test('tag --init-from --peft lora: the run holds the adapter and the tagger\'s own weights only, and serves over its base', async () => {
  const { dir } = await pretrainedDir('mlm-b');
  const out = join(root, 'lora');
  const lines: string[] = [];
  await TAG_TASK.train(run({ initFrom: dir, peft: 'lora' }), { out, runId: 't', ...quiet(lines) });
  assert.match(lines.join('\n'), /parameters trainable \([\d.]+%\), lora/);
  const keys = Object.keys((await h.readSafetensors(join(out, 'model.safetensors'))).tensors);
  assert.ok(keys.length > 0 && keys.every((k) => !k.startsWith('backbone.') || /lora/.test(k)), `no frozen base weight in the run: ${keys.join(', ')}`);
  assert.ok(keys.some((k) => k.startsWith('crf.')) && keys.some((k) => k.startsWith('ngramEmbed.')), 'the new modules are saved with the adapter');
  const p = await loadPredictor(out);
  const [r] = p.predict(['Alice Smith flew to Oslo']);
  assert.equal(String(r.output).split(' ').length, 5);
});

test('tag --label-fraction keeps a hash-chosen share of the training sentences (the same every run)', async () => {
  const { dir } = await pretrainedDir('mlm-c');
  const counts: string[] = [];
  for (const k of [0, 1]) {
    const lines: string[] = [];
    await TAG_TASK.train(run({ initFrom: dir, labelFraction: 0.3, maxSteps: 1 }), { out: join(root, `lf${k}`), runId: 't', ...quiet(lines) });
    const m = /tag: (\d+) of (\d+) training sentences keep their labels/.exec(lines.join('\n'));
    assert.ok(m, lines.join('\n'));
    assert.ok(Number(m[1]) < Number(m[2]) && Number(m[1]) > 0);
    counts.push(m[1]);
  }
  assert.equal(counts[0], counts[1]);
});

test('bad input: --init-from directories the tagger cannot start from, and flags that cannot combine, are typed errors', async () => {
  const empty = join(root, 'empty'), hf = join(root, 'hf');
  mkdirSync(empty);
  mkdirSync(hf);
  writeFileSync(join(hf, 'config.json'), JSON.stringify({ model_type: 'bert', architectures: ['BertForMaskedLM'] }));
  const lines: string[] = [];
  const train = (o: Record<string, unknown>) => TAG_TASK.train(run(o), { out: join(root, 'bad'), runId: 't', ...quiet(lines) });
  await assert.rejects(train({ initFrom: empty }), (e: Error) => e instanceof h.ConfigError && /holds no config\.json/.test(e.message));
  // A Hugging Face directory is a start (test/tasks/finetune-hf.test.ts), but not without its tokenizer.
  await assert.rejects(train({ initFrom: hf }), (e: Error) => e instanceof h.CheckpointError && /holds no tokenizer/.test(e.message));
  // A tagger trained from scratch is no text backbone: it names no vocabulary file a downstream task could read.
  const scratch = join(root, 'scratch');
  await TAG_TASK.train(run({ ...SIZES, maxSteps: 1 }), { out: scratch, runId: 't', ...quiet(lines) });
  await assert.rejects(train({ initFrom: scratch }), h.CheckpointError);
  const { dir } = await pretrainedDir('mlm-d');
  await assert.rejects(train({ initFrom: dir, tokenizerFile: join(root, 'tokenizer.json') }), (e: Error) => e instanceof h.ConfigError && /--tokenizer-file/.test(e.message));
  await assert.rejects(train({ peft: 'lora' }), (e: Error) => e instanceof h.ConfigError && /--init-from/.test(e.message));
  await assert.rejects(train({ ...SIZES, freeze: 'encoder' }), (e: Error) => e instanceof h.ConfigError && /built from scratch has none/.test(e.message));
  await assert.rejects(train({ initFrom: dir, labelFraction: 0 }), h.ConfigError);
});

test('CLI end to end: heed pretrain mlm on a text file, then heed train tag --init-from, eval and predict', async () => {
  const text = join(root, 'text.txt');
  writeFileSync(text, Array.from({ length: 200 }, (_, i) => `${PEOPLE[i % 5]} smith flew to ${PLACES[(i * 7) % 4]} and met ${PEOPLE[(i * 3) % 5]} in ${PLACES[i % 4]}`).join('\n'));
  const mlm = join(root, 'cli-mlm'), tag = join(root, 'cli-tag');
  const p = await heed('pretrain', 'mlm', '--corpus', '', '--text-files', text, '--d-model', '16', '--num-heads', '2', '--num-layers', '1', '--dim-feedforward', '32', '--max-len', '16',
    '--max-steps', '3', '--batch-size', '8', '--warmup-steps', '1', '--eval-every', '0', '--progress', 'none', '--out', mlm);
  assert.equal(p.code, 0, p.out);
  const t = await heed('train', 'tag', '--train', trainFile, '--init-from', mlm, '--body-lr-ratio', '0.5', '--max-steps', '3', '--batch-size', '8', '--char-buckets', '64',
    '--warmup-steps', '1', '--eval-every', '0', '--progress', 'none', '--out', tag);
  assert.equal(t.code, 0, t.out);
  assert.match(t.out, /words read with .*cli-mlm's vocabulary \(\d+ words\): [\d.]+% of the training tokens found/);
  assert.match(t.out, /newly initialized: shapeEmbed\.weight/);
  const e = await heed('eval', tag, '--split', 'valid');
  assert.equal(e.code, 0, e.out);
  assert.match(e.out, /f1/);
  const pr = await heed('predict', tag, 'Bob Smith flew to Lima');
  assert.equal(pr.code, 0, pr.out);
  assert.match(pr.out, /Bob\/[BIO]/);
});

test.after(() => rmSync(root, { recursive: true, force: true }));
