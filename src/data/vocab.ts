/**
 * Vocabulary: a bijection between symbols (characters, phonemes, words) and integer ids.
 *
 * Ids 0..3 are always the special tokens, in this order, for every vocabulary heed makes:
 *
 *   0 <pad>  padding; batching fills with it and losses ignore it
 *   1 <bos>  beginning of sequence (the decoder's first input)
 *   2 <eos>  end of sequence (generation stops here)
 *   3 <unk>  an out-of-vocabulary symbol, only when encode() is told `unknown: 'unk'`
 *
 * The other symbols follow in sorted order (JavaScript default string sort), so building a vocabulary from the
 * same data always gives the same ids. A vocabulary file is JSON:
 *
 *   { "format": "heed.vocab", "version": 1, "tokens": ["<pad>", "<bos>", "<eos>", "<unk>", "'", "a", ...] }
 */

import { renameSync, writeFileSync } from 'node:fs';

import { CheckpointError, IndexError, ValueError } from '../errors.js';
import { FILE_LIMITS, readTextFileSync } from '../io/read-file.js';
import { parseUntrustedJson, preview } from '../io/json.js';

export const PAD_ID = 0;
export const BOS_ID = 1;
export const EOS_ID = 2;
export const UNK_ID = 3;
export const SPECIAL_TOKENS: readonly string[] = Object.freeze(['<pad>', '<bos>', '<eos>', '<unk>']);

/** Options of Vocab.encode. */
export interface EncodeOptions {
  /** Prepend <bos>. Default false. */
  addBos?: boolean;
  /** Append <eos>. Default false. */
  addEos?: boolean;
  /** What an out-of-vocabulary symbol does: 'error' throws ValueError (default), 'unk' maps it to <unk>. */
  unknown?: 'error' | 'unk';
}

/** Options of Vocab.decode. */
export interface DecodeOptions {
  /** Stop at the first <eos> (what generation means by it). Default true. */
  stopAtEos?: boolean;
}

/** A vocabulary file's contents (see the file header). */
export interface VocabJSON {
  format: 'heed.vocab';
  version: 1;
  tokens: string[];
}

/**
 * A vocabulary (see the file header for the id layout and the file format).
 *
 *   const v = Vocab.fromTokens(['a', 'b']);   // <pad> <bos> <eos> <unk> a b
 *   v.encode(['a', 'b'], { addEos: true });    // Int32Array [4, 5, 2]
 *   v.decode([4, 5, 2]);                       // ['a', 'b'] (stops at <eos>; <pad>, <bos> dropped)
 */
export class Vocab {
  /** Symbol of each id; tokens[0..3] are SPECIAL_TOKENS. */
  readonly tokens: readonly string[];
  private readonly ids: Map<string, number>;

  /** `tokens` must start with SPECIAL_TOKENS and hold no duplicates. Prefer `fromTokens`. */
  constructor(tokens: readonly string[]) {
    SPECIAL_TOKENS.forEach((s, i) => {
      if (tokens[i] !== s) {
        throw new ValueError(`Vocab: tokens[${i}] must be '${s}' (ids 0..3 are ${SPECIAL_TOKENS.join(', ')}), received ${preview(tokens[i])}. Fix: build with Vocab.fromTokens.`);
      }
    });
    this.tokens = Object.freeze([...tokens]);
    this.ids = new Map();
    this.tokens.forEach((t, i) => {
      if (typeof t !== 'string') throw new ValueError(`Vocab: tokens[${i}] must be a string, received ${preview(t)}.`);
      if (this.ids.has(t)) throw new ValueError(`Vocab: token ${preview(t)} appears twice (ids ${this.ids.get(t)} and ${i}).`);
      this.ids.set(t, i);
    });
  }

  /**
   * Builds a vocabulary from symbols: every distinct symbol, sorted, after the specials.
   * For a character vocabulary pass the characters (`[...'hello']` or `words.flatMap((w) => [...w])`).
   */
  static fromTokens(symbols: Iterable<string>): Vocab {
    const distinct = new Set<string>();
    for (const s of symbols) if (!SPECIAL_TOKENS.includes(s)) distinct.add(s);
    return new Vocab([...SPECIAL_TOKENS, ...[...distinct].sort()]);
  }

  /** Builds a vocabulary from the symbols of many sequences (words as strings split into characters). */
  static fromSequences(sequences: Iterable<Iterable<string>>): Vocab {
    const all: string[] = [];
    for (const seq of sequences) for (const s of seq) all.push(s);
    return Vocab.fromTokens(all);
  }

  get size(): number {
    return this.tokens.length;
  }

  has(symbol: string): boolean {
    return this.ids.has(symbol);
  }

  /** Id of one symbol, or undefined. */
  idOf(symbol: string): number | undefined {
    return this.ids.get(symbol);
  }

  /** Encodes a sequence of symbols (a string is split into characters) to ids. */
  encode(sequence: string | readonly string[], options: EncodeOptions = {}): Int32Array {
    const symbols = typeof sequence === 'string' ? [...sequence] : sequence;
    const unknown = options.unknown ?? 'error';
    if (unknown !== 'error' && unknown !== 'unk') {
      throw new ValueError(`Vocab.encode: option unknown must be 'error' or 'unk', received ${preview(unknown)}.`);
    }
    const out = new Int32Array(symbols.length + (options.addBos ? 1 : 0) + (options.addEos ? 1 : 0));
    let k = 0;
    if (options.addBos) out[k++] = BOS_ID;
    const missing: string[] = []; // only collected for the error
    const collect = unknown === 'error';
    for (const s of symbols) {
      const id = this.ids.get(s);
      if (id === undefined && collect) missing.push(s);
      out[k++] = id ?? UNK_ID;
    }
    if (options.addEos) out[k++] = EOS_ID;
    if (missing.length > 0 && unknown === 'error') {
      const distinct = [...new Set(missing)];
      const list = distinct.slice(0, 10).map((s) => preview(s, 20)).join(', ') + (distinct.length > 10 ? `, … (${distinct.length} in all)` : '');
      const input = preview(typeof sequence === 'string' ? sequence : symbols.join(' '));
      throw new ValueError(
        `Vocab.encode: symbol(s) ${list} in input ${input} are not in the vocabulary (${this.size} tokens). ` +
          `Fix: pass { unknown: 'unk' } to map them to <unk>, or build the vocabulary from data that contains them.`,
      );
    }
    return out;
  }

  /** Decodes ids to symbols, dropping <pad>, <bos>, <eos> (and, by default, everything after the first <eos>). <unk> stays visible. */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string[] {
    const stopAtEos = options.stopAtEos ?? true;
    const out: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.size) {
        throw new IndexError(`Vocab.decode: ids[${i}] = ${id} is not a valid id; expected an integer in [0, ${this.size - 1}].`);
      }
      if (id === EOS_ID && stopAtEos) break;
      if (id === PAD_ID || id === BOS_ID || id === EOS_ID) continue;
      out.push(this.tokens[id]);
    }
    return out;
  }

  toJSON(): VocabJSON {
    return { format: 'heed.vocab', version: 1, tokens: [...this.tokens] };
  }

  /** Rebuilds a vocabulary from toJSON() output; malformed input throws CheckpointError naming `source`. */
  static fromJSON(json: unknown, source = '<json>'): Vocab {
    const fail = (what: string): never => {
      throw new CheckpointError(`Vocab.fromJSON: ${source}: ${what}`);
    };
    if (json === null || typeof json !== 'object' || Array.isArray(json)) fail(`expected an object {format: 'heed.vocab', version: 1, tokens: [...]}, received ${preview(json)}.`);
    const j = json as Record<string, unknown>;
    const own = (k: string): unknown => (Object.hasOwn(j, k) ? j[k] : undefined);
    if (own('format') !== 'heed.vocab') fail(`format must be 'heed.vocab', received ${preview(own('format'))}.`);
    if (own('version') !== 1) fail(`version must be 1, received ${preview(own('version'))}. Fix: upgrade heed to read newer vocabulary files.`);
    const tokens = own('tokens');
    if (!Array.isArray(tokens)) fail(`tokens must be an array of strings, received ${preview(tokens)}.`);
    const bad = (tokens as unknown[]).findIndex((t) => typeof t !== 'string');
    if (bad >= 0) fail(`tokens must be an array of strings; tokens[${bad}] is ${preview((tokens as unknown[])[bad])}.`);
    try {
      return new Vocab(tokens as string[]);
    } catch (err) {
      return fail((err as Error).message);
    }
  }

  /** Writes the vocabulary as JSON (temporary file + rename, so a crash never leaves half a file). */
  save(path: string): void {
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.toJSON(), null, 1) + '\n');
    renameSync(tmp, path);
  }

  /**
   * Reads a vocabulary file; a missing, non-JSON or malformed file throws CheckpointError, and so
   * does anything but a regular file of at most FILE_LIMITS.vocab bytes (see io/read-file.ts).
   */
  static load(path: string): Vocab {
    if (typeof path !== 'string' || path === '') {
      throw new CheckpointError(`Vocab.load: expected the path of a vocabulary file, received ${preview(path)}. Fix: check that the model directory's config.json names its vocabulary files (or retrain).`);
    }
    const text = readTextFileSync(path, { what: 'vocabulary', maxBytes: FILE_LIMITS.vocab });
    return Vocab.fromJSON(parseUntrustedJson(text, path, 'vocabulary'), path);
  }
}
