/**
 * `--tokenizer-file` for the file-driven templates (classify, tag, seq2seq): a Hugging Face
 * tokenizer (tokenizer.json, BERT's vocab.txt, or a directory with GPT-2's vocab.json +
 * merges.txt) read by src/data/tokenizers, in place of the template's own characters or words.
 *
 * The checkpoint keeps a copy: the tokenizer.json object (Hugging Face's format, which
 * `tokenizerFromJSON` reads back identically) is saved in the task's meta, so eval, predict and
 * serve tokenize exactly as training did, even after the original file is gone.
 *
 * Ids: the templates reserve their own low ids (padding, <bos>, <eos>, <unk>), so a tokenizer id
 * `i` becomes `i + offset` in the model's embedding table, which has `vocabSize + offset` rows.
 * Special tokens ([CLS], [SEP]) are not added: the templates mark sequences themselves.
 */
import { loadTokenizer, tokenizerFromJSON } from '../data/tokenizers/load.js';
import type { Tokenizer } from '../data/tokenizers/tokenizer.js';
import { ConfigError, HeedError } from '../errors.js';

/** Reads `--tokenizer-file`; a missing, unreadable or corrupt file is a ConfigError naming it and the fix. */
export function readTokenizerFile(task: string, path: string): Tokenizer {
  try {
    return loadTokenizer(path);
  } catch (err) {
    if (!(err instanceof HeedError)) throw err;
    throw new ConfigError(`${task}: --tokenizer-file '${path}' could not be read: ${err.message} ` +
      'Fix: pass a tokenizer.json, a BERT vocab.txt, or a directory holding one of them or GPT-2\'s vocab.json + merges.txt.');
  }
}

/** The tokenizer.json object saved in a checkpoint's meta. */
export function tokenizerJSON(tok: Tokenizer): Record<string, unknown> {
  return tok.toJSON() as Record<string, unknown>;
}

const loaded = new WeakMap<object, Tokenizer>();

/** The tokenizer saved in a checkpoint's meta (parsed once per meta object). */
export function savedTokenizer(json: Record<string, unknown>, source: string): Tokenizer {
  let t = loaded.get(json);
  if (!t) loaded.set(json, (t = tokenizerFromJSON(json, `${source} (the tokenizer saved with the model)`)));
  return t;
}

/** Subword ids of a text, each + `offset`, without special tokens, at most `limit` of them. */
export function subwordIds(tok: Tokenizer, text: string, offset: number, limit = Infinity): Int32Array {
  const ids = tok.encode(text, null, { addSpecialTokens: false }).ids;
  return Int32Array.from(ids.length > limit ? ids.slice(0, limit) : ids, (i) => i + offset);
}

/**
 * Subwords of a sentence given as words (CoNLL), for first-subword labelling: `ids` (+ offset),
 * `wordOf[u]` the word subword u came from, and `first[w]` the index of word w's first subword
 * (−1 for a word the tokenizer drops entirely, e.g. a lone control character).
 */
export function subwordsOfWords(tok: Tokenizer, words: readonly string[], offset: number): { ids: number[]; wordOf: number[]; first: number[] } {
  const e = tok.encodeWords(words, { addSpecialTokens: false });
  const ids: number[] = [], wordOf: number[] = [];
  const first = new Array<number>(words.length).fill(-1);
  e.ids.forEach((id, u) => {
    const w = e.wordIds[u];
    if (w === null || w === undefined) return;
    if (first[w] < 0) first[w] = ids.length;
    ids.push(id + offset);
    wordOf.push(w);
  });
  return { ids, wordOf, first };
}
