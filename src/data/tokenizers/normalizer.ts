/**
 * Normalizers: the first step of a Hugging Face tokenizer (lowercasing, accent stripping, BERT's
 * text cleaning), done on a text that remembers where each of its characters came from.
 *
 * Offsets are the reason for NormalizedText: after "Café" becomes "cafe", the token "cafe" must
 * still point at characters 0..4 of the input, so word-level labels (NER) can be aligned with
 * tokens. Each UTF-16 unit of the normalized text carries the [start, end) range, in UTF-16 units
 * of the original input, of the character it came from. Inserted characters (BERT's spaces
 * around CJK ideographs) carry the range of the character they were inserted for.
 *
 * Offsets are JavaScript string indices (UTF-16 units), so `input.slice(start, end)` is the
 * token's source text. (Python's tokenizers count code points; the two differ only after an
 * astral character such as an emoji.)
 *
 * The tokenizer.json normalizers read here: BertNormalizer, Lowercase, StripAccents, NFD, NFKD,
 * NFC, NFKC, Sequence. Any other type is a NotImplementedError naming it.
 */

import { NotImplementedError } from '../../errors.js';
import { isBertControl, isBertWhitespace, isChineseChar } from './unicode.js';
import { type JsonObject, optionalBoolean, requireArray, requireObject, requireString } from './json-fields.js';

/** A text plus, for each of its UTF-16 units, the original [start, end) it came from. */
export class NormalizedText {
  constructor(
    readonly text: string,
    /** (text.length,) original start of each unit. */
    readonly starts: readonly number[],
    /** (text.length,) original end of each unit. */
    readonly ends: readonly number[],
  ) {}

  /** The identity normalization of `text`, whose first unit sits at `base` in the original input. */
  static fromOriginal(text: string, base = 0): NormalizedText {
    const starts: number[] = [];
    const ends: number[] = [];
    for (let i = 0; i < text.length; ) {
      const n = (text.codePointAt(i)! > 0xffff ? 2 : 1);
      for (let k = 0; k < n; k++) {
        starts.push(base + i);
        ends.push(base + i + n);
      }
      i += n;
    }
    return new NormalizedText(text, starts, ends);
  }

  /**
   * Replaces each group of characters by `fn(group)`; every unit of the replacement points at
   * the whole group's original range. `grouping: 'char'` takes one code point at a time;
   * `'cluster'` a base character with its following combining marks (what Unicode composition
   * needs to see at once).
   */
  map(fn: (group: string) => string, grouping: 'char' | 'cluster' = 'char'): NormalizedText {
    let text = '';
    const starts: number[] = [];
    const ends: number[] = [];
    for (const [i, group] of grouping === 'char' ? codePoints(this.text) : clusters(this.text)) {
      const out = fn(group);
      if (out.length === 0) continue;
      const s = this.starts[i]!;
      const e = this.ends[i + group.length - 1]!;
      text += out;
      for (let k = 0; k < out.length; k++) {
        starts.push(s);
        ends.push(e);
      }
    }
    return new NormalizedText(text, starts, ends);
  }

  /** Units [a, b) of this text, with their alignment. */
  slice(a: number, b: number): NormalizedText {
    return new NormalizedText(this.text.slice(a, b), this.starts.slice(a, b), this.ends.slice(a, b));
  }

  /** Original [start, end) covered by units [a, b); an empty range sits at the start of unit a. */
  originalSpan(a: number, b: number): [number, number] {
    if (b <= a) {
      const at = a < this.starts.length ? this.starts[a]! : this.ends.length > 0 ? this.ends[this.ends.length - 1]! : 0;
      return [at, at];
    }
    return [this.starts[a]!, this.ends[b - 1]!];
  }
}

const CLUSTER = /\P{M}\p{M}*|\p{M}+/gu;

/** [index, character] for each code point of `s`. */
function* codePoints(s: string): Generator<[number, string]> {
  for (let i = 0; i < s.length; ) {
    const c = s.charCodeAt(i);
    const d = s.charCodeAt(i + 1); // NaN past the end
    const n = c >= 0xd800 && c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff ? 2 : 1;
    yield [i, n === 1 ? s[i]! : s.slice(i, i + 2)];
    i += n;
  }
}

/** [index, cluster] for each base character with its combining marks. */
function* clusters(s: string): Generator<[number, string]> {
  for (const m of s.matchAll(CLUSTER)) yield [m.index!, m[0]];
}
const NONSPACING_MARK = /\p{Mn}/gu;

/** One normalization step of a tokenizer.json pipeline. */
export interface Normalizer {
  normalize(text: NormalizedText): NormalizedText;
  /** The tokenizer.json object this normalizer was read from (or would be written as). */
  toJSON(): JsonObject;
}

/** BERT's normalizer: clean text, space out CJK ideographs, strip accents, lowercase (in the Rust crate's order). */
export class BertNormalizer implements Normalizer {
  readonly cleanText: boolean;
  readonly handleChineseChars: boolean;
  /** null = follow `lowercase`, as the original BERT does. */
  readonly stripAccents: boolean | null;
  readonly lowercase: boolean;

  constructor(o: { cleanText?: boolean; handleChineseChars?: boolean; stripAccents?: boolean | null; lowercase?: boolean } = {}) {
    this.cleanText = o.cleanText ?? true;
    this.handleChineseChars = o.handleChineseChars ?? true;
    this.stripAccents = o.stripAccents ?? null;
    this.lowercase = o.lowercase ?? true;
  }

  normalize(t: NormalizedText): NormalizedText {
    // The four steps act on one character at a time, so one pass applies them all.
    const strip = this.stripAccents ?? this.lowercase;
    return t.map((ch) => {
      const cp = ch.codePointAt(0)!;
      if (cp < 128) {
        // ASCII: no accents, no CJK; controls other than \t \n \r vanish and those three become spaces.
        if (cp === 9 || cp === 10 || cp === 13) return this.cleanText ? ' ' : ch;
        if (cp < 32 || cp === 127) return this.cleanText ? '' : ch;
        return this.lowercase && cp >= 65 && cp <= 90 ? String.fromCharCode(cp + 32) : ch;
      }
      if (this.cleanText) {
        if (cp === 0xfffd || isBertControl(ch)) return '';
        if (isBertWhitespace(ch)) return ' ';
      }
      let out = ch;
      if (strip) out = out.normalize('NFD').replace(NONSPACING_MARK, '');
      if (this.lowercase) out = out.toLowerCase();
      if (this.handleChineseChars && isChineseChar(cp)) out = ` ${out} `;
      return out;
    });
  }

  toJSON(): JsonObject {
    return { type: 'BertNormalizer', clean_text: this.cleanText, handle_chinese_chars: this.handleChineseChars, strip_accents: this.stripAccents, lowercase: this.lowercase };
  }
}

/** NFD, then drop the nonspacing marks (category Mn): "café" → "cafe". */
function stripAccents(t: NormalizedText): NormalizedText {
  return t.map((ch) => ch.normalize('NFD').replace(NONSPACING_MARK, ''));
}

/** A normalizer without options: Lowercase, StripAccents, NFD, NFKD, NFC, NFKC. */
class SimpleNormalizer implements Normalizer {
  constructor(
    readonly type: string,
    private readonly apply: (t: NormalizedText) => NormalizedText,
  ) {}
  normalize(t: NormalizedText): NormalizedText {
    return this.apply(t);
  }
  toJSON(): JsonObject {
    return { type: this.type };
  }
}

/** Several normalizers applied in order. */
export class SequenceNormalizer implements Normalizer {
  constructor(readonly normalizers: readonly Normalizer[]) {}
  normalize(t: NormalizedText): NormalizedText {
    for (const n of this.normalizers) t = n.normalize(t);
    return t;
  }
  toJSON(): JsonObject {
    return { type: 'Sequence', normalizers: this.normalizers.map((n) => n.toJSON()) };
  }
}

/** Unicode normalization form `form`, one base character and its combining marks at a time. */
function unicodeForm(form: 'NFD' | 'NFKD' | 'NFC' | 'NFKC'): Normalizer {
  return new SimpleNormalizer(form, (t) => t.map((g) => g.normalize(form), 'cluster'));
}

/** Reads a tokenizer.json `normalizer` object (`where` names it in errors). */
export function normalizerFromJSON(json: unknown, where: string): Normalizer {
  const o = requireObject(json, where);
  const type = requireString(o, 'type', where);
  switch (type) {
    case 'BertNormalizer': {
      const strip = o.strip_accents;
      return new BertNormalizer({
        cleanText: optionalBoolean(o, 'clean_text', where),
        handleChineseChars: optionalBoolean(o, 'handle_chinese_chars', where),
        stripAccents: strip === null || strip === undefined ? null : optionalBoolean(o, 'strip_accents', where),
        lowercase: optionalBoolean(o, 'lowercase', where),
      });
    }
    case 'Lowercase':
      return new SimpleNormalizer(type, (t) => t.map((ch) => ch.toLowerCase()));
    case 'StripAccents':
      return new SimpleNormalizer(type, (t) => t.map((ch) => ch.replace(NONSPACING_MARK, '')));
    case 'NFD':
    case 'NFKD':
    case 'NFC':
    case 'NFKC':
      return unicodeForm(type);
    case 'Sequence':
      return new SequenceNormalizer(requireArray(o, 'normalizers', where).map((n, i) => normalizerFromJSON(n, `${where}.normalizers[${i}]`)));
    default:
      throw new NotImplementedError(
        `${where}: normalizer type "${type}" is not supported; heed reads BertNormalizer, Lowercase, StripAccents, NFD, NFKD, NFC, NFKC and Sequence. Fix: use a tokenizer whose normalizer is one of these.`,
      );
  }
}
