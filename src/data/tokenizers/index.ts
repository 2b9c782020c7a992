/**
 * Tokenizers that read and write Hugging Face's files (tokenizer.json, BERT's vocab.txt, GPT-2's
 * vocab.json + merges.txt) and give the same ids, plus what fine-tuning needs around them:
 * special tokens, truncation, padding with attention masks, character offsets and word ids (to
 * align word-level labels such as NER tags), decoding, and saving back to tokenizer.json.
 *
 *   const tok = loadTokenizer('models/bert-base-uncased');
 *   tok.encodeBatch(['Hello world!', 'Hi'], { padding: true, truncation: true, maxLength: 128 });
 *
 * Files: tokenizer.ts (the pipeline and the Tokenizer class), load.ts (files in), normalizer.ts,
 * pre-tokenizer.ts, wordpiece.ts, bpe.ts, post-processor.ts, decoder.ts (the steps),
 * encoding.ts (the Encoding record, truncation, padding), check-vocab-size.ts (tokenizer vs model).
 *
 * Why written here rather than wrapping npm `@huggingface/tokenizers` 0.2.0 (evaluated for this
 * module; bench/tokenizers.ts and test/data/tokenizers/load-save.test.ts):
 * - For it: Hugging Face maintains it (the tokenizer half of transformers.js), it is pure JS with
 *   no dependencies (~37 KB minified), reads tokenizer.json, and its ids equal the references on
 *   all 3,018 parity sentences for both bert-base-uncased and GPT-2.
 * - Against it: `encode()` returns ids, tokens and an attention mask only. No character offsets
 *   and no word ids, which NER label alignment needs. They cannot be recovered from outside,
 *   because its normalizer (lowercasing, accent stripping, CJK spacing) does not track where
 *   characters came from. No truncation, no padding, no batch encoding, no way to write a
 *   tokenizer.json back (the checkpoint contract), and under a ByteLevel post-processor it drops
 *   the second text of a pair.
 * - Wrapping it would leave all of that to write anyway, on top of a second copy of the
 *   pipeline. The pipeline itself is small: a normalizer, a pre-tokenizer, WordPiece or BPE, a
 *   post-processor and a decoder. Here it carries offsets from the start.
 * - Speed is no reason either way: on the parity sentences heed encodes bert-base-uncased about
 *   as fast as it does and GPT-2 about 2× faster (bench/results/tokenizers-2026-12-04.json,
 *   loaded machine).
 * - It stays a test oracle (a devDependency): the tokenizer.json heed writes gives the same ids
 *   in Hugging Face's own implementation.
 * - Not implemented, each a NotImplementedError naming the component: Unigram / SentencePiece
 *   (Metaspace, Precompiled), byte-fallback BPE, BPE dropout, overflow windows (stride).
 */
export { Tokenizer } from './tokenizer.js';
export type { AddedToken, BatchEncoding, TokenizerCallOptions } from './tokenizer.js';
export type { Encoding, TruncationStrategy } from './encoding.js';
export { loadTokenizer, tokenizerFromJSON, bertTokenizerFromVocab, gpt2TokenizerFromFiles } from './load.js';
export { checkTokenizerVocabSize } from './check-vocab-size.js';
