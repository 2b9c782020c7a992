/**
 * Tokenizers that read and write Hugging Face's files (tokenizer.json, BERT's vocab.txt, GPT-2's
 * vocab.json + merges.txt) and give the same ids, plus what fine-tuning needs around them:
 * special tokens, truncation, padding with attention masks, character offsets and word ids (to
 * align word-level labels such as NER tags), decoding, and saving back to tokenizer.json.
 *
 * Why hand-written rather than a wrapper of npm `@huggingface/tokenizers` (0.2.0, pure JS,
 * Apache-2.0, maintained by Hugging Face as the tokenizer half of transformers.js): see
 * LIBRARY_CHOICE below; in short, it returns no offsets, no word ids, no truncation and no
 * padding, and cannot write a tokenizer.json, and offsets cannot be bolted on from outside
 * because normalization (lowercasing, accent stripping) moves characters. The pipeline itself
 * is small (a normalizer, a pre-tokenizer, WordPiece or BPE, a post-processor, a decoder) and is
 * checked id for id against reference implementations on real text (test/data/tokenizers/).
 */
export { Tokenizer } from './tokenizer.js';
export type { AddedToken, BatchEncoding, TokenizerCallOptions } from './tokenizer.js';
export type { Encoding, TruncationStrategy } from './encoding.js';
export { loadTokenizer, tokenizerFromJSON, bertTokenizerFromVocab, gpt2TokenizerFromFiles } from './load.js';
export { checkTokenizerVocabSize } from './check-vocab-size.js';
