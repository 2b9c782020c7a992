/**
 * sacreBLEU's default '13a' tokenizer (mteval-v13a.pl as used by WMT), and Python's str.split(),
 * which sacreBLEU's BLEU and chrF both rely on.
 *
 * A port of sacrebleu/tokenizers/tokenizer_13a.py and tokenizer_re.py (sacreBLEU 2.x):
 *   1. drop '<skipped>', join '-\n' line breaks, turn '\n' into ' ', unescape &quot; &amp; &lt; &gt;;
 *   2. pad with one space on each side, then
 *      - split off the symbols { | } ~ [ \ ] ^ _ ` space ! " # $ % & ( ) * + : ; < = > ? @ /
 *        (not the apostrophe, comma, hyphen or period),
 *      - split off '.' and ',' unless preceded by a digit, and again unless followed by a digit,
 *      - split off '-' after a digit;
 *   3. collapse whitespace runs to one space and trim.
 *
 *   tokenize13a('Hello, world! It costs $3.50.');   // 'Hello , world ! It costs $ 3.50 .'
 */

/** The characters Python's str.isspace() accepts, which str.split() with no argument splits on. */
const PYTHON_WHITESPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const WHITESPACE_RUN = new RegExp(`[${PYTHON_WHITESPACE}]+`, 'u');
const TRAILING_WHITESPACE = new RegExp(`[${PYTHON_WHITESPACE}]+$`, 'u');

/** Python's line.split(): words separated by runs of Unicode whitespace, no empty words. */
export function pythonSplit(line: string): string[] {
  return line.split(WHITESPACE_RUN).filter((w) => w.length > 0);
}

/** Python's line.rstrip(). */
export function pythonRstrip(line: string): string {
  return line.replace(TRAILING_WHITESPACE, '');
}

// tokenizer_re.py's substitutions, in order (JavaScript's /g replace is Python's re.sub).
// Python: [\{-\~\[-\` -\&\(-\+\:-\@\/], the same ranges in hex ({-~, [-`, space-&, (-+, :-@, /).
const SYMBOLS = /([\x7b-\x7e\x5b-\x60\x20-\x26\x28-\x2b\x3a-\x40\x2f])/gu;
const PERIOD_COMMA_AFTER_NON_DIGIT = /([^0-9])([.,])/gu;
const PERIOD_COMMA_BEFORE_NON_DIGIT = /([.,])([^0-9])/gu;
const DASH_AFTER_DIGIT = /([0-9])(-)/gu;

/** The 13a tokenization of one segment, words joined by single spaces. */
export function tokenize13a(line: string): string {
  line = line.replaceAll('<skipped>', '');
  line = line.replaceAll('-\n', '');
  line = line.replaceAll('\n', ' ');
  if (line.includes('&')) {
    line = line.replaceAll('&quot;', '"');
    line = line.replaceAll('&amp;', '&');
    line = line.replaceAll('&lt;', '<');
    line = line.replaceAll('&gt;', '>');
  }
  line = ` ${line} `;
  line = line.replace(SYMBOLS, ' $1 ');
  line = line.replace(PERIOD_COMMA_AFTER_NON_DIGIT, '$1 $2 ');
  line = line.replace(PERIOD_COMMA_BEFORE_NON_DIGIT, ' $1 $2');
  line = line.replace(DASH_AFTER_DIGIT, '$1 $2 ');
  return pythonSplit(line).join(' ');
}
