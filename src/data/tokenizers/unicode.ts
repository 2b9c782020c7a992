/**
 * Character classes and the byte-to-character table that Hugging Face tokenizers are defined with.
 *
 * BERT's classes follow transformers' tokenization_bert.py (`_is_whitespace`, `_is_control`,
 * `_is_punctuation`, `_is_chinese_char`) and the Rust `tokenizers` crate's BertNormalizer /
 * BertPreTokenizer, which agree with it. GPT-2's table is `bytes_to_unicode` from OpenAI's
 * encoder.py: every byte 0..255 gets a printable character, so a byte string is a plain string
 * that a BPE vocabulary can hold ('Ġ' is the space byte 0x20).
 */

/** Unicode White_Space: what Rust's char::is_whitespace and Oniguruma's `\s` mean (JS `\s` differs on U+0085 and U+FEFF). */
export const WHITE_SPACE = /\p{White_Space}/u;

/** BERT's clean-text whitespace: space, tab, newline, carriage return, or category Zs. */
export function isBertWhitespace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || (ch > '\x7f' && SPACE_SEPARATOR.test(ch));
}
const SPACE_SEPARATOR = /^\p{Zs}$/u;

/** BERT's control characters: category C* except tab, newline and carriage return (which count as whitespace). */
export function isBertControl(ch: string): boolean {
  if (ch === '\t' || ch === '\n' || ch === '\r') return false;
  return OTHER.test(ch);
}
const OTHER = /^\p{C}$/u;

/**
 * BERT's punctuation: every non-alphanumeric ASCII printable character (so `$`, `^`, `` ` `` count,
 * although Unicode files them as symbols), or Unicode category P*.
 */
export function isBertPunctuation(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return cp > 127 && PUNCTUATION.test(ch);
}
const PUNCTUATION = /^\p{P}$/u;

/** The CJK Unified Ideographs blocks that BERT surrounds with spaces (Hangul, kana are not among them). */
export function isChineseChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/**
 * GPT-2's bytes_to_unicode: the printable Latin-1 bytes map to themselves, the other 68 bytes to
 * U+0100.. in order. Returns (byte → char) and (char → byte).
 */
function bytesToUnicode(): { byteToChar: string[]; charToByte: Map<string, number> } {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const byteToChar = new Array<string>(256);
  for (const b of printable) byteToChar[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (byteToChar[b] === undefined) byteToChar[b] = String.fromCharCode(256 + n++);
  }
  const charToByte = new Map<string, number>();
  byteToChar.forEach((c, b) => charToByte.set(c, b));
  return { byteToChar, charToByte };
}

export const { byteToChar: BYTE_TO_CHAR, charToByte: CHAR_TO_BYTE } = bytesToUnicode();

/** A string's UTF-8 bytes written as GPT-2 byte characters ('é' → 'Ã©'); a lone surrogate is U+FFFD, as TextEncoder writes it. */
export function toByteChars(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    let cp = s.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (cp <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else cp = 0xfffd;
    }
    const B = BYTE_TO_CHAR;
    if (cp < 0x80) out += B[cp];
    else if (cp < 0x800) out += B[0xc0 | (cp >> 6)]! + B[0x80 | (cp & 63)];
    else if (cp < 0x10000) out += B[0xe0 | (cp >> 12)]! + B[0x80 | ((cp >> 6) & 63)] + B[0x80 | (cp & 63)];
    else out += B[0xf0 | (cp >> 18)]! + B[0x80 | ((cp >> 12) & 63)] + B[0x80 | ((cp >> 6) & 63)] + B[0x80 | (cp & 63)];
  }
  return out;
}
