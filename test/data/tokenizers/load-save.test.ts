// Loading from each file layout, saving tokenizer.json and loading it back identically, the file
// read by Hugging Face's own JS implementation, and every bad-input case as a typed error.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { Tokenizer as HFTokenizer } from '@huggingface/tokenizers';

import { CheckpointError, ConfigError, NotImplementedError } from '../../../src/errors.js';
import { checkTokenizerVocabSize, loadTokenizer, tokenizerFromJSON } from '../../../src/data/tokenizers/index.js';
import { bertVocabTxt, gpt2Dir } from './reference-vocabs.js';

const root = mkdtempSync(join(tmpdir(), 'heed-tokenizers-'));
after(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A fresh directory under the test's temporary root, holding `files`. */
function newDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(root, `m${n++}-`));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const bertDir = newDir({ 'vocab.txt': bertVocabTxt() });
const gpt2DirCopy = newDir();
copyFileSync(join(gpt2Dir(), 'encoder.json'), join(gpt2DirCopy, 'vocab.json'));
copyFileSync(join(gpt2Dir(), 'vocab.bpe'), join(gpt2DirCopy, 'merges.txt'));

const SAMPLES = ["Héllo, world! It's 3.14 — naïve 東京 😀", 'a  b\n\nc', 'Paris is the [MASK] of France.', 'end<|endoftext|>'];

describe('loadTokenizer', () => {
  it('reads a BERT directory (vocab.txt) and a GPT-2 directory (vocab.json + merges.txt), or the files themselves', () => {
    const bert = loadTokenizer(bertDir);
    assert.deepEqual(bert.encode('Hello!').ids, [101, 7592, 999, 102]);
    assert.deepEqual(loadTokenizer(join(bertDir, 'vocab.txt')).encode('Hello!').ids, [101, 7592, 999, 102]);
    const gpt2 = loadTokenizer(gpt2DirCopy);
    assert.deepEqual(gpt2.encode('Hello world').ids, [15496, 995]);
    assert.deepEqual(loadTokenizer(join(gpt2DirCopy, 'vocab.json')).encode('Hello world').ids, [15496, 995]);
  });

  it('honours tokenizer_config.json: do_lower_case false keeps case and accents, model_max_length bounds truncation', () => {
    const cased = newDir({ 'vocab.txt': bertVocabTxt(), 'tokenizer_config.json': JSON.stringify({ do_lower_case: false, model_max_length: 4 }) });
    const tok = loadTokenizer(cased);
    assert.deepEqual(tok.encode('Hello', null, { addSpecialTokens: false }).tokens, ['[UNK]'], 'the uncased vocabulary has no "Hello"');
    assert.equal(tok.modelMaxLength, 4);
    assert.equal(tok.encode('a b c d e', null, { truncation: true }).ids.length, 4);
  });

  for (const [name, dir] of [['BERT', bertDir], ['GPT-2', gpt2DirCopy]] as const) {
    it(`${name}: save() writes a tokenizer.json that loads back identically`, () => {
      const tok = loadTokenizer(dir);
      const out = newDir();
      assert.equal(tok.save(out), join(out, 'tokenizer.json'));
      const back = loadTokenizer(out);
      assert.deepEqual(back.toJSON(), tok.toJSON());
      for (const s of SAMPLES) {
        assert.deepEqual(back.encode(s), tok.encode(s));
        assert.deepEqual(back.encode(s, 'second text', { truncation: true, maxLength: 12 }), tok.encode(s, 'second text', { truncation: true, maxLength: 12 }));
      }
      // A directory holding tokenizer.json and vocab.txt prefers tokenizer.json.
      assert.ok(readFileSync(join(out, 'tokenizer.json'), 'utf8').startsWith('{"version":"1.0"'));
    });

    it(`${name}: the saved tokenizer.json gives the same ids in Hugging Face's own JS tokenizer`, () => {
      const tok = loadTokenizer(dir);
      const hf = new HFTokenizer(JSON.parse(readFileSync(tok.save(join(newDir(), 'tokenizer.json')), 'utf8')), {});
      for (const s of SAMPLES) {
        assert.deepEqual(tok.encode(s).ids, hf.encode(s).ids, s);
        // (@huggingface/tokenizers 0.2.0 drops the second text of a pair under a ByteLevel post-processor; the Rust crate concatenates it.)
        if (name === 'BERT') assert.deepEqual(tok.encode(s, 'And a pair.').ids, hf.encode(s, { text_pair: 'And a pair.' }).ids, s);
      }
    });
  }

  it('keeps truncation and padding settings written in tokenizer.json as defaults', () => {
    const json = loadTokenizer(bertDir).toJSON();
    json.truncation = { direction: 'Right', max_length: 4, strategy: 'LongestFirst', stride: 0 };
    json.padding = { strategy: { Fixed: 6 }, direction: 'Right', pad_to_multiple_of: null, pad_id: 0, pad_type_id: 0, pad_token: '[PAD]' };
    const tok = tokenizerFromJSON(json, 'test tokenizer.json');
    assert.deepEqual(tok.encode('a b c d e').ids, [101, 1037, 1038, 102, 0, 0]);
    assert.deepEqual(tok.encode('a b c d e', null, { truncation: false, padding: false }).ids.length, 7);
    assert.deepEqual(tokenizerFromJSON(tok.toJSON(), 'again').toJSON(), tok.toJSON());
  });

  it('reads the RoBERTa post-processor and merges written as pairs (newer tokenizer.json)', () => {
    const json = loadTokenizer(gpt2DirCopy).toJSON();
    json.post_processor = { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: false };
    const tok = tokenizerFromJSON(json, 'roberta-like');
    const e = tok.encode('Hello world', 'again');
    assert.deepEqual(e.tokens, ['<s>', 'Hello', 'Ġworld', '</s>', '</s>', 'again', '</s>']);
    assert.deepEqual(e.ids, [0, 15496, 995, 2, 2, 17776, 2]);
    assert.deepEqual(e.typeIds, [0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(e.offsets[2], [6, 11], 'trim_offsets drops the leading space of "Ġworld"');
  });
});

describe('bad tokenizer input', () => {
  const expectError = (f: () => unknown, type: Function, pattern: RegExp) => assert.throws(f, (e: unknown) => e instanceof type && pattern.test((e as Error).message));

  it('a missing path or a directory without tokenizer files', () => {
    expectError(() => loadTokenizer(join(root, 'nope')), CheckpointError, /nope does not exist/);
    expectError(() => loadTokenizer(newDir({ 'config.json': '{}' })), CheckpointError, /holds no tokenizer: expected tokenizer.json, vocab.txt/);
    expectError(() => loadTokenizer(join(newDir({ 'vocab.json': '{"a": 0}' }), 'vocab.json')), CheckpointError, /needs .*merges.txt beside it/);
  });

  it('corrupt JSON, wrong field types and conflicting ids name the file and the field', () => {
    expectError(() => loadTokenizer(newDir({ 'tokenizer.json': '{"model": ' })), CheckpointError, /tokenizer.json: the tokenizer file is not valid JSON/);
    const json = loadTokenizer(bertDir).toJSON();
    const model = json.model as Record<string, unknown>;
    expectError(() => tokenizerFromJSON({ ...json, model: { ...model, vocab: { a: 0, b: 0, '[UNK]': 1 } } }, 'x.json'), CheckpointError, /x.json: model.vocab: tokens "a" and "b" both have id 0/);
    expectError(() => tokenizerFromJSON({ ...json, model: { ...model, vocab: { a: 'zero' } } }, 'x.json'), CheckpointError, /model.vocab\["a"\] is "zero", expected a non-negative integer id/);
    expectError(() => tokenizerFromJSON({ ...json, model: { ...model, unk_token: '<unk>' } }, 'x.json'), CheckpointError, /unknown token "<unk>" is not in the vocabulary/);
    expectError(() => tokenizerFromJSON({ ...json, normalizer: { type: 'BertNormalizer', lowercase: 'yes' } }, 'x.json'), CheckpointError, /x.json: normalizer.lowercase is "yes", expected true or false/);
  });

  it('components heed does not implement are NotImplementedErrors naming them', () => {
    const json = loadTokenizer(bertDir).toJSON();
    expectError(() => tokenizerFromJSON({ ...json, model: { type: 'Unigram', vocab: [['a', 0]] } }, 'x.json'), NotImplementedError, /model type "Unigram" is not supported/);
    expectError(() => tokenizerFromJSON({ ...json, pre_tokenizer: { type: 'Metaspace' } }, 'x.json'), NotImplementedError, /pre-tokenizer type "Metaspace" is not supported/);
    expectError(() => tokenizerFromJSON({ ...json, normalizer: { type: 'Precompiled' } }, 'x.json'), NotImplementedError, /normalizer type "Precompiled"/);
  });

  it('a tokenizer that does not match the model vocabulary size is a ConfigError naming the file', () => {
    const bert = loadTokenizer(bertDir);
    const where = join(bertDir, 'vocab.txt');
    checkTokenizerVocabSize(bert, 30522, where); // exact
    checkTokenizerVocabSize(bert, 30528, where); // padded to a multiple of 8
    expectError(() => checkTokenizerVocabSize(bert, 30000, where), ConfigError, /vocab.txt: the tokenizer has ids up to 30521 \("##～"\), but the model's vocab_size is 30000.*resize the model's embeddings to at least 30522 rows/);
    expectError(() => checkTokenizerVocabSize(bert, 50257, where), ConfigError, /the tokenizer has 30522 ids but the model's vocab_size is 50257; 19735 embedding rows would never be used/);
  });
});
