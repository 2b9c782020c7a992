/**
 * WordPiece (BERT): split a word greedily into the longest vocabulary pieces, left to right;
 * pieces after the first carry the continuing-subword prefix "##". A word with any unmatched
 * rest, or longer than `maxInputCharsPerWord` characters, becomes the single unknown token.
 *
 *   "unaffable" → ["un", "##aff", "##able"]   (transformers' tokenization_bert.py WordpieceTokenizer)
 */

import { CheckpointError } from '../../errors.js';
import { type JsonObject, optionalInteger, optionalString, readVocab, vocabToJSON } from './json-fields.js';

/** One token of a word: its id and text, and the [start, end) UTF-16 units of the word it covers. */
export interface TokenSpan {
  id: number;
  token: string;
  start: number;
  end: number;
}

/** The model step of a tokenizer: a word in, tokens out. */
export interface TokenizerModel {
  readonly vocab: ReadonlyMap<string, number>;
  tokenize(word: string): TokenSpan[];
  toJSON(): JsonObject;
}

export interface WordPieceOptions {
  unkToken?: string;
  continuingSubwordPrefix?: string;
  maxInputCharsPerWord?: number;
}

export class WordPiece implements TokenizerModel {
  readonly unkToken: string;
  readonly continuingSubwordPrefix: string;
  readonly maxInputCharsPerWord: number;
  private readonly unkId: number;

  constructor(
    readonly vocab: ReadonlyMap<string, number>,
    o: WordPieceOptions = {},
  ) {
    this.unkToken = o.unkToken ?? '[UNK]';
    this.continuingSubwordPrefix = o.continuingSubwordPrefix ?? '##';
    this.maxInputCharsPerWord = o.maxInputCharsPerWord ?? 100;
    const unk = vocab.get(this.unkToken);
    if (unk === undefined) {
      throw new CheckpointError(`WordPiece: the unknown token ${JSON.stringify(this.unkToken)} is not in the vocabulary (${vocab.size} tokens). Fix: add it to the vocabulary or set model.unk_token to a token it holds.`);
    }
    this.unkId = unk;
  }

  tokenize(word: string): TokenSpan[] {
    // Code point boundaries: a piece never splits a surrogate pair, and the length limit counts characters.
    const bounds: number[] = [0];
    for (let i = 0; i < word.length; ) {
      i += word.codePointAt(i)! > 0xffff ? 2 : 1;
      bounds.push(i);
    }
    const nChars = bounds.length - 1;
    const unknown = [{ id: this.unkId, token: this.unkToken, start: 0, end: word.length }];
    if (nChars > this.maxInputCharsPerWord) return unknown;
    const pieces: TokenSpan[] = [];
    let startChar = 0;
    while (startChar < nChars) {
      let endChar = nChars;
      let found: TokenSpan | null = null;
      while (startChar < endChar) {
        let piece = word.slice(bounds[startChar], bounds[endChar]);
        if (startChar > 0) piece = this.continuingSubwordPrefix + piece;
        const id = this.vocab.get(piece);
        if (id !== undefined) {
          found = { id, token: piece, start: bounds[startChar]!, end: bounds[endChar]! };
          break;
        }
        endChar--;
      }
      if (found === null) return unknown;
      pieces.push(found);
      startChar = endChar;
    }
    return pieces;
  }

  toJSON(): JsonObject {
    return {
      type: 'WordPiece',
      unk_token: this.unkToken,
      continuing_subword_prefix: this.continuingSubwordPrefix,
      max_input_chars_per_word: this.maxInputCharsPerWord,
      vocab: vocabToJSON(this.vocab),
    };
  }

  /** Reads a tokenizer.json `model` object of type WordPiece. */
  static fromJSON(o: JsonObject, where: string): WordPiece {
    return new WordPiece(readVocab(o.vocab, `${where}.vocab`), {
      unkToken: optionalString(o, 'unk_token', where),
      continuingSubwordPrefix: optionalString(o, 'continuing_subword_prefix', where),
      maxInputCharsPerWord: optionalInteger(o, 'max_input_chars_per_word', where),
    });
  }
}
