/**
 * Byte-pair encoding (GPT-2, RoBERTa): start from single characters and repeatedly merge the
 * adjacent pair that ranks lowest in the merges list, until no adjacent pair has a rank.
 *
 * The loop is OpenAI's `bpe()` in GPT-2's encoder.py (and transformers' tokenization_gpt2.py):
 * find the lowest-ranked pair, merge every occurrence of it left to right, repeat. For a byte-level
 * vocabulary the characters are GPT-2 byte characters (unicode.ts), one per UTF-8 byte.
 *
 * Also read from tokenizer.json: `continuing_subword_prefix` / `end_of_word_suffix` (original
 * OpenAI GPT's "</w>"), `unk_token` and `fuse_unk` for characters outside the vocabulary,
 * `ignore_merges` (a word that is itself in the vocabulary is one token). `byte_fallback` and
 * BPE dropout are refused with a NotImplementedError.
 */

import { CheckpointError, NotImplementedError } from '../../errors.js';
import { preview } from '../../io/json.js';
import { type JsonObject, optionalBoolean, optionalString, readVocab, requireArray, vocabToJSON } from './json-fields.js';
import type { TokenizerModel, TokenSpan } from './wordpiece.js';

export interface BPEOptions {
  unkToken?: string | null;
  continuingSubwordPrefix?: string;
  endOfWordSuffix?: string;
  fuseUnk?: boolean;
  ignoreMerges?: boolean;
}

/** Most words BPE remembers (as the Rust crate's cache); past it the cache starts over. */
const CACHE_SIZE = 10_000;

/** A symbol of a word being merged: its text and the [start, end) units of the word it covers. */
interface BpeSymbol {
  text: string;
  start: number;
  end: number;
}

export class BPE implements TokenizerModel {
  readonly merges: readonly [string, string][];
  readonly unkToken: string | null;
  readonly continuingSubwordPrefix: string;
  readonly endOfWordSuffix: string;
  readonly fuseUnk: boolean;
  readonly ignoreMerges: boolean;
  /** ranks.get(a)?.get(b) = rank of the merge (a, b); nested maps, so no separator can be ambiguous. */
  private readonly ranks = new Map<string, Map<string, number>>();
  private readonly cache = new Map<string, TokenSpan[]>();

  constructor(
    readonly vocab: ReadonlyMap<string, number>,
    merges: readonly [string, string][],
    o: BPEOptions = {},
  ) {
    this.merges = merges;
    this.unkToken = o.unkToken ?? null;
    this.continuingSubwordPrefix = o.continuingSubwordPrefix ?? '';
    this.endOfWordSuffix = o.endOfWordSuffix ?? '';
    this.fuseUnk = o.fuseUnk ?? false;
    this.ignoreMerges = o.ignoreMerges ?? false;
    merges.forEach(([a, b], rank) => {
      let row = this.ranks.get(a);
      if (row === undefined) this.ranks.set(a, (row = new Map()));
      row.set(b, rank); // a repeated merge keeps its last rank, as encoder.py's dict(zip(merges, range(n))) does
    });
    if (this.unkToken !== null && !vocab.has(this.unkToken)) {
      throw new CheckpointError(`BPE: the unknown token ${JSON.stringify(this.unkToken)} is not in the vocabulary (${vocab.size} tokens). Fix: add it or set model.unk_token to null.`);
    }
  }

  tokenize(word: string): TokenSpan[] {
    const cached = this.cache.get(word);
    if (cached !== undefined) return cached;
    const out = this.tokenizeUncached(word);
    if (this.cache.size >= CACHE_SIZE) this.cache.clear();
    this.cache.set(word, out);
    return out;
  }

  private tokenizeUncached(word: string): TokenSpan[] {
    if (this.ignoreMerges) {
      const id = this.vocab.get(word);
      if (id !== undefined) return [{ id, token: word, start: 0, end: word.length }];
    }
    // Initial symbols: one per character, the prefix on all but the first, the suffix on the last.
    let symbols: BpeSymbol[] = [];
    const chars = Array.from(word);
    let at = 0;
    chars.forEach((ch, i) => {
      let text = i > 0 ? this.continuingSubwordPrefix + ch : ch;
      if (i === chars.length - 1) text += this.endOfWordSuffix;
      symbols.push({ text, start: at, end: at + ch.length });
      at += ch.length;
    });
    while (symbols.length > 1) {
      // The lowest-ranked adjacent pair.
      let best = Infinity;
      let first = '';
      let second = '';
      for (let i = 0; i + 1 < symbols.length; i++) {
        const r = this.ranks.get(symbols[i]!.text)?.get(symbols[i + 1]!.text);
        if (r !== undefined && r < best) {
          best = r;
          first = symbols[i]!.text;
          second = symbols[i + 1]!.text;
        }
      }
      if (best === Infinity) break;
      // Merge every occurrence of (first, second), left to right.
      const merged: BpeSymbol[] = [];
      for (let i = 0; i < symbols.length; ) {
        const s = symbols[i]!;
        const t = symbols[i + 1];
        if (t !== undefined && s.text === first && t.text === second) {
          merged.push({ text: s.text + this.stripPrefix(t.text), start: s.start, end: t.end });
          i += 2;
        } else {
          merged.push(s);
          i += 1;
        }
      }
      symbols = merged;
    }
    return this.toTokens(symbols);
  }

  private stripPrefix(text: string): string {
    const p = this.continuingSubwordPrefix;
    return p !== '' && text.startsWith(p) ? text.slice(p.length) : text;
  }

  /** Symbols to vocabulary ids; symbols outside the vocabulary become the unknown token (fused when fuseUnk). */
  private toTokens(symbols: BpeSymbol[]): TokenSpan[] {
    const out: TokenSpan[] = [];
    for (const s of symbols) {
      const id = this.vocab.get(s.text);
      if (id !== undefined) {
        out.push({ id, token: s.text, start: s.start, end: s.end });
        continue;
      }
      if (this.unkToken === null) {
        throw new CheckpointError(
          `BPE: the symbol ${preview(s.text)} is not in the vocabulary and the model has no unk_token. A byte-level vocabulary holds all 256 byte characters, so the vocabulary file is incomplete. Fix: use the vocabulary the merges were made with.`,
        );
      }
      const last = out[out.length - 1];
      if (this.fuseUnk && last !== undefined && last.token === this.unkToken && last.end === s.start) last.end = s.end;
      else out.push({ id: this.vocab.get(this.unkToken)!, token: this.unkToken, start: s.start, end: s.end });
    }
    return out;
  }

  toJSON(): JsonObject {
    return {
      type: 'BPE',
      dropout: null,
      unk_token: this.unkToken,
      continuing_subword_prefix: this.continuingSubwordPrefix,
      end_of_word_suffix: this.endOfWordSuffix,
      fuse_unk: this.fuseUnk,
      byte_fallback: false,
      ignore_merges: this.ignoreMerges,
      vocab: vocabToJSON(this.vocab),
      merges: this.merges.map(([a, b]) => [a, b]),
    };
  }

  /** Reads a tokenizer.json `model` object of type BPE; merges may be "a b" strings or [a, b] pairs. */
  static fromJSON(o: JsonObject, where: string): BPE {
    const dropout = o.dropout;
    if (dropout !== undefined && dropout !== null && dropout !== 0) {
      throw new NotImplementedError(`${where}.dropout is ${preview(dropout)}: BPE dropout (a training-time regularizer) is not supported. Fix: set it to null for inference and fine-tuning.`);
    }
    if (optionalBoolean(o, 'byte_fallback', where) === true) {
      throw new NotImplementedError(`${where}.byte_fallback is true: byte-fallback BPE (Llama/SentencePiece style) is not supported; heed reads GPT-2-style byte-level BPE.`);
    }
    const merges = requireArray(o, 'merges', where).map((m, i) => parseMerge(m, `${where}.merges[${i}]`));
    return new BPE(readVocab(o.vocab, `${where}.vocab`), merges, {
      unkToken: optionalString(o, 'unk_token', where) ?? null,
      continuingSubwordPrefix: optionalString(o, 'continuing_subword_prefix', where),
      endOfWordSuffix: optionalString(o, 'end_of_word_suffix', where),
      fuseUnk: optionalBoolean(o, 'fuse_unk', where),
      ignoreMerges: optionalBoolean(o, 'ignore_merges', where),
    });
  }
}

/** One merge: "a b" (merges.txt and older tokenizer.json) or ["a", "b"] (newer tokenizer.json). */
export function parseMerge(m: unknown, where: string): [string, string] {
  if (typeof m === 'string') {
    const parts = m.split(' ');
    if (parts.length === 2 && parts[0] !== '' && parts[1] !== '') return [parts[0]!, parts[1]!];
  } else if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') {
    return [m[0], m[1]];
  }
  throw new CheckpointError(`${where} is ${preview(m)}, expected a merge "a b" or ["a", "b"]. The merges list is corrupt.`);
}
