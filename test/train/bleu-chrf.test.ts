/**
 * BLEU and chrF against hand-worked values (the arithmetic is in the comments), and the 13a
 * tokenizer against mteval-v13a's rules. test/fixtures/train/seqeval-sacrebleu.json adds
 * randomized cases scored by sacreBLEU itself.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import * as h from '../../src/index.js';

const { corpusBleu, corpusChrf, tokenize13a, computeBleu } = h;
const close = (a: number, b: number, tol = 1e-10) => assert.ok(Math.abs(a - b) < tol, `${a} !== ${b}`);

describe('13a tokenization', () => {
  it('splits punctuation and symbols, but not apostrophes, decimals or thousands', () => {
    assert.equal(tokenize13a('Hello, world! It costs $3.50.'), 'Hello , world ! It costs $ 3.50 .');
    assert.equal(tokenize13a("It's 5-6 o'clock... x,y 3,000"), "It's 5 - 6 o'clock . . . x , y 3,000");
  });

  it('unescapes the four HTML entities and drops <skipped> and hyphenated line breaks', () => {
    assert.equal(tokenize13a('a&amp;b &lt;i&gt; &quot;q&quot; <skipped> line-\nbreak'), 'a & b < i > " q " linebreak');
  });
});

describe('corpus BLEU (sacreBLEU defaults)', () => {
  it('is 100 for an exact match and 0 with no matching unigram', () => {
    const r = corpusBleu(['the cat sat on the mat'], [['the cat sat on the mat']]);
    close(r.score, 100);
    assert.deepEqual(r.counts, [6, 5, 4, 3]);
    assert.equal(corpusBleu(['x y z'], [['a b c']]).score, 0);
  });

  it('clips n-gram counts by the reference count', () => {
    // hyp 'the the the the': 4 unigrams, 'the' appears twice in the ref → 2 matches; no bigram matches.
    const r = corpusBleu(['the the the the'], [['the cat the mat']]);
    assert.deepEqual(r.counts, [2, 0, 0, 0]);
    assert.deepEqual(r.totals, [4, 3, 2, 1]);
    // exp smoothing: p = [50, 100/(2·3), 100/(4·2), 100/(8·1)], BP = 1 (same length)
    const expected = Math.exp((Math.log(50) + Math.log(100 / 6) + Math.log(100 / 8) + Math.log(100 / 8)) / 4);
    close(r.score, expected);
    close(r.precisions[1], 100 / 6);
  });

  it('uses the max count over references and the closest reference length, the shorter on a tie', () => {
    // hyp: 'a a b' (3 tokens). refs: 'a b' (2) and 'a a b c' (4): both at distance 1 → r = 2.
    // unigram clip: a → max(1, 2) = 2, b → 1 → 3/3; bigrams 'a a' (ref 2), 'a b' → 2/2;
    // trigram 'a a b' (ref 2) → 1/1; no 4-gram (totals 0 ends the loop, p4 = 0 → log floor).
    const r = corpusBleu(['a a b'], [['a b'], ['a a b c']]);
    assert.deepEqual(r.counts, [3, 2, 1, 0]);
    assert.deepEqual(r.totals, [3, 2, 1, 0]);
    assert.equal(r.refLen, 2);
    assert.equal(r.sysLen, 3);
    assert.equal(r.bp, 1);
    assert.equal(r.score, 0); // a 3-token hypothesis has no 4-gram, so plain BLEU is 0
    // effectiveOrder averages over the 3 orders seen: exp(mean(log 100)) = 100
    close(corpusBleu(['a a b'], [['a b'], ['a a b c']], { effectiveOrder: true }).score, 100);
  });

  it('applies the brevity penalty exp(1 − r/c) on the corpus totals', () => {
    // seg 1: 'a b c d' vs 'a b c d e f' (c 4, r 6); seg 2: exact 'x y z w' (4). c = 8, r = 10.
    // counts: [8, 6, 4, 2] of totals [8, 6, 4, 2] → every p = 100.
    const r = corpusBleu(['a b c d', 'x y z w'], [['a b c d e f', 'x y z w']]);
    assert.deepEqual(r.counts, [8, 6, 4, 2]);
    close(r.bp, Math.exp(1 - 10 / 8));
    close(r.score, 100 * Math.exp(1 - 10 / 8));
  });

  it('tokenizes with 13a before counting', () => {
    // 'Hello, world!' → 'Hello , world !' (4 tokens) matches the pre-split reference exactly.
    close(corpusBleu(['Hello, world!'], [['Hello , world !']]).score, 100);
    close(corpusBleu(['HELLO big wide world'], [['hello big wide world']], { lowercase: true }).score, 100);
    assert.equal(corpusBleu(['HELLO big wide world'], [['hello big wide world']]).counts[0], 3);
  });

  it("implements the other smoothing methods as sacreBLEU's compute_bleu", () => {
    // counts [2, 1, 0, 0] of totals [4, 3, 2, 1], sys 4 = ref 4
    const base = [Math.log(50), Math.log(100 / 3)];
    close(computeBleu([2, 1, 0, 0], [4, 3, 2, 1], 4, 4).score, Math.exp((base[0] + base[1] + Math.log(100 / 4) + Math.log(100 / 4)) / 4));
    close(computeBleu([2, 1, 0, 0], [4, 3, 2, 1], 4, 4, { smoothMethod: 'floor' }).score, Math.exp((base[0] + base[1] + Math.log(10 / 2) + Math.log(10 / 1)) / 4));
    // add-k (k = 1) for n > 1: p2 = 2/4, p3 = 1/3, p4 = 1/2
    close(computeBleu([2, 1, 0, 0], [4, 3, 2, 1], 4, 4, { smoothMethod: 'add-k' }).score, Math.exp((base[0] + Math.log(50) + Math.log(100 / 3) + Math.log(50)) / 4));
    assert.ok(computeBleu([2, 1, 0, 0], [4, 3, 2, 1], 4, 4, { smoothMethod: 'none' }).score < 1e-100);
  });

  it('rejects references in the wrong layout with the fix', () => {
    assert.throws(() => corpusBleu(['a', 'b'], [['a']]), (e: Error) => e instanceof h.ShapeError && /stream 0 has 1 segments but there are 2 hypotheses/.test(e.message));
    assert.throws(() => corpusBleu([], [[]]), /hypotheses is empty/);
    assert.throws(() => corpusBleu(['a'], [[null]]), /segment 0 has no reference/);
  });
});

describe('corpus chrF (sacreBLEU defaults: char order 6, beta 2, word order 0)', () => {
  it('is 100 for an exact match (whitespace ignored) and 0 with no shared character', () => {
    close(corpusChrf(['the cat'], [['thecat']]).score, 100);
    assert.equal(corpusChrf(['abc'], [['xyz']]).score, 0);
  });

  it('averages precision and recall over orders, then takes F-beta', () => {
    // hyp 'ab', ref 'abc': order 1: 2/2 hyp, 2/3 ref; order 2: 1/1, 1/2; order 3: hyp has none → skipped.
    // P = (1 + 1)/2 = 1, R = (2/3 + 1/2)/2 = 7/12; chrF = 100·5·P·R/(4P + R).
    const r = corpusChrf(['ab'], [['abc']]);
    const P = 1, R = 7 / 12;
    close(r.score, (100 * 5 * P * R) / (4 * P + R));
    assert.deepEqual(r.statistics.slice(0, 9), [2, 3, 2, 1, 2, 1, 0, 1, 0]);
  });

  it('keeps the statistics of the best reference per segment', () => {
    const single = corpusChrf(['abc'], [['abc']]).score;
    close(corpusChrf(['abc'], [['xyz'], ['abc']]).score, single);
  });

  it('counts code points, so an emoji is one character', () => {
    const r = corpusChrf(['😀a'], [['😀a']]);
    assert.deepEqual(r.statistics.slice(0, 3), [2, 2, 2]);
  });
});
