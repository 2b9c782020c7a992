/**
 * The file-driven templates (heed train classify / tag / seq2seq) on small files: each trains a
 * few steps through the CLI, saves the defaults it chose from the data in config.json, evaluates,
 * predicts and reloads; bad configurations and unseen labels are reported as the issue asks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { heed } from './run-cli.ts';
import { evaluate, loadPredictor } from '../../src/tasks/index.ts';
import { allowedTransitions } from '../../src/nn/tag-transitions.ts';

const dir = mkdtempSync(join(tmpdir(), 'heed-templates-'));
const TINY = ['--d-model', '16', '--num-heads', '2', '--num-layers', '1', '--dim-feedforward', '32', '--warmup-steps', '2', '--eval-every', '0', '--progress', 'none'];

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}


const savedConfig = (out: string) => (JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { config: Record<string, unknown> }).config;

const PEOPLE = ['Alice', 'Bob', 'Carol', 'Dave', 'Erin'], PLACES = ['Paris', 'Oslo', 'Lima', 'Rome'];
function conll(n: number, seed: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = PEOPLE[(i + seed) % PEOPLE.length], q = PLACES[(i * 3 + seed) % PLACES.length];
    out.push(`${p}\tB-PER`, `Smith\tI-PER`, 'flew\tO', 'to\tO', `${q}\tB-LOC`, '.\tO', '');
  }
  return out.join('\n');
}

test('tag: trains from CoNLL with a CRF and without, saves the defaults it chose, scores entities, predicts valid BIO', async () => {
  const train = file('train.conll', conll(40, 0)), valid = file('dev.conll', conll(10, 1) + '\nZed\tB-ORG\n');
  for (const crf of ['--crf', '--no-crf']) {
    const out = join(dir, `tag${crf}`);
    const r = await heed('train', 'tag', '--train', train, '--valid', valid, '--max-steps', '6', '--batch-size', '8', '--char-buckets', '64', crf, ...TINY, '--out', out);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /defaults from the data \(saved in config\.json\): maxLen 16/);
    assert.match(r.out, /warning: 1 valid entities have types never seen in training \(ORG\)/);
    const c = savedConfig(out);
    assert.equal(c.maxLen, 16);
    assert.equal(c.crf, crf === '--crf');
    const ev = await evaluate(out, { split: 'valid' });
    for (const k of ['f1', 'precision', 'recall']) assert.ok(ev.metrics[k] >= 0 && ev.metrics[k] <= 1, `${k} ${ev.metrics[k]}`);
    assert.match(ev.report, /PER/);
    const p = await loadPredictor(out);
    const [pred] = p.predict(['Alice Smith flew to Oslo and then to Rome with Bob']);
    const tags = String(pred.output).split(' ').map((wt) => wt.slice(wt.lastIndexOf('/') + 1));
    assert.equal(tags.length, 11);
    const labels = ['O', 'B-LOC', 'I-LOC', 'B-PER', 'I-PER'];
    const allowed = allowedTransitions(labels, 'BIO');
    tags.forEach((t, i) => {
      if (i > 0) assert.ok(allowed.transitions[labels.indexOf(tags[i - 1])][labels.indexOf(t)], `${tags[i - 1]} → ${t} is not BIO`);
    });
    assert.throws(() => p.validateInput('   '), /holds no words/);
  }
});

test('classify: a CSV with quoted newlines trains, an unseen validation label is a warning with its count, predict gives probabilities', async () => {
  const rows = ['text,label'];
  for (let i = 0; i < 60; i++) rows.push(i % 2 ? `"great, really\ngood film ${i}",pos` : `"awful ""boring"" film ${i}",neg`);
  const train = file('train.csv', rows.join('\n') + '\n');
  const valid = file('valid.csv', 'text,label\ngood film,pos\nboring,neg\nmeh,neutral\nso so,neutral\n');
  const out = join(dir, 'classify');
  const r = await heed('train', 'classify', '--train', train, '--valid', valid, '--max-steps', '8', '--batch-size', '16', ...TINY, '--out', out);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /warning: 2 validation label\(s\) never seen in training \(2 × 'neutral'\); those examples are left out/);
  assert.match(r.out, /60 training texts, 2 validation, 2 labels/);
  const p = await loadPredictor(out);
  const [pred] = p.predict(['a good film']);
  assert.ok(pred.output === 'pos' || pred.output === 'neg');
  assert.equal(pred.alternatives!.length, 2);
  assert.ok(Math.abs(pred.alternatives!.reduce((s, a) => s + a.score, 0) - 1) < 1e-5);
  const ev = await evaluate(out, { split: 'valid' });
  assert.equal(ev.metrics.examples, 2);
  assert.match(ev.report, /accuracy/);
  const again = await heed('train', 'classify', '--train', train, '--max-steps', '2', ...TINY, '--out', out, '--overwrite');
  assert.equal(again.code, 0, `--overwrite replaces a template's model, task-meta.json included: ${again.out}`);
});

test('classify: multi-label JSONL, and a validation split hashed out of train when --valid is absent', async () => {
  const lines = Array.from({ length: 80 }, (_, i) => JSON.stringify({ body: `item ${i} ${i % 2 ? 'red' : ''} ${i % 3 ? 'round' : ''}`, tags: [...(i % 2 ? ['red'] : []), ...(i % 3 ? ['round'] : [])] }));
  const train = file('multi.jsonl', lines.join('\n') + '\n');
  const out = join(dir, 'multi');
  const r = await heed('train', 'classify', '--train', train, '--text-column', 'body', '--label-column', 'tags', '--multi-label', '--max-steps', '4', ...TINY, '--out', out);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /training texts \(90% hash split; the other 10% validate\)/);
  const p = await loadPredictor(out);
  const [pred] = p.predict(['item red round']);
  assert.ok(Array.isArray(pred.output));
  assert.equal(pred.alternatives!.length, 2);
});

test('classify: a missing column fails before anything is written', async () => {
  const train = file('nolabel.csv', 'text,score\nhello,1\n');
  const out = join(dir, 'missing');
  const r = await heed('train', 'classify', '--train', train, '--max-steps', '2', ...TINY, '--out', out);
  assert.equal(r.code, 1);
  assert.match(r.out, /nolabel\.csv:1:11: missing column 'label'/);
  assert.ok(!existsSync(join(out, 'config.json')));
});

test('seq2seq: trains from a TSV, scores BLEU/chrF/exact match, decodes greedily and with a beam', async () => {
  const words = ['cat', 'dog', 'bird', 'fish', 'mouse', 'horse', 'lion', 'tiger', 'bear', 'wolf'];
  const pairs = words.flatMap((w) => [`${w}\t${[...w].reverse().join(' ')}`]);
  const train = file('pairs.tsv', [...pairs, ...pairs, ...pairs].join('\n') + '\n');
  const valid = file('valid.tsv', pairs.slice(0, 4).join('\n') + '\n');
  const out = join(dir, 'seq2seq');
  const r = await heed('train', 'seq2seq', '--train', train, '--valid', valid, '--max-steps', '6', '--max-tokens', '200', ...TINY, '--out', out);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /source chars \(\d+ symbols\), target words \(\d+ symbols\)/);
  const ev = await evaluate(out, { split: 'valid' });
  for (const k of ['bleu', 'chrf', 'exactMatch', 'tokenErrorRate']) assert.ok(Number.isFinite(ev.metrics[k]), k);
  const p = await loadPredictor(out);
  const [greedy] = p.predict(['cat']);
  assert.equal(typeof greedy.output, 'string');
  const [beam] = p.predict(['cat'], { nBest: 3 });
  assert.equal(beam.alternatives!.length, 3);
  assert.ok(beam.alternatives![0].score >= beam.alternatives![2].score);
  const bad = file('bad.tsv', 'cat\tt a c\ndog t a c\n');
  const e = await heed('train', 'seq2seq', '--train', bad, ...TINY, '--out', join(dir, 'bad'));
  assert.equal(e.code, 1);
  assert.match(e.out, /bad\.tsv:2:10: expected source<TAB>target, found no TAB/);
});

test('seq2seq: a model of the earlier template (vocabularies in task-meta.json) is a CheckpointError that says to retrain', async () => {
  const words = ['cat', 'dog', 'bird', 'fish'];
  const train = file('old.tsv', words.map((w) => `${w}\t${[...w].join(' ')}`).join('\n') + '\n');
  const out = join(dir, 'seq2seq-old');
  const r = await heed('train', 'seq2seq', '--train', train, '--valid', train, '--max-steps', '2', '--max-tokens', '200', ...TINY, '--out', out);
  assert.equal(r.code, 0, r.out);
  // Rewrite the directory the way the earlier template (defineTask) left it.
  const cfgFile = join(out, 'config.json');
  const cfg = JSON.parse(readFileSync(cfgFile, 'utf8')) as { files: Record<string, string> };
  cfg.files = { meta: 'task-meta.json' };
  writeFileSync(join(out, 'task-meta.json'), JSON.stringify({ meta: { src: ['c'], tgt: ['c'], srcTokenizer: 'chars', tgtTokenizer: 'words' } }));
  writeFileSync(cfgFile, JSON.stringify(cfg));
  await assert.rejects(() => loadPredictor(out), (e: Error) => e.name === 'CheckpointError' && /earlier seq2seq template .* Fix: retrain it/.test(e.message));
});

test('g2p and seq2seq are one template: a seq2seq model has the g2p task\'s ensembles and attention maps', async () => {
  const words = ['cat', 'dog', 'bird', 'fish', 'mouse', 'horse'];
  const pairs = words.map((w) => `${w}\t${[...w].reverse().join(' ')}`);
  const train = file('ens.tsv', [...pairs, ...pairs].join('\n') + '\n');
  const out = join(dir, 'seq2seq-ens');
  const r = await heed('train', 'seq2seq', '--train', train, '--valid', train, '--max-steps', '4', '--max-tokens', '200', ...TINY, '--out', out);
  assert.equal(r.code, 0, r.out);
  const one = await loadPredictor(out), two = await loadPredictor([out, out]);
  assert.deepEqual(two.predict(words).map((x) => x.output), one.predict(words).map((x) => x.output));
  const [a] = one.predict(['cat'], { attention: true });
  const cross = a.attention!.find((m) => m.kind === 'cross')!;
  assert.deepEqual(cross.keyTokens, ['c', 'a', 't']);
  assert.equal(cross.queryTokens.at(-1), '<eos>');
});
