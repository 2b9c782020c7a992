/**
 * One side (source or target) of a sequence-to-sequence task: text ↔ ids, and the file the
 * checkpoint keeps for it.
 *
 *   'chars'      one id per character (a Vocab; G2P's letters)
 *   'words'      one id per space-separated token (a Vocab; G2P's phonemes)
 *   'tokenizer'  a Hugging Face tokenizer's subwords (--tokenizer-file); ids + 4
 *
 * Ids 0–3 are <pad>, <bos>, <eos>, <unk> on every side (data/vocab.ts), so the model's decoding
 * constants are the same whatever the side reads. A Vocab side maps symbols outside it to <unk>.
 */
import { Vocab } from '../data/vocab.js';
import type { Tokenizer } from '../data/tokenizers/tokenizer.js';
import { tokenizerFromJSON } from '../data/tokenizers/load.js';
import { readTextFileSync } from '../io/read-file.js';
import { parseUntrustedJson } from '../io/json.js';
import { tokenizerJSON } from './template-tokenizer.js';

export type SideKind = 'chars' | 'words' | 'tokenizer';

/** Tokenizer ids are shifted past the 4 reserved ids. */
const OFFSET = 4;

export class Seq2SeqSide {
  private constructor(readonly kind: SideKind, readonly vocab: Vocab | null, readonly tokenizer: Tokenizer | null) {}

  static ofVocab(kind: 'chars' | 'words', vocab: Vocab): Seq2SeqSide {
    return new Seq2SeqSide(kind, vocab, null);
  }

  static ofTokenizer(tok: Tokenizer): Seq2SeqSide {
    return new Seq2SeqSide('tokenizer', null, tok);
  }

  /** Reads the side's checkpoint file (a heed vocabulary, or a tokenizer.json). */
  static load(kind: SideKind, path: string): Seq2SeqSide {
    if (kind !== 'tokenizer') return Seq2SeqSide.ofVocab(kind, Vocab.load(path));
    const json = parseUntrustedJson(readTextFileSync(path, { what: 'tokenizer', maxBytes: 64 * 2 ** 20 }), path, 'tokenizer');
    return Seq2SeqSide.ofTokenizer(tokenizerFromJSON(json, path));
  }

  /** Embedding rows this side needs. */
  get size(): number {
    return this.vocab ? this.vocab.size : this.tokenizer!.vocabSize + OFFSET;
  }

  /** Every symbol by id (for comparing a distillation teacher's vocabulary). */
  get tokens(): readonly string[] {
    if (this.vocab) return this.vocab.tokens;
    return [...this.tokenizer!.getVocab()].sort((a, b) => a[1] - b[1]).map(([t]) => t);
  }

  /** The units of a text: characters, space-separated words, or subword strings. */
  units(text: string): string[] {
    if (this.kind === 'chars') return [...text];
    if (this.kind === 'words') return text.split(' ').filter((w) => w !== '');
    return this.tokenizer!.tokenize(text);
  }

  /** Ids of a text (at most `limit`). */
  encode(text: string, limit = Infinity): Int32Array {
    if (this.tokenizer) {
      const ids = this.tokenizer.encode(text, null, { addSpecialTokens: false }).ids;
      return Int32Array.from(ids.slice(0, Math.min(ids.length, limit)), (i) => i + OFFSET);
    }
    const units = this.units(text);
    return this.vocab!.encode(units.length > limit ? units.slice(0, limit) : units, { unknown: 'unk' });
  }

  /** Symbols outside the vocabulary (a tokenizer side has none: it falls back to its own unknown). */
  unknownSymbols(text: string): string[] {
    if (!this.vocab) return [];
    return [...new Set(this.units(text).filter((u) => !this.vocab!.has(u)))];
  }

  /** Text of generated ids (stops at <eos>; <pad>, <bos> dropped). */
  decode(ids: readonly number[]): string {
    if (this.tokenizer) return this.tokenizer.decode(ids.filter((i) => i >= OFFSET).map((i) => i - OFFSET), { skipSpecialTokens: true });
    const symbols = this.vocab!.decode(ids);
    return symbols.join(this.kind === 'chars' ? '' : ' ');
  }

  /** Unit strings of generated ids (attention-map labels). */
  decodeUnits(ids: readonly number[]): string[] {
    if (this.vocab) return this.vocab.decode(ids);
    return ids.filter((i) => i >= OFFSET).map((i) => this.tokenizer!.idToToken(i - OFFSET) ?? '<unk>');
  }

  /** The JSON the checkpoint keeps: a heed vocabulary file, or a tokenizer.json. */
  toJSON(): unknown {
    return this.vocab ? this.vocab.toJSON() : tokenizerJSON(this.tokenizer!);
  }

  /** True when both sides read text the same way (same kind and symbols). */
  sameAs(other: Seq2SeqSide): boolean {
    return this.kind === other.kind && this.tokens.join('\n') === other.tokens.join('\n');
  }
}
