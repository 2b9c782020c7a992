import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { buildG2P, loadCmudict } from '../../src/data/cmudict.js';
import { fnv1a32, hashSplit } from '../../src/data/split.js';

describe('CMUdict G2P data', () => {
  const g2p = loadCmudict();

  it('has the documented counts (stdlib 0.2.3)', () => {
    assert.deepEqual(g2p.counts, {
      entries: 133784,
      droppedEntries: 127,
      droppedWords: 115,
      words: 124890,
      pronunciations: 133342,
      mergedDuplicates: 315,
      train: { words: 112359, examples: 119953 },
      valid: { words: 6317, examples: 6775 },
      test: { words: 6214, examples: 6614 },
    });
  });

  it('drops exactly the words with characters outside a-z, apostrophe, hyphen, period', () => {
    assert.ok(g2p.dropped.includes('air_force') && g2p.dropped.includes('a42128') && g2p.dropped.includes('{brace'));
    assert.ok(g2p.dropped.every((w) => !/^[a-z'.-]+$/.test(w)));
    assert.deepEqual(g2p.letters, [..."'-.abcdefghijklmnopqrstuvwxyz"]);
  });

  it('strips stress by default (39 phonemes) and keeps it on request (69 symbols)', () => {
    assert.equal(g2p.phonemes.length, 39);
    assert.ok(g2p.phonemes.every((p) => !/\d/.test(p)));
    const stressed = loadCmudict({ keepStress: true });
    assert.equal(stressed.phonemes.length, 69);
    const all = [...stressed.train.words, ...stressed.valid.words, ...stressed.test.words];
    assert.deepEqual(all.find((w) => w.word === 'aardvark')?.pronunciations, [['AA1', 'R', 'D', 'V', 'AA2', 'R', 'K']]);
  });

  it('no test or valid word appears in train, and every word is where its hash says', () => {
    const train = new Set(g2p.train.words.map((w) => w.word));
    assert.ok(g2p.test.words.every((w) => !train.has(w.word)));
    assert.ok(g2p.valid.words.every((w) => !train.has(w.word)));
    for (const split of ['train', 'valid', 'test'] as const) assert.ok(g2p[split].words.every((w) => hashSplit(w.word) === split));
  });

  it('keeps all pronunciations of a word together; training gets one example per pronunciation', () => {
    const dict = { ABBE: 'AE1 B IY0', 'ABBE(1)': 'AE1 B EY1', 'ABBE(2)': 'AE2 B IY0', CAT: 'K AE1 T', 'C3PO': 'S IY1' };
    const small = buildG2P(dict, false);
    const all = [...small.train.words, ...small.valid.words, ...small.test.words];
    // AE1 B IY0 and AE2 B IY0 are the same without stress: merged.
    assert.deepEqual(all.find((w) => w.word === 'abbe')?.pronunciations, [['AE', 'B', 'IY'], ['AE', 'B', 'EY']]);
    assert.equal(small.counts.mergedDuplicates, 1);
    assert.deepEqual(small.dropped, ['c3po']);
    const examples = [...small.train.examples, ...small.valid.examples, ...small.test.examples];
    assert.equal(examples.filter((e) => e.word === 'abbe').length, 2);
  });

  it('uses FNV-1a 32-bit (published test vectors)', () => {
    assert.equal(fnv1a32(''), 0x811c9dc5);
    assert.equal(fnv1a32('a'), 0xe40c292c);
    assert.equal(fnv1a32('foobar'), 0xbf9cf968);
  });
});
