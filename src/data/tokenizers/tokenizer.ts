/**
 * Tokenizer: Hugging Face's tokenizer pipeline, read from and written to tokenizer.json.
 *
 *   text ─ split on added tokens ([CLS], [MASK], <|endoftext|> kept whole)
 *        ─ normalizer (lowercase, strip accents, ...)           normalizer.ts
 *        ─ pre-tokenizer (words)                                 pre-tokenizer.ts
 *        ─ model (word pieces: WordPiece or BPE)                 wordpiece.ts, bpe.ts
 *        ─ truncation to maxLength                               encoding.ts
 *        ─ post-processor ([CLS] A [SEP] B [SEP], type ids)      post-processor.ts
 *        ─ padding (attention mask)                              encoding.ts
 *
 * Every token keeps the character span of the input it came from (offsets) and the index of its
 * word (wordIds), so word-level labels can be aligned with tokens:
 *
 *   const tok = loadTokenizer('bert-dir');
 *   const e = tok.encode('Héllo, world!');
 *   e.tokens;   // ['[CLS]', 'hello', ',', 'world', '!', '[SEP]']
 *   e.offsets;  // [[0,0], [0,5], [5,6], [7,12], [12,13], [0,0]]
 *   e.wordIds;  // [null, 0, 1, 2, 3, null]
 *   tok.encodeBatch(['a b', 'c'], { padding: true }).attentionMask;  // [[1,1,1,1], [1,1,1,0]]
 *
 * Added tokens are matched in the original text (not the normalized one), so "[MASK]" in a
 * lowercasing BERT's input stays one token; an added token marked `normalized: true` is matched
 * the same way (Hugging Face would match it after normalization).
 */

import { renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { IndexError, ValueError } from '../../errors.js';
import { type Decoder } from './decoder.js';
import { type Encoding, type TruncationStrategy, emptyEncoding, padEncoding, truncatedLengths, truncateEncoding } from './encoding.js';
import { type JsonObject } from './json-fields.js';
import { NormalizedText, type Normalizer } from './normalizer.js';
import { NoPostProcessing, type PostProcessor } from './post-processor.js';
import { type PreTokenizer } from './pre-tokenizer.js';
import { type TokenizerModel } from './wordpiece.js';

/** A token added on top of the model's vocabulary (special tokens such as [CLS], or user additions). */
export interface AddedToken {
  id: number;
  content: string;
  /** Special tokens are skipped by `decode(ids, { skipSpecialTokens: true })`. */
  special: boolean;
  /** Also swallow whitespace before (lstrip) / after (rstrip) the token in the text. */
  lstrip: boolean;
  rstrip: boolean;
  /** Match only as a whole word (not inside "a[MASK]b"). */
  singleWord: boolean;
  normalized: boolean;
}

/** Options of encode / encodeWords / encodeBatch (Hugging Face's `tokenizer(...)` arguments, camelCased). */
export interface TokenizerCallOptions {
  /** Add the model's special tokens ([CLS] ... [SEP]). Default true. */
  addSpecialTokens?: boolean;
  /** Cut inputs to maxLength tokens (special tokens included); true means 'longest_first'. Default: the file's truncation setting, else none. */
  truncation?: boolean | TruncationStrategy;
  /** Length limit for truncation, and the length for padding 'max_length'. Default: the file's, else the tokenizer's modelMaxLength. */
  maxLength?: number;
  /** Pad to the longest input of the batch (true / 'longest') or to maxLength ('max_length'). Default: the file's padding setting, else none. */
  padding?: boolean | 'longest' | 'max_length';
  /** Round the padded length up to a multiple of this. */
  padToMultipleOf?: number;
  /** The pad token when the tokenizer has none (GPT-2: pass '<|endoftext|>'). */
  padToken?: string;
  /** Which end truncation cuts and padding fills. Default 'right' for both. */
  truncationSide?: 'left' | 'right';
  paddingSide?: 'left' | 'right';
}

/** A padded batch: one row per input, every row the same length when padding is on. */
export interface BatchEncoding {
  /** (B, T) token ids. */
  inputIds: number[][];
  /** (B, T) 1 for a token, 0 for padding. */
  attentionMask: number[][];
  /** (B, T) segment ids (0/1 for BERT pairs). */
  tokenTypeIds: number[][];
  /** The full encodings (tokens, offsets, wordIds, ...), one per input. */
  encodings: Encoding[];
}

export interface TokenizerParts {
  model: TokenizerModel;
  normalizer: Normalizer | null;
  preTokenizer: PreTokenizer | null;
  postProcessor: PostProcessor;
  decoder: Decoder | null;
  addedTokens: AddedToken[];
  /** The file's `truncation` and `padding` blocks, kept for defaults and for writing back. */
  truncation: { maxLength: number; strategy: TruncationStrategy; direction: 'left' | 'right'; stride: number } | null;
  padding: { strategy: 'longest' | { fixed: number }; direction: 'left' | 'right'; padToMultipleOf: number | null; padId: number; padTypeId: number; padToken: string } | null;
}

export class Tokenizer {
  readonly model: TokenizerModel;
  readonly normalizer: Normalizer | null;
  readonly preTokenizer: PreTokenizer | null;
  readonly postProcessor: PostProcessor;
  readonly decoder: Decoder | null;
  readonly addedTokens: readonly AddedToken[];
  readonly truncation: TokenizerParts['truncation'];
  readonly padding: TokenizerParts['padding'];
  /** The model's maximum input length when known (tokenizer_config.json's model_max_length); the default maxLength for truncation. */
  modelMaxLength: number | null = null;
  /** Added tokens by content (they win over a vocabulary entry of the same text); the model's vocabulary is looked up after. */
  private readonly addedIds = new Map<string, number>();
  /** Token of each id, added tokens included; a hole is an id no token has. */
  private readonly idToTokenMap = new Map<number, string>();
  private readonly maxId: number;
  private readonly addedPattern: RegExp | null;
  private readonly addedByContent = new Map<string, AddedToken>();

  constructor(parts: TokenizerParts) {
    this.model = parts.model;
    this.normalizer = parts.normalizer;
    this.preTokenizer = parts.preTokenizer;
    this.postProcessor = parts.postProcessor;
    this.decoder = parts.decoder;
    this.addedTokens = parts.addedTokens;
    this.truncation = parts.truncation;
    this.padding = parts.padding;
    let maxId = -1;
    for (const [token, id] of this.model.vocab) {
      this.idToTokenMap.set(id, token);
      if (id > maxId) maxId = id;
    }
    for (const t of this.addedTokens) {
      this.addedIds.set(t.content, t.id);
      this.idToTokenMap.set(t.id, t.content);
      if (t.id > maxId) maxId = t.id;
      if (t.content !== '') this.addedByContent.set(t.content, t);
    }
    this.maxId = maxId;
    // Longest first, so the regex's leftmost match is also the longest one there.
    const contents = [...this.addedByContent.keys()].sort((a, b) => b.length - a.length);
    this.addedPattern = contents.length === 0 ? null : new RegExp(contents.map(escapeRegExp).join('|'), 'gu');
  }

  /** Number of rows an embedding table needs for this tokenizer: the largest id + 1 (added tokens included). */
  get vocabSize(): number {
    return this.maxId + 1;
  }

  tokenToId(token: string): number | undefined {
    return this.addedIds.get(token) ?? this.model.vocab.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.idToTokenMap.get(id);
  }

  /** Every token and its id, added tokens included. */
  getVocab(): Map<string, number> {
    const vocab = new Map(this.model.vocab);
    for (const [token, id] of this.addedIds) vocab.set(token, id);
    return vocab;
  }

  /** Token strings of `text`, without special tokens. */
  tokenize(text: string): string[] {
    return this.encodeText(text, 0).tokens;
  }

  /** Encodes one text, or a pair (BERT's sentence A / sentence B). */
  encode(text: string, pair: string | null = null, options: TokenizerCallOptions = {}): Encoding {
    return this.finish(this.encodePair(text, pair, options), options, null);
  }

  /**
   * Encodes text that is already split into words (a CoNLL sentence for NER), as if the words
   * were joined by single spaces; wordIds then index `words`, so a token's label is its word's.
   * Offsets are into that joined text.
   */
  encodeWords(words: readonly string[], options: TokenizerCallOptions = {}): Encoding {
    if (!Array.isArray(words) || words.some((w) => typeof w !== 'string')) {
      throw new ValueError(`Tokenizer.encodeWords: words must be an array of strings. Fix: pass e.g. ['EU', 'rejects', 'German', 'call'].`);
    }
    const starts: number[] = [];
    let text = '';
    words.forEach((w, i) => {
      if (i > 0) text += ' ';
      starts.push(text.length);
      text += w;
    });
    const e = this.encodeText(text, 0);
    e.wordIds = e.offsets.map(([s, t]) => {
      // The word the token's characters overlap first (a byte-level "Ġworld" starts on the space before "world").
      for (let w = 0; w < words.length; w++) if (s < starts[w]! + words[w]!.length && t > starts[w]!) return w;
      return null;
    });
    return this.finish(this.truncateAndProcess(e, null, [text], options), options, null);
  }

  /** Encodes a batch of texts or [text, pair] pairs, padded to one length when `padding` says so. */
  encodeBatch(inputs: readonly (string | readonly [string, string])[], options: TokenizerCallOptions = {}): BatchEncoding {
    const raw = inputs.map((x) => (typeof x === 'string' ? this.encodePair(x, null, options) : this.encodePair(x[0], x[1], options)));
    const longest = raw.reduce((m, e) => Math.max(m, e.ids.length), 0);
    const encodings = raw.map((e) => this.finish(e, options, longest));
    return {
      inputIds: encodings.map((e) => e.ids),
      attentionMask: encodings.map((e) => e.attentionMask),
      tokenTypeIds: encodings.map((e) => e.typeIds),
      encodings,
    };
  }

  /** Token ids back to text; `skipSpecialTokens` drops [CLS], [SEP], [PAD] and the like. */
  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    const special = new Set(this.addedTokens.filter((t) => t.special).map((t) => t.id));
    const tokens: string[] = [];
    ids.forEach((id, i) => {
      const token = this.idToTokenMap.get(id);
      if (token === undefined) {
        throw new IndexError(`Tokenizer.decode: ids[${i}] = ${id} is not a token id of this tokenizer (ids run 0..${this.vocabSize - 1}). Fix: decode ids made by this tokenizer, or check the model's vocab_size.`);
      }
      if (!(options.skipSpecialTokens === true && special.has(id))) tokens.push(token);
    });
    return this.decoder === null ? tokens.join(' ') : this.decoder.decode(tokens);
  }

  private encodePair(text: string, pair: string | null, options: TokenizerCallOptions): Encoding {
    for (const [what, v] of [['text', text], ['pair', pair ?? '']] as const) {
      if (typeof v !== 'string') throw new ValueError(`Tokenizer.encode: ${what} is ${typeof v === 'object' ? JSON.stringify(v)?.slice(0, 60) : typeof v}, expected a string. Fix: pass text, or use encodeWords(words) for pre-split words.`);
    }
    const a = this.encodeText(text, 0);
    const b = pair === null ? null : this.encodeText(pair, 1);
    return this.truncateAndProcess(a, b, pair === null ? [text] : [text, pair], options);
  }

  /** Truncates A (and B) so that, with the special tokens added, they fit maxLength; then adds them. */
  private truncateAndProcess(a: Encoding, b: Encoding | null, texts: string[], options: TokenizerCallOptions): Encoding {
    const add = options.addSpecialTokens ?? true;
    const strategy = options.truncation === undefined ? this.truncation?.strategy ?? false : options.truncation === true ? 'longest_first' : options.truncation;
    if (strategy !== false) {
      const maxLength = this.maxLengthFor(options, 'truncation');
      const room = maxLength - (add ? this.postProcessor.addedTokens(b !== null) : 0);
      if (room < 0) throw new ValueError(`truncation: maxLength ${maxLength} leaves no room for the ${maxLength - room} special tokens. Fix: a larger maxLength.`);
      const side = options.truncationSide ?? this.truncation?.direction ?? 'right';
      if (b === null) a = truncateEncoding(a, room, side);
      else {
        const [n1, n2] = truncatedLengths(a.ids.length, b.ids.length, room, strategy);
        a = truncateEncoding(a, n1, side);
        b = truncateEncoding(b, n2, side);
      }
    }
    return this.postProcessor.process(a, b, add, texts);
  }

  /** Pads one encoding as the options (or the file) say; `longest` is the batch's longest length (null outside a batch). */
  private finish(e: Encoding, options: TokenizerCallOptions, longest: number | null): Encoding {
    const fromFile = this.padding === null ? false : this.padding.strategy === 'longest' ? 'longest' : 'max_length';
    const mode = options.padding === undefined ? fromFile : options.padding === true ? 'longest' : options.padding;
    if (mode === false) return e;
    let length = mode === 'longest' ? longest ?? e.ids.length : this.maxLengthFor(options, 'padding');
    const multiple = options.padToMultipleOf ?? this.padding?.padToMultipleOf ?? null;
    if (multiple !== null && multiple > 0) length = Math.ceil(length / multiple) * multiple;
    const padToken = options.padToken ?? this.padding?.padToken ?? this.addedTokens.find((t) => t.content === '[PAD]' || t.content === '<pad>')?.content;
    const padId = padToken === undefined ? undefined : this.tokenToId(padToken);
    if (padToken === undefined || padId === undefined) {
      throw new ValueError(
        `padding: this tokenizer has no pad token${padToken === undefined ? '' : ` (${JSON.stringify(padToken)} is not in its vocabulary)`}. GPT-2 has none; padded positions are masked out, so any token will do. Fix: pass { padToken: '<|endoftext|>' } or another token of the vocabulary.`,
      );
    }
    return padEncoding(e, length, { padId, padToken, padTypeId: this.padding?.padTypeId ?? 0, side: options.paddingSide ?? this.padding?.direction ?? 'right' });
  }

  private maxLengthFor(options: TokenizerCallOptions, what: 'truncation' | 'padding'): number {
    const fromFile = what === 'truncation' ? this.truncation?.maxLength : this.padding !== null && this.padding.strategy !== 'longest' ? this.padding.strategy.fixed : undefined;
    const n = options.maxLength ?? fromFile ?? this.modelMaxLength;
    if (n === null || n === undefined || !Number.isInteger(n) || n < 0) {
      throw new ValueError(`${what}: needs maxLength (received ${String(options.maxLength)}) and this tokenizer has no model_max_length. Fix: pass { maxLength: 512 } or the model's max_position_embeddings.`);
    }
    return n;
  }

  /** One text: added tokens, normalization, words, word pieces. Word ids count from 0 within the text. */
  private encodeText(text: string, sequenceId: number): Encoding {
    const e = emptyEncoding();
    let word = 0;
    // One push per token into one Encoding (concatenating per-word encodings dominated the profile).
    const push = (id: number, token: string, offsets: [number, number]) => {
      e.ids.push(id);
      e.tokens.push(token);
      e.offsets.push(offsets);
      e.wordIds.push(word);
      e.typeIds.push(sequenceId);
      e.attentionMask.push(1);
      e.specialTokensMask.push(0);
      e.sequenceIds.push(sequenceId);
    };
    for (const seg of this.splitOnAddedTokens(text)) {
      if (seg.added !== null) {
        push(seg.added.id, seg.added.content, [seg.start, seg.end]);
        word++;
        continue;
      }
      let normalized = NormalizedText.fromOriginal(text.slice(seg.start, seg.end), seg.start);
      if (this.normalizer !== null) normalized = this.normalizer.normalize(normalized);
      const words = this.preTokenizer === null ? [normalized] : this.preTokenizer.split(normalized);
      for (const w of words) {
        for (const p of this.model.tokenize(w.text)) push(p.id, p.token, w.originalSpan(p.start, p.end));
        word++;
      }
    }
    return e;
  }

  /** Cuts `text` into runs of plain text and added tokens ([start, end) in `text`). */
  private splitOnAddedTokens(text: string): { start: number; end: number; added: AddedToken | null }[] {
    const out: { start: number; end: number; added: AddedToken | null }[] = [];
    let plainStart = 0;
    if (this.addedPattern !== null) {
      const re = new RegExp(this.addedPattern);
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        const token = this.addedByContent.get(m[0])!;
        let start = m.index;
        let end = start + m[0].length;
        if (token.singleWord && (WORD_CHAR.test(text[start - 1] ?? '') || WORD_CHAR.test(text[end] ?? ''))) continue;
        if (token.lstrip) while (start > plainStart && /\s/u.test(text[start - 1]!)) start--;
        if (token.rstrip) while (end < text.length && /\s/u.test(text[end]!)) end++;
        if (start > plainStart) out.push({ start: plainStart, end: start, added: null });
        out.push({ start, end, added: token });
        plainStart = end;
        re.lastIndex = end;
      }
    }
    if (plainStart < text.length) out.push({ start: plainStart, end: text.length, added: null });
    return out;
  }

  /** The tokenizer.json object (Hugging Face's format), which `tokenizerFromJSON` / `loadTokenizer` read back identically. */
  toJSON(): JsonObject {
    const t = this.truncation;
    const p = this.padding;
    const side = (d: 'left' | 'right') => (d === 'left' ? 'Left' : 'Right');
    const strategies: Record<TruncationStrategy, string> = { longest_first: 'LongestFirst', only_first: 'OnlyFirst', only_second: 'OnlySecond' };
    return {
      version: '1.0',
      truncation: t === null ? null : { direction: side(t.direction), max_length: t.maxLength, strategy: strategies[t.strategy], stride: t.stride },
      padding:
        p === null
          ? null
          : { strategy: p.strategy === 'longest' ? 'BatchLongest' : { Fixed: p.strategy.fixed }, direction: side(p.direction), pad_to_multiple_of: p.padToMultipleOf, pad_id: p.padId, pad_type_id: p.padTypeId, pad_token: p.padToken },
      added_tokens: this.addedTokens.map((a) => ({ id: a.id, content: a.content, single_word: a.singleWord, lstrip: a.lstrip, rstrip: a.rstrip, normalized: a.normalized, special: a.special })),
      normalizer: this.normalizer?.toJSON() ?? null,
      pre_tokenizer: this.preTokenizer?.toJSON() ?? null,
      post_processor: this.postProcessor instanceof NoPostProcessing ? null : this.postProcessor.toJSON(),
      decoder: this.decoder?.toJSON() ?? null,
      model: this.model.toJSON(),
    };
  }

  /** Writes tokenizer.json to `path` (a directory gets `path/tokenizer.json`), atomically; returns the file written. */
  save(path: string): string {
    let file = path;
    try {
      if (statSync(path).isDirectory()) file = join(path, 'tokenizer.json');
    } catch {
      // A path that does not exist yet names the file itself.
    }
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(this.toJSON()));
    renameSync(tmp, file);
    return file;
  }
}

const WORD_CHAR = /[\p{L}\p{N}_]/u;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
