// Hand-worked cases for the tokenizer features: accents, CJK, emoji, whitespace runs, unknown
// words, special tokens in the text, pairs, truncation, padding, offsets, word ids, decoding.
// Vocabularies: the real bert-base-uncased and GPT-2 ones (reference-vocabs.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ValueError } from '../../../src/errors.js';
import { bertTokenizerFromVocab, gpt2TokenizerFromFiles } from '../../../src/data/tokenizers/index.js';
import { bertVocabTxt, gpt2MergesTxt, gpt2VocabJson } from './reference-vocabs.js';

const bert = bertTokenizerFromVocab(bertVocabTxt());
const gpt2 = gpt2TokenizerFromFiles(gpt2VocabJson(), gpt2MergesTxt());
const spans = (text: string, offsets: [number, number][]) => offsets.map(([a, b]) => text.slice(a, b));

describe('BERT WordPiece tokenizer', () => {
  it('lowercases, strips accents and splits punctuation, with offsets into the original text', () => {
    const text = 'Héllo, WÖRLD!';
    const e = bert.encode(text);
    assert.deepEqual(e.tokens, ['[CLS]', 'hello', ',', 'world', '!', '[SEP]']);
    assert.deepEqual(e.ids, [101, 7592, 1010, 2088, 999, 102]);
    assert.deepEqual(spans(text, e.offsets), ['', 'Héllo', ',', 'WÖRLD', '!', '']);
    assert.deepEqual(e.wordIds, [null, 0, 1, 2, 3, null]);
    assert.deepEqual(e.specialTokensMask, [1, 0, 0, 0, 0, 1]);
    assert.deepEqual(e.attentionMask, [1, 1, 1, 1, 1, 1]);
  });

  it('splits a word into ## pieces that share its word id', () => {
    const e = bert.encode('unaffable', null, { addSpecialTokens: false });
    assert.deepEqual(e.tokens, ['una', '##ffa', '##ble']);
    assert.deepEqual(e.offsets, [[0, 3], [3, 6], [6, 9]]);
    assert.deepEqual(e.wordIds, [0, 0, 0]);
  });

  it('surrounds CJK ideographs with spaces, so each is its own word', () => {
    const e = bert.encode('东京大学', null, { addSpecialTokens: false });
    assert.equal(e.tokens.length, 4);
    assert.deepEqual(e.wordIds, [0, 1, 2, 3]);
    assert.deepEqual(e.offsets, [[0, 1], [1, 2], [2, 3], [3, 4]]);
  });

  it('maps an emoji, and a word longer than 100 characters, to [UNK] over the whole word', () => {
    const text = 'ok 😀 ' + 'a'.repeat(101);
    const e = bert.encode(text, null, { addSpecialTokens: false });
    assert.deepEqual(e.tokens, ['ok', '[UNK]', '[UNK]']);
    assert.deepEqual(e.offsets, [[0, 2], [3, 5], [6, 107]]); // the emoji is two UTF-16 units
  });

  it('drops whitespace runs, tabs, newlines and control characters', () => {
    const e = bert.encode('a  \t\n b\u0000c\u200bd', null, { addSpecialTokens: false });
    assert.deepEqual(e.tokens, ['a', 'bc', '##d']);
    assert.deepEqual(e.offsets, [[0, 1], [6, 9], [10, 11]]); // 'b\u0000c' and 'd': removed characters inside a token stay in its span
    assert.deepEqual(bert.encode('   ', null, { addSpecialTokens: false }).ids, []);
  });

  it('keeps a special token written in the text whole ([MASK] for fill-mask)', () => {
    const e = bert.encode('Paris is the [MASK] of France.');
    assert.deepEqual(e.tokens, ['[CLS]', 'paris', 'is', 'the', '[MASK]', 'of', 'france', '.', '[SEP]']);
    assert.equal(e.ids[4], 103);
    assert.deepEqual(e.offsets[4], [13, 19]);
  });

  it('encodes a pair as [CLS] A [SEP] B [SEP] with type ids 0 then 1 and sequence ids', () => {
    const e = bert.encode('Hello there', 'General Kenobi');
    assert.deepEqual(e.tokens, ['[CLS]', 'hello', 'there', '[SEP]', 'general', 'ken', '##ob', '##i', '[SEP]']);
    assert.deepEqual(e.typeIds, [0, 0, 0, 0, 1, 1, 1, 1, 1]);
    assert.deepEqual(e.sequenceIds, [null, 0, 0, null, 1, 1, 1, 1, null]);
    assert.deepEqual(e.wordIds, [null, 0, 1, null, 0, 1, 1, 1, null]);
  });

  it('truncates to maxLength with the special tokens counted, from either side', () => {
    const text = 'one two three four five six';
    assert.deepEqual(bert.encode(text, null, { truncation: true, maxLength: 5 }).tokens, ['[CLS]', 'one', 'two', 'three', '[SEP]']);
    assert.deepEqual(bert.encode(text, null, { truncation: true, maxLength: 5, truncationSide: 'left' }).tokens, ['[CLS]', 'four', 'five', 'six', '[SEP]']);
    assert.equal(bert.encode(text, null, { maxLength: 5 }).ids.length, 8, 'no truncation unless asked');
  });

  it('truncates a pair longest-first (the shorter kept whole when it can be), only_first, only_second', () => {
    const a = 'a b c d e f g h';
    const b = 'x y';
    const lengths = (o: object) => {
      const e = bert.encode(a, b, o);
      return [e.sequenceIds.filter((s) => s === 0).length, e.sequenceIds.filter((s) => s === 1).length];
    };
    assert.deepEqual(lengths({ truncation: true, maxLength: 9 }), [4, 2]); // 9 - 3 specials = 6: B (2) kept, A cut to 4
    assert.deepEqual(lengths({ truncation: true, maxLength: 6 }), [2, 1]); // room 3: halves, the longer A gets the odd token
    assert.deepEqual(lengths({ truncation: 'only_first', maxLength: 7 }), [2, 2]);
    assert.throws(() => bert.encode(a, b, { truncation: 'only_second', maxLength: 7 }), (e: unknown) => e instanceof ValueError && /only_second must remove 6 tokens but the second text has only 2/.test(e.message));
    assert.throws(() => bert.encode(a, b, { truncation: true }), (e: unknown) => e instanceof ValueError && /needs maxLength/.test(e.message));
  });

  it('pads a batch to its longest row (or to maxLength / a multiple), with a zero attention mask', () => {
    const batch = bert.encodeBatch(['a b c', 'd', ['e', 'f']], { padding: true });
    assert.deepEqual(batch.inputIds, [
      [101, 1037, 1038, 1039, 102],
      [101, 1040, 102, 0, 0],
      [101, 1041, 102, 1042, 102],
    ]);
    assert.deepEqual(batch.attentionMask[1], [1, 1, 1, 0, 0]);
    assert.deepEqual(batch.tokenTypeIds[2], [0, 0, 0, 1, 1]);
    assert.deepEqual(batch.encodings[1]!.wordIds, [null, 0, null, null, null]);
    assert.equal(bert.encodeBatch(['a'], { padding: 'max_length', maxLength: 8 }).inputIds[0]!.length, 8);
    assert.equal(bert.encodeBatch(['a b c'], { padding: true, padToMultipleOf: 8 }).inputIds[0]!.length, 8);
    assert.deepEqual(bert.encodeBatch(['a', 'b c'], { padding: true, paddingSide: 'left' }).attentionMask[0], [0, 1, 1, 1]);
    assert.deepEqual(bert.encodeBatch(['a', 'b c']).inputIds, [[101, 1037, 102], [101, 1038, 1039, 102]], 'no padding unless asked');
  });

  it('encodeWords gives word ids that index the given words, for NER label alignment', () => {
    const words = ['EU', 'rejects', 'German', 'call', 'unaffable'];
    const e = bert.encodeWords(words);
    assert.deepEqual(e.tokens, ['[CLS]', 'eu', 'rejects', 'german', 'call', 'una', '##ffa', '##ble', '[SEP]']);
    assert.deepEqual(e.wordIds, [null, 0, 1, 2, 3, 4, 4, 4, null]);
  });

  it('decodes ids back to text, joining ## pieces and optionally skipping special tokens', () => {
    const ids = bert.encode("Hello, world! It's unaffable.").ids;
    assert.equal(bert.decode(ids), "[CLS] hello, world! it's unaffable. [SEP]");
    assert.equal(bert.decode(ids, { skipSpecialTokens: true }), "hello, world! it's unaffable.");
    assert.throws(() => bert.decode([101, 99999]), /ids\[1\] = 99999 is not a token id/);
  });
});

describe('GPT-2 byte-level BPE tokenizer', () => {
  it('keeps the space with the following word and gives offsets over the original text', () => {
    const text = 'Hello world, привет!';
    const e = gpt2.encode(text);
    assert.deepEqual(e.tokens.slice(0, 3), ['Hello', 'Ġworld', ',']);
    assert.deepEqual(e.ids.slice(0, 3), [15496, 995, 11]);
    assert.deepEqual(spans(text, e.offsets).slice(0, 3), ['Hello', ' world', ',']);
    assert.equal(spans(text, e.offsets).join('').replace(/(.)\1+/gu, '$1'), text.replace(/(.)\1+/gu, '$1'));
    assert.equal(gpt2.decode(e.ids), text);
  });

  it('splits an emoji into byte tokens that all point at the emoji, and decodes it back', () => {
    const text = 'hi 😀';
    const e = gpt2.encode(text);
    assert.deepEqual(e.ids, [5303, 30325, 222]);
    assert.deepEqual(e.offsets, [[0, 2], [2, 5], [3, 5]]);
    assert.equal(gpt2.decode(e.ids), text);
    assert.equal(gpt2.decode([30325]), ' \ufffd', 'an incomplete UTF-8 sequence (space + 3 of the emoji\'s 4 bytes) decodes to U+FFFD');
  });

  it('keeps whitespace runs: all but the last space form a word, the last starts the next word', () => {
    const e = gpt2.encode('a   b\n\nc');
    assert.deepEqual(e.tokens, ['a', 'Ġ', 'Ġ', 'Ġb', 'Ċ', 'Ċ', 'c']); // GPT-2 has no 'ĠĠ' token
    assert.deepEqual(e.wordIds, [0, 1, 1, 2, 3, 4, 5]);
  });

  it('matches <|endoftext|> in the text as the one special token', () => {
    const e = gpt2.encode('end<|endoftext|>start');
    assert.deepEqual(e.tokens, ['end', '<|endoftext|>', 'start']);
    assert.equal(e.ids[1], 50256);
    assert.equal(gpt2.decode(e.ids, { skipSpecialTokens: true }), 'endstart');
  });

  it('refuses padding without a pad token, and pads with one when given', () => {
    assert.throws(() => gpt2.encodeBatch(['a', 'b c'], { padding: true }), (e: unknown) => e instanceof ValueError && /no pad token.*padToken: '<\|endoftext\|>'/.test(e.message));
    const batch = gpt2.encodeBatch(['a', 'b c'], { padding: true, padToken: '<|endoftext|>' });
    assert.deepEqual(batch.inputIds, [[64, 50256], [65, 269]]);
    assert.deepEqual(batch.attentionMask, [[1, 0], [1, 1]]);
  });

  it('encodeWords joins words with spaces and maps each token to its word', () => {
    const e = gpt2.encodeWords(['New', 'York', 'City']);
    assert.deepEqual(e.tokens, ['New', 'ĠYork', 'ĠCity']);
    assert.deepEqual(e.wordIds, [0, 1, 2]);
  });
});

describe('bad calls', () => {
  it('a non-string text or non-array words is a ValueError that says what to pass', () => {
    assert.throws(() => bert.encode(42 as unknown as string), (e: unknown) => e instanceof ValueError && /text is number, expected a string/.test(e.message));
    assert.throws(() => bert.encode('a', { b: 1 } as unknown as string), (e: unknown) => e instanceof ValueError && /pair is \{"b":1\}, expected a string/.test(e.message));
    assert.throws(() => bert.encodeWords('EU rejects' as unknown as string[]), (e: unknown) => e instanceof ValueError && /words must be an array of strings/.test(e.message));
    assert.throws(() => bert.encodeBatch([['a', 7 as unknown as string]]), ValueError);
  });

  it('maxLength too small for the special tokens is a ValueError', () => {
    assert.throws(() => bert.encode('a', 'b', { truncation: true, maxLength: 2 }), (e: unknown) => e instanceof ValueError && /maxLength 2 leaves no room for the 3 special tokens/.test(e.message));
  });
});

