/**
 * Encoding: one tokenized input (a text or a pair of texts), as parallel arrays, one entry per
 * token, plus the truncation and padding that act on it. Field meanings follow Hugging Face's
 * `Encoding` / BatchEncoding (input_ids → ids, token_type_ids → typeIds, word_ids() → wordIds).
 *
 * Letters: N = tokens in the encoding.
 */

import { ValueError } from '../../errors.js';

export interface Encoding {
  /** (N,) vocabulary ids. */
  ids: number[];
  /** (N,) token strings ('##ing', 'Ġworld', '[CLS]'). */
  tokens: string[];
  /** (N,) segment of each token: 0 for the first text, 1 for the second of a BERT pair. */
  typeIds: number[];
  /** (N,) 1 for a real token, 0 for padding. */
  attentionMask: number[];
  /** (N,) 1 for a token the post-processor added ([CLS], [SEP], <s>) or padding, 0 for a token of the text. */
  specialTokensMask: number[];
  /**
   * (N,) [start, end) of each token in its input text, in UTF-16 units (`text.slice(start, end)`);
   * [0, 0] for added special tokens and padding.
   */
  offsets: [number, number][];
  /** (N,) index of the word each token came from (per input text), or null for special tokens and padding. */
  wordIds: (number | null)[];
  /** (N,) 0 or 1: which input text each token came from; null for special tokens and padding. */
  sequenceIds: (number | null)[];
}

export function emptyEncoding(): Encoding {
  return { ids: [], tokens: [], typeIds: [], attentionMask: [], specialTokensMask: [], offsets: [], wordIds: [], sequenceIds: [] };
}

/** The fields of an Encoding that hold one entry per token. */
const PER_TOKEN = ['ids', 'tokens', 'typeIds', 'attentionMask', 'specialTokensMask', 'offsets', 'wordIds', 'sequenceIds'] as const;

/** Keeps `n` tokens: the first n (direction 'right', drops the end) or the last n ('left'). */
export function truncateEncoding(e: Encoding, n: number, direction: 'left' | 'right'): Encoding {
  const out = emptyEncoding() as unknown as Record<string, unknown[]>;
  const len = e.ids.length;
  const [a, b] = direction === 'right' ? [0, Math.min(n, len)] : [Math.max(0, len - n), len];
  for (const k of PER_TOKEN) out[k] = (e[k] as unknown[]).slice(a, b);
  return out as unknown as Encoding;
}

/** Concatenates encodings token by token. */
export function concatEncodings(parts: readonly Encoding[]): Encoding {
  const out = emptyEncoding() as unknown as Record<string, unknown[]>;
  for (const k of PER_TOKEN) out[k] = parts.flatMap((p) => p[k] as unknown[]);
  return out as unknown as Encoding;
}

export type TruncationStrategy = 'longest_first' | 'only_first' | 'only_second';

/**
 * Lengths that fit `maxTokens` for a pair (Hugging Face's rules, tokenizers/src/utils/truncation.rs):
 * longest_first keeps the shorter sequence whole when the longer alone can absorb the cut,
 * otherwise gives each half (the longer one the odd token); only_first / only_second cut one side.
 * Throws a ValueError when the named side is too short to absorb the cut.
 */
export function truncatedLengths(n1: number, n2: number, maxTokens: number, strategy: TruncationStrategy): [number, number] {
  if (n1 + n2 <= maxTokens) return [n1, n2];
  if (strategy === 'longest_first') {
    const swap = n1 > n2;
    let [short, long] = swap ? [n2, n1] : [n1, n2];
    long = short > maxTokens ? short : Math.max(short, maxTokens - short);
    if (short + long > maxTokens) {
      short = Math.floor(maxTokens / 2);
      long = short + (maxTokens % 2);
    }
    return swap ? [long, short] : [short, long];
  }
  const cut = n1 + n2 - maxTokens;
  const side = strategy === 'only_first' ? n1 : n2;
  if (cut > side) {
    throw new ValueError(
      `truncation: strategy ${strategy} must remove ${cut} tokens but the ${strategy === 'only_first' ? 'first' : 'second'} text has only ${side} (lengths ${n1} + ${n2}, maxLength leaves ${maxTokens} for the texts). Fix: use truncation 'longest_first' or a larger maxLength.`,
    );
  }
  return strategy === 'only_first' ? [n1 - cut, n2] : [n1, n2 - cut];
}

/**
 * Tokens that stand for no text (special tokens, padding): offsets [0, 0], no word or sequence
 * id, special-tokens mask 1; `attention` 1 for special tokens, 0 for padding.
 */
export function tokensOutsideText(ids: number[], tokens: string[], typeId: number, attention: 0 | 1): Encoding {
  const n = ids.length;
  return {
    ids,
    tokens,
    typeIds: new Array<number>(n).fill(typeId),
    attentionMask: new Array<number>(n).fill(attention),
    specialTokensMask: new Array<number>(n).fill(1),
    offsets: Array.from({ length: n }, () => [0, 0] as [number, number]),
    wordIds: new Array<null>(n).fill(null),
    sequenceIds: new Array<null>(n).fill(null),
  };
}

/** Pads `e` to `length` tokens on `side` with `padId`/`padToken`; a longer encoding is returned as is. */
export function padEncoding(e: Encoding, length: number, o: { padId: number; padToken: string; padTypeId: number; side: 'left' | 'right' }): Encoding {
  const n = length - e.ids.length;
  if (n <= 0) return e;
  const pad = tokensOutsideText(new Array<number>(n).fill(o.padId), new Array<string>(n).fill(o.padToken), o.padTypeId, 0);
  return o.side === 'right' ? concatEncodings([e, pad]) : concatEncodings([pad, e]);
}
