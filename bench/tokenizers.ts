/**
 * Tokenizer speed: heed's tokenizers against @huggingface/tokenizers 0.2.0 (Hugging Face's pure-JS
 * tokenizers, the same pipeline read from the same tokenizer.json) and npm gpt-3-encoder (OpenAI's
 * GPT-2 encoder ported to JS), on the 3,018 sentences of the parity fixture, in one process.
 *
 *   node --import tsx bench/tokenizers.ts --out bench/results/tokenizers-<date>.json
 *
 * Each round encodes every sentence once with each implementation, in turn (interleaved, so a
 * change in machine load hits all of them); the figure kept is the best round. The first round
 * also fills the BPE caches, as real use would. The rows also say what each implementation
 * returns besides ids (offsets, truncation, padding), which is why heed does not wrap HF's.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

import { Tokenizer as HFTokenizer } from '@huggingface/tokenizers';

import { bertTokenizerFromVocab, gpt2TokenizerFromFiles } from '../src/data/tokenizers/index.ts';
import { bertVocabTxt, gpt2MergesTxt, gpt2VocabJson } from '../test/data/tokenizers/reference-vocabs.ts';
import { readArgs } from './args.ts';

const require = createRequire(import.meta.url);
const ROUNDS = 7;

const out = readArgs(import.meta.url, { out: { kind: 'string', help: 'raw results file (JSON)' } }).out;

const fixture = JSON.parse(gunzipSync(readFileSync(join(import.meta.dirname, '..', 'test', 'fixtures', 'tokenizers', 'parity.json.gz'))).toString('utf8')) as { sentences: string[] };
const sentences = fixture.sentences;
const chars = sentences.reduce((n, s) => n + s.length, 0);

function time<T>(f: () => T): [T, number] {
  const t = performance.now();
  const r = f();
  return [r, performance.now() - t];
}

const load = loadavg()[0];
const [bert, bertLoadMs] = time(() => bertTokenizerFromVocab(bertVocabTxt()));
const [gpt2, gpt2LoadMs] = time(() => gpt2TokenizerFromFiles(gpt2VocabJson(), gpt2MergesTxt()));
const bertJson = bert.toJSON();
const gpt2Json = gpt2.toJSON();
const [hfBert, hfBertLoadMs] = time(() => new HFTokenizer(bertJson, {}));
const [hfGpt2, hfGpt2LoadMs] = time(() => new HFTokenizer(gpt2Json, {}));
const [gpt3enc, gpt3encLoadMs] = time(() => require('gpt-3-encoder') as { encode(s: string): number[] });

const cases: { name: string; vocab: string; loadMs: number; returns: string; encode: (s: string) => unknown }[] = [
  { name: 'heed', vocab: 'bert-base-uncased', loadMs: bertLoadMs, returns: 'ids, tokens, offsets, word ids, type ids, masks', encode: (s) => bert.encode(s) },
  { name: '@huggingface/tokenizers 0.2.0', vocab: 'bert-base-uncased', loadMs: hfBertLoadMs, returns: 'ids, tokens, attention mask', encode: (s) => hfBert.encode(s) },
  { name: 'heed', vocab: 'gpt2', loadMs: gpt2LoadMs, returns: 'ids, tokens, offsets, word ids, type ids, masks', encode: (s) => gpt2.encode(s) },
  { name: '@huggingface/tokenizers 0.2.0', vocab: 'gpt2', loadMs: hfGpt2LoadMs, returns: 'ids, tokens, attention mask', encode: (s) => hfGpt2.encode(s) },
  { name: 'gpt-3-encoder 1.1.4', vocab: 'gpt2', loadMs: gpt3encLoadMs, returns: 'ids', encode: (s) => gpt3enc.encode(s) },
];

const rounds: number[][] = cases.map(() => []);
for (let r = 0; r < ROUNDS; r++) {
  cases.forEach((c, i) => {
    const [, ms] = time(() => {
      for (const s of sentences) c.encode(s);
    });
    rounds[i]!.push(ms);
  });
}

const rows = cases.map((c, i) => {
  const best = Math.min(...rounds[i]!);
  return { implementation: c.name, vocab: c.vocab, returns: c.returns, loadMs: +c.loadMs.toFixed(1), bestMs: +best.toFixed(1), usPerSentence: +((best * 1000) / sentences.length).toFixed(1), roundsMs: rounds[i]!.map((x) => +x.toFixed(1)) };
});
const result = { what: 'tokenizer encode speed, best of interleaved rounds', sentences: sentences.length, chars, rounds: ROUNDS, node: process.version, loadavg1mStart: load, loadavg1mEnd: loadavg()[0], date: new Date().toISOString(), rows };
console.table(rows.map(({ roundsMs: _r, ...r }) => r));
if (out !== undefined) {
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote ${out}`);
}
