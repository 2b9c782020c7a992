/**
 * Pre-tokenizers: split a normalized text into words before the model splits words into tokens.
 * Each word is a NormalizedText, so it still knows its original character range; its index in
 * the list is the word id that `Encoding.wordIds` reports.
 *
 * - BertPreTokenizer: split on whitespace (dropped) and make every punctuation character its own
 *   word (BERT's BasicTokenizer `_run_split_on_punc`).
 * - ByteLevel (GPT-2, RoBERTa): optionally prefix a space, split with GPT-2's regex, then write
 *   each word's UTF-8 bytes as byte characters (unicode.ts), which is what the BPE vocabulary holds.
 *   GPT-2's `\s` means Unicode White_Space (Oniguruma's meaning in the Rust crate, and the
 *   `regex` module's in OpenAI's encoder.py), not JavaScript's `\s`.
 * - Whitespace (`\w+|[^\w\s]+`) and WhitespaceSplit.
 */

import { NotImplementedError } from '../../errors.js';
import { type JsonObject, optionalBoolean, requireArray, requireObject, requireString } from './json-fields.js';
import { NormalizedText } from './normalizer.js';
import { isBertPunctuation, toByteChars, WHITE_SPACE } from './unicode.js';

export interface PreTokenizer {
  /** The words of `text`, in order. */
  split(text: NormalizedText): NormalizedText[];
  toJSON(): JsonObject;
}

/** Units [a, b) of `text` as words, dropping empty ones. */
function piecesAt(text: NormalizedText, bounds: [number, number][]): NormalizedText[] {
  return bounds.filter(([a, b]) => b > a).map(([a, b]) => text.slice(a, b));
}

/** Splits on whitespace (removed) and isolates each punctuation character. */
export class BertPreTokenizer implements PreTokenizer {
  split(text: NormalizedText): NormalizedText[] {
    const bounds: [number, number][] = [];
    const s = text.text;
    let start = 0;
    for (let i = 0; i < s.length; ) {
      const cp = s.codePointAt(i)!;
      const ch = cp < 128 ? s[i]! : String.fromCodePoint(cp);
      const next = i + ch.length;
      if (cp === 32 || (cp < 128 ? cp >= 9 && cp <= 13 : WHITE_SPACE.test(ch))) {
        bounds.push([start, i]);
        start = next;
      } else if (isBertPunctuation(ch)) {
        bounds.push([start, i], [i, next]);
        start = next;
      }
      i = next;
    }
    bounds.push([start, s.length]);
    return piecesAt(text, bounds);
  }
  toJSON(): JsonObject {
    return { type: 'BertPreTokenizer' };
  }
}

/** GPT-2's word pattern (encoder.py), with `\s` as Unicode White_Space. */
export const GPT2_PATTERN =
  /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\p{White_Space}\p{L}\p{N}]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;

/** Splits `text` into the matches of a global regex (the text between matches is dropped). */
function splitByMatches(text: NormalizedText, pattern: RegExp): NormalizedText[] {
  const bounds: [number, number][] = [];
  for (const m of text.text.matchAll(pattern)) bounds.push([m.index!, m.index! + m[0].length]);
  return piecesAt(text, bounds);
}

/** GPT-2's byte-level pre-tokenizer (see the file header). */
export class ByteLevelPreTokenizer implements PreTokenizer {
  constructor(
    /** Add a space before a text that does not start with whitespace, so its first word looks like the others ("Ġhello"). */
    readonly addPrefixSpace = false,
    /** Split with GPT2_PATTERN; false keeps the whole text as one word. */
    readonly useRegex = true,
    /** Kept for the file's round trip; offsets are trimmed by the ByteLevel post-processor. */
    readonly trimOffsets = true,
  ) {}

  split(text: NormalizedText): NormalizedText[] {
    if (this.addPrefixSpace && text.text.length > 0 && !WHITE_SPACE.test(text.text[0]!)) {
      // The added space points at an empty range before the first character.
      const at = text.starts[0]!;
      text = new NormalizedText(' ' + text.text, [at, ...text.starts], [at, ...text.ends]);
    }
    const words = this.useRegex ? splitByMatches(text, GPT2_PATTERN) : text.text.length > 0 ? [text] : [];
    return words.map((w) => w.map(toByteChars));
  }

  toJSON(): JsonObject {
    return { type: 'ByteLevel', add_prefix_space: this.addPrefixSpace, trim_offsets: this.trimOffsets, use_regex: this.useRegex };
  }
}

/** `\w+|[^\w\s]+` with Unicode word characters. */
class WhitespacePreTokenizer implements PreTokenizer {
  split(text: NormalizedText): NormalizedText[] {
    return splitByMatches(text, /[\p{L}\p{N}\p{M}\p{Pc}]+|[^\p{L}\p{N}\p{M}\p{Pc}\p{White_Space}]+/gu);
  }
  toJSON(): JsonObject {
    return { type: 'Whitespace' };
  }
}

class WhitespaceSplitPreTokenizer implements PreTokenizer {
  split(text: NormalizedText): NormalizedText[] {
    return splitByMatches(text, /\P{White_Space}+/gu);
  }
  toJSON(): JsonObject {
    return { type: 'WhitespaceSplit' };
  }
}

/** Several pre-tokenizers, each splitting the words of the one before. */
class SequencePreTokenizer implements PreTokenizer {
  constructor(readonly preTokenizers: readonly PreTokenizer[]) {}
  split(text: NormalizedText): NormalizedText[] {
    let words = [text];
    for (const p of this.preTokenizers) words = words.flatMap((w) => p.split(w));
    return words;
  }
  toJSON(): JsonObject {
    return { type: 'Sequence', pretokenizers: this.preTokenizers.map((p) => p.toJSON()) };
  }
}

/** Reads a tokenizer.json `pre_tokenizer` object. */
export function preTokenizerFromJSON(json: unknown, where: string): PreTokenizer {
  const o = requireObject(json, where);
  const type = requireString(o, 'type', where);
  switch (type) {
    case 'BertPreTokenizer':
      return new BertPreTokenizer();
    case 'ByteLevel':
      return new ByteLevelPreTokenizer(optionalBoolean(o, 'add_prefix_space', where) ?? true, optionalBoolean(o, 'use_regex', where) ?? true, optionalBoolean(o, 'trim_offsets', where) ?? true);
    case 'Whitespace':
      return new WhitespacePreTokenizer();
    case 'WhitespaceSplit':
      return new WhitespaceSplitPreTokenizer();
    case 'Sequence':
      return new SequencePreTokenizer(requireArray(o, 'pretokenizers', where).map((p, i) => preTokenizerFromJSON(p, `${where}.pretokenizers[${i}]`)));
    default:
      throw new NotImplementedError(
        `${where}: pre-tokenizer type "${type}" is not supported; heed reads BertPreTokenizer, ByteLevel, Whitespace, WhitespaceSplit and Sequence. Fix: use a tokenizer whose pre_tokenizer is one of these.`,
      );
  }
}
