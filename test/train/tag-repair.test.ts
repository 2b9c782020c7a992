/**
 * Decode-time BIO / BIOES repair: constrainedDecode is checked against brute force over every
 * valid sequence, repairTags against hand-worked rewrites and the conlleval reading it preserves.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import * as h from '../../src/index.js';

const { repairTags, constrainedDecode, nn } = h;

describe('repairTags', () => {
  it('turns an I- that opens a span into B-, and splits type changes (BIO)', () => {
    assert.deepEqual(repairTags(['O', 'I-PER', 'I-PER', 'B-LOC', 'I-ORG'], 'BIO'), ['O', 'B-PER', 'I-PER', 'B-LOC', 'B-ORG']);
    assert.deepEqual(repairTags(['I-PER'], 'IOB2'), ['B-PER']);
    assert.deepEqual(repairTags(['B-PER', 'I-PER', 'O'], 'BIO'), ['B-PER', 'I-PER', 'O'], 'a valid sequence is unchanged');
  });

  it('closes spans with E- and writes single tokens as S- (BIOES)', () => {
    assert.deepEqual(repairTags(['I-PER', 'I-PER', 'O', 'B-LOC', 'I-ORG'], 'BIOES'), ['B-PER', 'E-PER', 'O', 'S-LOC', 'S-ORG']);
    assert.deepEqual(repairTags(['B-PER', 'I-PER', 'I-PER'], 'BIOES'), ['B-PER', 'I-PER', 'E-PER']);
    // BIOES input read the conlleval way, re-written as BIO
    assert.deepEqual(repairTags(['S-PER', 'E-PER', 'B-LOC', 'E-LOC'], 'BIO'), ['B-PER', 'B-PER', 'B-LOC', 'I-LOC']);
  });

  it('keeps the default-mode entities and yields a strictly valid sequence', () => {
    const gen = new h.Generator(5);
    const tagSet = ['O', 'B-PER', 'I-PER', 'E-PER', 'S-PER', 'B-LOC', 'I-LOC'];
    for (let trial = 0; trial < 200; trial++) {
      const tags = Array.from({ length: 1 + Math.floor(gen.uniform() * 7) }, () => tagSet[Math.floor(gen.uniform() * tagSet.length)]);
      for (const [scheme, strict] of [['BIO', 'IOB2'], ['BIOES', 'IOBES']] as const) {
        const fixed = repairTags(tags, scheme);
        const lenient = h.getEntities([tags]);
        assert.deepEqual(h.getEntities([fixed]), lenient, `${tags.join(' ')} → ${fixed.join(' ')}`);
        assert.deepEqual(h.getEntitiesStrict([fixed], strict), lenient, `${fixed.join(' ')} is not strict ${strict}`);
      }
    }
  });

  it('a sequence that cannot be repaired is a ValueError naming the token', () => {
    assert.throws(() => repairTags(['O', 'X-PER'], 'BIO'), (e: Error) => e instanceof h.ValueError && /token 1 has tag "X-PER", which cannot be repaired/.test(e.message));
    assert.throws(() => repairTags(['O', 'I-PER'], 'BIO', { labels: ['O', 'I-PER'] }), /token 1 \('I-PER'\) cannot be repaired: the valid BIO sequence needs 'B-PER'/);
  });
});

describe('constrainedDecode', () => {
  const labels = ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC'];

  it('returns the best valid sequence, equal to brute force over all valid ones', () => {
    const gen = new h.Generator(9);
    const allowed = nn.allowedTransitions(labels, 'BIO');
    const valid = (y: number[]) => allowed.start[y[0]] && y.every((k, t) => t === 0 || allowed.transitions[y[t - 1]][k]);
    for (let trial = 0; trial < 20; trial++) {
      const T = 4;
      const scores = Array.from({ length: T }, () => Array.from({ length: 5 }, () => gen.normal() * 2));
      let best = -Infinity, bestTags: string[] = [];
      let paths: number[][] = [[]];
      for (let t = 0; t < T; t++) paths = paths.flatMap((p) => labels.map((_, k) => [...p, k]));
      for (const y of paths.filter(valid)) {
        const s = y.reduce((a, k, t) => a + scores[t][k], 0);
        if (s > best) [best, bestTags] = [s, y.map((k) => labels[k])];
      }
      assert.deepEqual(constrainedDecode(scores, labels, 'BIO'), bestTags);
    }
  });

  it('fixes what a per-token argmax gets wrong, and accepts a (T, K) tensor', () => {
    // argmax: O I-PER I-PER (invalid). Best valid: O B-PER I-PER (0 + 2 + 3) beats B-PER I-PER I-PER (1 + 0 + 3).
    const scores = [[3, 1, 0, 0, 0], [0, 2, 4, 0, 0], [0, 0, 3, 0, 0]];
    assert.deepEqual(constrainedDecode(scores, labels, 'BIO'), ['O', 'B-PER', 'I-PER']);
    assert.deepEqual(constrainedDecode(h.tensor(scores), labels, 'BIO'), ['O', 'B-PER', 'I-PER']);
  });

  it('BIOES: never ends inside a span', () => {
    const bioes = ['O', 'B-PER', 'I-PER', 'E-PER', 'S-PER'];
    // Token 1 strongly wants B-PER, but a sentence cannot end on B-: S-PER is the best valid choice.
    assert.deepEqual(constrainedDecode([[5, 0, 0, 0, 0], [0, 9, 0, 0, 1]], bioes, 'BIOES'), ['O', 'S-PER']);
  });

  it('errors when no valid sequence exists or a score is NaN', () => {
    assert.throws(() => constrainedDecode([[1]], ['I-PER'], 'BIO'), (e: Error) => e instanceof h.ValueError && /no valid BIO sequence of 1 tokens/.test(e.message));
    assert.throws(() => constrainedDecode([[NaN, 0, 0, 0, 0]], labels, 'BIO'), /token 0, label 'O' is NaN/);
    assert.throws(() => constrainedDecode([[0, 0]], labels, 'BIO'), h.ShapeError);
    assert.throws(() => constrainedDecode([[0, 0, 0, 0, 0]], labels, 'IOB1' as 'BIO'), /scheme 'IOB1' is unknown/);
  });
});
