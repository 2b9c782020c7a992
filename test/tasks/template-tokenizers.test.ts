// --tokenizer-file for the file-driven templates: tag with BERT's real WordPiece vocabulary
// (first-subword labelling, word-level tags and entity scores), classify with GPT-2's real
// byte-level BPE files, the tokenizer copy in the checkpoint, and bad tokenizer files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { heed } from './run-cli.ts';
import { evaluate, loadPredictor } from '../../src/tasks/index.ts';
import { sentenceUnits, type TagMeta } from '../../src/tasks/tag-template.ts';
import { tokenizerJSON } from '../../src/tasks/template-tokenizer.ts';
import { bertTokenizerFromVocab } from '../../src/data/tokenizers/load.ts';
import { bertVocabTxt, gpt2Dir } from '../data/tokenizers/reference-vocabs.ts';

const dir = mkdtempSync(join(tmpdir(), 'heed-template-tok-'));
const TINY = ['--d-model', '16', '--num-heads', '2', '--num-layers', '1', '--dim-feedforward', '32', '--warmup-steps', '2', '--eval-every', '0', '--progress', 'none'];

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const bertVocab = file('vocab.txt', bertVocabTxt());
const bert = bertTokenizerFromVocab(readFileSync(bertVocab, 'utf8'), { lowercase: true, source: bertVocab });

// Names that BERT's uncased vocabulary splits into several pieces, so first-subword labelling matters.
const PEOPLE = ['Zorblat', 'Quenwick', 'Alice', 'Thorvaldsen'], PLACES = ['Paris', 'Kvitfjell', 'Lima', 'Ouagadougou'];
function conll(n: number, seed: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = PEOPLE[(i + seed) % PEOPLE.length], q = PLACES[(i * 3 + seed) % PLACES.length];
    out.push(`${p}\tB-PER`, `Smithers\tI-PER`, 'flew\tO', 'to\tO', `${q}\tB-LOC`, '.\tO', '');
  }
  return out.join('\n');
}

test('first-subword units: each word\'s tag sits on its first subword; a word the tokenizer drops has none', () => {
  const meta: TagMeta = { words: [], labels: ['O'], scheme: 'BIO', tokenizer: tokenizerJSON(bert) };
  const words = ['Thorvaldsen', 'flew', '\u200b', 'to', 'Ouagadougou'];
  const u = sentenceUnits(words, meta);
  const pieces = (w: string) => bert.tokenize(w).length;
  assert.ok(pieces('Thorvaldsen') > 1 && pieces('Ouagadougou') > 1, 'the test words split into several subwords');
  assert.equal(pieces('\u200b'), 0, 'BERT drops a zero-width space');
  assert.deepEqual(u.first, [0, pieces('Thorvaldsen'), -1, pieces('Thorvaldsen') + 1, pieces('Thorvaldsen') + 2]);
  assert.equal(u.texts.length, pieces('Thorvaldsen') + 2 + pieces('Ouagadougou'));
  // every unit's features are its word's; ids are BERT's + 2 (0 = padding, 1 = <unk>)
  assert.deepEqual(u.texts.slice(0, pieces('Thorvaldsen')), new Array(pieces('Thorvaldsen')).fill('Thorvaldsen'));
  assert.equal(u.ids![pieces('Thorvaldsen')], bert.tokenToId('flew')! + 2);
});

test('tag with a BERT vocab.txt: trains, evaluates word-level entities, predicts one tag per word, reloads without the file', async () => {
  const train = file('train.conll', conll(48, 0)), valid = file('dev.conll', conll(12, 1));
  const vocabDir = join(dir, 'bert');
  mkdirSync(vocabDir);
  const vocab = join(vocabDir, 'vocab.txt');
  copyFileSync(bertVocab, vocab);
  for (const crf of ['--crf', '--no-crf']) {
    const out = join(dir, `tag${crf}`);
    const r = await heed('train', 'tag', '--train', train, '--valid', valid, '--tokenizer-file', vocab, '--max-steps', '60', '--batch-size', '8', '--lr', '5e-3',
      '--char-buckets', '64', crf, ...TINY, '--out', out);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /subwords of .*vocab\.txt \(30522 ids; a word's tag on its first subword\)/);
    const meta = JSON.parse(readFileSync(join(out, 'task-meta.json'), 'utf8')) as { meta: TagMeta };
    assert.equal((meta.meta.tokenizer!.model as { type: string }).type, 'WordPiece', 'the tokenizer is saved with the model');
    const ev = await evaluate(out, { split: 'valid' });
    // 12 sentences × 2 gold entities; entity-level scores are over words, so they are well defined.
    assert.match(ev.report, /PER/);
    assert.ok(ev.metrics.f1 > 0.5, `${crf}: dev F1 ${ev.metrics.f1} after 60 steps on a pattern this regular`);
    const p = await loadPredictor(out);
    const words = ['Quenwick', 'Smithers', 'flew', '\u200b', 'to', 'Kvitfjell', '.'];
    const [pred] = p.predict([words]);
    const pairs = String(pred.output).split(' ');
    assert.equal(pairs.length, words.length, 'one tag per word, whatever the subwords');
    assert.deepEqual(pairs.map((x) => x.slice(0, x.lastIndexOf('/'))), words);
    assert.equal(pairs[3], '\u200b/O', 'a word without subwords is tagged O');
  }
  rmSync(vocabDir, { recursive: true });
  const again = await loadPredictor(join(dir, 'tag--crf'));
  assert.equal(String(again.predict(['Alice flew to Lima'])[0].output).split(' ').length, 4, 'the saved copy serves once the original file is gone');
});

test('classify with GPT-2\'s vocab.json + merges.txt directory', async () => {
  const gpt2 = join(dir, 'gpt2');
  mkdirSync(gpt2);
  copyFileSync(join(gpt2Dir(), 'encoder.json'), join(gpt2, 'vocab.json'));
  copyFileSync(join(gpt2Dir(), 'vocab.bpe'), join(gpt2, 'merges.txt'));
  const rows = ['text,label'];
  for (let i = 0; i < 40; i++) rows.push(i % 2 ? `wonderful delightful film ${i},pos` : `dreadful tedious film ${i},neg`);
  const train = file('train.csv', rows.join('\n') + '\n');
  const out = join(dir, 'classify');
  const r = await heed('train', 'classify', '--train', train, '--tokenizer-file', gpt2, '--max-steps', '40', '--batch-size', '8', '--lr', '1e-2', ...TINY, '--out', out);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /tokenizer .*gpt2 \(50257 subwords\)/);
  const p = await loadPredictor(out);
  const [good, bad] = p.predict(['wonderful delightful story', 'dreadful tedious story']) // byte-level BPE: a word opening the text has no 'Ġ', as in training;
  assert.equal(good.output, 'pos');
  assert.equal(bad.output, 'neg');
});

test('a missing or corrupt --tokenizer-file is a ConfigError naming the file; nothing is written', async () => {
  const train = file('t.csv', 'text,label\na,b\nc,d\n');
  const missing = join(dir, 'nope', 'tokenizer.json');
  const r1 = await heed('train', 'classify', '--train', train, '--tokenizer-file', missing, ...TINY, '--out', join(dir, 'bad1'));
  assert.equal(r1.code, 1);
  assert.match(r1.out, /ConfigError: classify: --tokenizer-file '.*nope\/tokenizer\.json' could not be read: .*does not exist/);
  const corrupt = file('tokenizer.json', '{"model": {"type": "WordPiece", "vocab": ');
  const r2 = await heed('train', 'tag', '--train', file('t.conll', conll(4, 0)), '--tokenizer-file', corrupt, ...TINY, '--out', join(dir, 'bad2'));
  assert.equal(r2.code, 1);
  assert.match(r2.out, /ConfigError: tag: --tokenizer-file '.*tokenizer\.json' could not be read: .*not valid JSON/);
  for (const d of ['bad1', 'bad2']) assert.throws(() => readFileSync(join(dir, d, 'config.json')), /ENOENT/);
});

test('seq2seq with a tokenizer.json: both sides read subwords, the copy reloads, outputs decode to text', async () => {
  const tokDir = join(dir, 'bert-json');
  mkdirSync(tokDir);
  const tokFile = bert.save(join(tokDir, 'tokenizer.json'));
  const words = ['cat', 'dog', 'bird', 'fish', 'mouse', 'horse', 'lion', 'tiger'];
  const pairs = words.map((w) => `the ${w}\ta ${w}`);
  const train = file('sub.tsv', [...pairs, ...pairs, ...pairs].join('\n') + '\n');
  const out = join(dir, 'seq2seq-tok');
  const r = await heed('train', 'seq2seq', '--train', train, '--valid', file('sub-valid.tsv', pairs.slice(0, 3).join('\n') + '\n'), '--tokenizer-file', tokFile,
    '--max-steps', '6', '--max-tokens', '200', ...TINY, '--out', out);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /source subwords of .*tokenizer\.json \(30522 symbols\), target subwords of/);
  rmSync(tokDir, { recursive: true });
  const saved = JSON.parse(readFileSync(join(out, 'target.tokenizer.json'), 'utf8')) as { model: { type: string } };
  assert.equal(saved.model.type, 'WordPiece');
  const p = await loadPredictor(out);
  const [pred] = p.predict(['the cat'], { nBest: 2 });
  assert.equal(typeof pred.output, 'string');
  assert.equal(pred.alternatives!.length, 2);
  const ev = await evaluate(out, { split: 'valid' });
  assert.equal(ev.metrics.sources, 3);
});
