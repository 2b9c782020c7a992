// WordTagger's character CNN: a word's features do not depend on how far its batch pads the
// characters, gradients reach the character embeddings, and the tag template trains with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WordTagger } from '../../src/models/word-tagger.ts';
import { encodeSentences, TAG_DEFAULTS, type TagConfig } from '../../src/tasks/tag-template.ts';
import { manualSeed } from '../../src/tensor/rng.ts';
import { sum } from '../../src/ops/reduce.ts';
import { heed } from '../tasks/run-cli.ts';
import { loadPredictor } from '../../src/tasks/index.ts';

const labels = ['O', 'B-PER', 'I-PER'];
const config = { ...TAG_DEFAULTS, charFeatures: false, charCnn: true } as TagConfig;

function tagger(): WordTagger {
  manualSeed(5);
  return new WordTagger({ vocabSize: 10, numTags: 3, labels, scheme: 'BIO', dModel: 16, numHeads: 2, numLayers: 1, dimFeedforward: 32,
    dropout: 0, maxLen: 8, charBuckets: 0, crf: false, charCnn: true }).eval();
}

test('character CNN: padding characters and padding words never change a sentence\'s emissions', () => {
  const m = tagger();
  const alone = m.forward(encodeSentences([['Al', 'ran']], new Map(), config)); // (1, 2, K): 3 characters at most
  const padded = m.forward(encodeSentences([['Al', 'ran'], ['Bartholomew', 'Xi', 'ok']], new Map(), config)); // (2, 3, K): 11 characters
  const a = Array.from(alone.data as Float32Array), p = Array.from((padded.data as Float32Array).subarray(0, 2 * 3));
  a.forEach((v, i) => assert.ok(Math.abs(v - p[i]) < 1e-5, `emission ${i}: ${v} alone, ${p[i]} beside a longer word`));
  // the spelling matters: same word ids (all <unk>), different characters → different emissions
  const other = m.forward(encodeSentences([['Zq', 'ran']], new Map(), config));
  assert.ok(Math.abs((other.data as Float32Array)[0] - a[0]) > 1e-6);
});

test('character CNN: the loss reaches the character embeddings and the convolution', () => {
  const m = tagger().train();
  sum(m.forward(encodeSentences([['Al', 'ran', 'home']], new Map(), config))).backward();
  const g = m.charEmbed!.weight.grad!.data as Float32Array;
  assert.ok(g.some((v) => v !== 0));
  assert.ok((m.charConv!.weight.grad!.data as Float32Array).some((v) => v !== 0));
});

test('heed train tag --char-cnn trains, saves the choice, and predicts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'heed-charcnn-'));
  const lines: string[] = [];
  for (let i = 0; i < 24; i++) lines.push(`${['Alice', 'Bob', 'Carol'][i % 3]}\tB-PER`, 'ran\tO', 'home\tO', '');
  const train = join(dir, 'train.conll');
  writeFileSync(train, lines.join('\n'));
  const out = join(dir, 'model');
  const r = await heed('train', 'tag', '--train', train, '--valid', train, '--char-cnn', '--no-char-features', '--max-steps', '4', '--d-model', '16', '--num-heads', '2',
    '--num-layers', '1', '--dim-feedforward', '32', '--eval-every', '0', '--progress', 'none', '--out', out);
  assert.equal(r.code, 0, r.out);
  assert.equal((JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { config: { charCnn: boolean } }).config.charCnn, true);
  const p = await loadPredictor(out);
  assert.equal(String(p.predict(['Dora ran home'])[0].output).split(' ').length, 3);
});
