// Token ids equal the reference implementations' on 3,018 real sentences (State of the Union,
// SpamAssassin mail lines, hand-written edge cases), with the real GPT-2 and bert-base-uncased
// vocabularies. The golden ids come from tools/fixtures/make_tokenizer_fixtures.py (transformers'
// BasicTokenizer + WordpieceTokenizer, OpenAI's encoder.py); GPT-2 is also checked live against
// npm gpt-3-encoder's encode().
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';

import { bertTokenizerFromVocab, gpt2TokenizerFromFiles } from '../../../src/data/tokenizers/index.js';
import { bertVocabTxt, gpt2MergesTxt, gpt2VocabJson } from './reference-vocabs.js';

const require = createRequire(import.meta.url);
const FIXTURE = join(import.meta.dirname, '..', '..', 'fixtures', 'tokenizers', 'parity.json.gz');

interface ParityFixture {
  sentences: string[];
  bert_base_uncased: number[][];
  gpt2: number[][];
}
const fx = JSON.parse(gunzipSync(readFileSync(FIXTURE)).toString('utf8')) as ParityFixture;

/** Indices where `ours` differs from `golden`, with the first few shown. */
function mismatches(ours: (s: string) => number[], golden: number[][]): string[] {
  const bad: string[] = [];
  fx.sentences.forEach((s, i) => {
    const got = ours(s);
    if (got.length !== golden[i]!.length || got.some((id, k) => id !== golden[i]![k])) bad.push(`#${i} ${JSON.stringify(s.slice(0, 60))}: got ${got.slice(0, 12).join(' ')}…, expected ${golden[i]!.slice(0, 12).join(' ')}…`);
  });
  return bad;
}

describe('tokenizer parity on real text', () => {
  it('the fixture holds thousands of sentences from both corpora and the edge cases', () => {
    assert.ok(fx.sentences.length >= 3000, `${fx.sentences.length} sentences`);
    assert.equal(fx.bert_base_uncased.length, fx.sentences.length);
    assert.equal(fx.gpt2.length, fx.sentences.length);
    assert.ok(fx.sentences.some((s) => s.includes('😀')) && fx.sentences.some((s) => s.includes('北京')));
  });

  it('bert-base-uncased WordPiece ids equal transformers BasicTokenizer + WordpieceTokenizer on every sentence', () => {
    const bert = bertTokenizerFromVocab(bertVocabTxt());
    assert.equal(bert.vocabSize, 30522);
    const bad = mismatches((s) => bert.encode(s, null, { addSpecialTokens: false }).ids, fx.bert_base_uncased);
    assert.deepEqual(bad.slice(0, 5), [], `${bad.length} of ${fx.sentences.length} sentences differ`);
    // And with special tokens: [CLS] … [SEP].
    const e = bert.encode(fx.sentences[100]!);
    assert.deepEqual(e.ids, [101, ...fx.bert_base_uncased[100]!, 102]);
  });

  it('GPT-2 byte-level BPE ids equal OpenAI encoder.py on every sentence', () => {
    const gpt2 = gpt2TokenizerFromFiles(gpt2VocabJson(), gpt2MergesTxt());
    assert.equal(gpt2.vocabSize, 50257);
    const bad = mismatches((s) => gpt2.encode(s).ids, fx.gpt2);
    assert.deepEqual(bad.slice(0, 5), [], `${bad.length} of ${fx.sentences.length} sentences differ`);
  });

  it('GPT-2 ids equal npm gpt-3-encoder encode() on every sentence, and decode() gives the text back', () => {
    const gpt2 = gpt2TokenizerFromFiles(gpt2VocabJson(), gpt2MergesTxt());
    const reference = require('gpt-3-encoder') as { encode(s: string): number[] };
    const golden = fx.sentences.map((s) => reference.encode(s));
    const bad = mismatches((s) => gpt2.encode(s).ids, golden);
    assert.deepEqual(bad.slice(0, 5), [], `${bad.length} of ${fx.sentences.length} sentences differ from gpt-3-encoder`);
    const notRoundTrip = fx.sentences.filter((s) => gpt2.decode(gpt2.encode(s).ids) !== s);
    assert.deepEqual(notRoundTrip.slice(0, 3), []);
  });

  it('offsets point at the text each token came from, on every sentence', () => {
    const bert = bertTokenizerFromVocab(bertVocabTxt());
    const normalize = (s: string) => s.toLowerCase().normalize('NFD').replace(/[\p{Mn}\p{C}\uFFFD]/gu, '');
    for (const s of fx.sentences) {
      const e = bert.encode(s, null, { addSpecialTokens: false });
      let last = 0;
      e.tokens.forEach((t, k) => {
        const [a, b] = e.offsets[k]!;
        assert.ok(a >= last && b > a && b <= s.length, `${JSON.stringify(s)}: token ${t} has offsets [${a}, ${b}]`);
        last = a;
        // A WordPiece token is its source text, normalized (an [UNK] covers a whole word); a token
        // that is part of one character (Hangul "한" decomposes into three jamo) points at the whole character.
        if (t !== '[UNK]') assert.ok(normalize(s.slice(a, b)).includes(t.replace(/^##/, '')), `${JSON.stringify(s)}: ${t} at [${a}, ${b}]`);
      });
    }
  });
});
