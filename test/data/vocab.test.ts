import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { CheckpointError, IndexError, ValueError } from '../../src/errors.js';
import { BOS_ID, EOS_ID, PAD_ID, SPECIAL_TOKENS, UNK_ID, Vocab } from '../../src/data/vocab.js';

describe('Vocab', () => {
  const chars = Vocab.fromSequences(['cab', "a'b"]);

  it('puts <pad>, <bos>, <eos>, <unk> at ids 0..3 and the symbols after them, sorted', () => {
    assert.deepEqual([PAD_ID, BOS_ID, EOS_ID, UNK_ID], [0, 1, 2, 3]);
    assert.deepEqual(chars.tokens, [...SPECIAL_TOKENS, "'", 'a', 'b', 'c']);
  });

  it('encodes characters and phoneme symbols, with optional <bos>/<eos>', () => {
    assert.deepEqual(chars.encode('cab'), new Int32Array([7, 5, 6]));
    assert.deepEqual(chars.encode('cab', { addBos: true, addEos: true }), new Int32Array([1, 7, 5, 6, 2]));
    const phones = Vocab.fromTokens(['K', 'AE', 'T', 'AE']);
    assert.deepEqual(phones.tokens.slice(4), ['AE', 'K', 'T']);
    assert.deepEqual(phones.encode(['K', 'AE', 'T'], { addEos: true }), new Int32Array([5, 4, 6, 2]));
  });

  it('decode inverts encode and strips <pad>, <bos>, <eos>', () => {
    const ids = chars.encode("a'b", { addBos: true, addEos: true });
    assert.deepEqual(chars.decode(ids), ['a', "'", 'b']);
    assert.deepEqual(chars.decode([1, 5, 0, 6, 2, 7, 0]), ['a', 'b']); // stops at <eos>
    assert.deepEqual(chars.decode([1, 5, 2, 7], { stopAtEos: false }), ['a', 'c']);
    assert.throws(() => chars.decode([5, 99]), IndexError);
  });

  it('an out-of-vocabulary symbol throws ValueError naming the symbol and the input, or maps to <unk>', () => {
    assert.throws(() => chars.encode('cxbz'), (err: unknown) => {
      assert.ok(err instanceof ValueError);
      assert.match(err.message, /Vocab\.encode: symbol\(s\) "x", "z" in input "cxbz" are not in the vocabulary/);
      assert.match(err.message, /unknown: 'unk'/);
      return true;
    });
    assert.deepEqual(chars.encode('cxb', { unknown: 'unk' }), new Int32Array([7, UNK_ID, 6]));
    assert.deepEqual(chars.decode([7, UNK_ID]), ['c', '<unk>']);
  });

  it('toJSON / fromJSON and save / load round trip', () => {
    assert.deepEqual(Vocab.fromJSON(JSON.parse(JSON.stringify(chars))).tokens, chars.tokens);
    const dir = mkdtempSync(join(tmpdir(), 'heed-vocab-'));
    try {
      const path = join(dir, 'vocab.json');
      chars.save(path);
      assert.deepEqual(readdirSync(dir), ['vocab.json']);
      assert.deepEqual(Vocab.load(path).tokens, chars.tokens);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('loading a malformed file throws CheckpointError naming the file and the problem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'heed-vocab-'));
    try {
      const cases: [string, RegExp][] = [
        ['{not json', /is not valid JSON/],
        ['[1]', /expected an object/],
        ['{"format":"heed.vocab","version":2,"tokens":[]}', /version must be 1/],
        ['{"format":"heed.vocab","version":1,"tokens":["a"]}', /tokens\[0\] must be '<pad>'/],
        ['{"format":"heed.vocab","version":1,"tokens":["<pad>","<bos>","<eos>","<unk>","a","a"]}', /appears twice/],
        ['{"format":"heed.vocab","version":1,"tokens":["<pad>","<bos>","<eos>","<unk>",3]}', /array of strings/],
      ];
      for (const [text, pattern] of cases) {
        const path = join(dir, 'bad.json');
        writeFileSync(path, text);
        assert.throws(() => Vocab.load(path), (err: unknown) => err instanceof CheckpointError && pattern.test(err.message) && err.message.includes(path), text);
      }
      assert.throws(() => Vocab.load(join(dir, 'missing.json')), CheckpointError);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
