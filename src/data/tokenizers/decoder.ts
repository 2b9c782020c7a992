/**
 * Decoders: token strings back to text.
 *
 * - WordPiece: join with spaces, glue "##" continuations to the token before, and (cleanup) undo
 *   the spaces tokenization put before punctuation and English contractions (" ." → ".", " n't" → "n't").
 * - ByteLevel: join, map byte characters back to bytes, decode UTF-8 (an incomplete character
 *   becomes U+FFFD, as in Hugging Face).
 * - BPEDecoder: join, the end-of-word suffix ("</w>") becomes a space.
 */

import { NotImplementedError } from '../../errors.js';
import { type JsonObject, optionalBoolean, optionalString, requireObject, requireString } from './json-fields.js';
import { CHAR_TO_BYTE } from './unicode.js';

export interface Decoder {
  decode(tokens: readonly string[]): string;
  toJSON(): JsonObject;
}

/** transformers' `clean_up_tokenization`: no space before punctuation and English contractions. */
export function cleanUpTokenization(s: string): string {
  return s
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

export class WordPieceDecoder implements Decoder {
  constructor(
    readonly prefix = '##',
    readonly cleanup = true,
  ) {}
  decode(tokens: readonly string[]): string {
    const out = tokens.map((t, i) => (i > 0 ? (t.startsWith(this.prefix) ? t.slice(this.prefix.length) : ' ' + t) : t)).join('');
    return this.cleanup ? cleanUpTokenization(out) : out;
  }
  toJSON(): JsonObject {
    return { type: 'WordPiece', prefix: this.prefix, cleanup: this.cleanup };
  }
}

const utf8 = new TextDecoder('utf-8');

export class ByteLevelDecoder implements Decoder {
  constructor(private readonly json: JsonObject = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true }) {}
  decode(tokens: readonly string[]): string {
    const bytes: number[] = [];
    let out = '';
    for (const ch of tokens.join('')) {
      const b = CHAR_TO_BYTE.get(ch);
      if (b !== undefined) {
        bytes.push(b);
        continue;
      }
      // A character outside the byte alphabet (an added token such as "<|endoftext|>" is plain text).
      out += utf8.decode(new Uint8Array(bytes)) + ch;
      bytes.length = 0;
    }
    return out + utf8.decode(new Uint8Array(bytes));
  }
  toJSON(): JsonObject {
    return this.json;
  }
}

class BPEDecoder implements Decoder {
  constructor(readonly suffix = '</w>') {}
  decode(tokens: readonly string[]): string {
    return tokens.map((t, i) => t.replaceAll(this.suffix, i === tokens.length - 1 ? '' : ' ')).join('');
  }
  toJSON(): JsonObject {
    return { type: 'BPEDecoder', suffix: this.suffix };
  }
}

/** Reads a tokenizer.json `decoder` object. */
export function decoderFromJSON(json: unknown, where: string): Decoder {
  const o = requireObject(json, where);
  const type = requireString(o, 'type', where);
  switch (type) {
    case 'WordPiece':
      return new WordPieceDecoder(optionalString(o, 'prefix', where), optionalBoolean(o, 'cleanup', where));
    case 'ByteLevel':
      return new ByteLevelDecoder(o);
    case 'BPEDecoder':
      return new BPEDecoder(optionalString(o, 'suffix', where));
    default:
      throw new NotImplementedError(`${where}: decoder type "${type}" is not supported; heed reads WordPiece, ByteLevel and BPEDecoder. Fix: use a tokenizer whose decoder is one of these.`);
  }
}
