/**
 * Does a tokenizer fit a model? Every id the tokenizer can produce must index a row of the
 * model's embedding table, so the tokenizer's largest id + 1 must be at most the model's
 * `vocab_size`. The model may have a few more rows than the tokenizer (vocabularies are often
 * padded up to a multiple of 64 or 128 for faster matrix products), but not many more: a BERT
 * tokenizer (30,522) beside a GPT-2 model (50,257) fits by ids and is still the wrong tokenizer.
 *
 * The model loader calls this with the directory's config.json vocab_size:
 *
 *   checkTokenizerVocabSize(tokenizer, config.vocab_size, 'models/bert/tokenizer.json');
 */

import { ConfigError } from '../../errors.js';
import type { Tokenizer } from './tokenizer.js';

/** How many unused embedding rows are taken as padding rather than a mismatch. */
export const VOCAB_PADDING_ROWS = 128;

/**
 * Throws a ConfigError naming `source` when `tokenizer` cannot be the tokenizer of a model with
 * `modelVocabSize` embedding rows (see the file header).
 */
export function checkTokenizerVocabSize(tokenizer: Tokenizer, modelVocabSize: number, source: string): void {
  const n = tokenizer.vocabSize;
  if (n > modelVocabSize) {
    const largest = tokenizer.idToToken(n - 1);
    throw new ConfigError(
      `${source}: the tokenizer has ids up to ${n - 1} (${JSON.stringify(largest)}), but the model's vocab_size is ${modelVocabSize}, so those ids would index past its embedding table. Fix: load the tokenizer saved with this model, or resize the model's embeddings to at least ${n} rows.`,
    );
  }
  if (modelVocabSize - n >= VOCAB_PADDING_ROWS) {
    throw new ConfigError(
      `${source}: the tokenizer has ${n} ids but the model's vocab_size is ${modelVocabSize}; ${modelVocabSize - n} embedding rows would never be used, more than padding explains (< ${VOCAB_PADDING_ROWS}). This tokenizer belongs to another model. Fix: load the tokenizer saved with this model.`,
    );
  }
}
