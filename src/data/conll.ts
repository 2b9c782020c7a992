/**
 * CoNLL column files for tagging (CoNLL-2003, WNUT-17): one token a line, its columns separated by
 * whitespace; the first column is the token and the last its tag; a blank (or whitespace-only) line
 * ends a sentence; `-DOCSTART-` lines are skipped. Read as a stream (gzip'ed or not).
 *
 * Checks, each a DataError `file:line:column:` naming the field:
 *   - every token line has the same number of columns as the first one;
 *   - every tag is 'O' or PREFIX-TYPE of the scheme (BIO / IOB2: B, I; BIOES / IOBES: B, I, E, S):
 *     a tag outside the scheme cannot be repaired;
 *   - the file holds at least one sentence.
 * The order of tags (I-X after O, a type change inside a span) is not checked here: the tag task
 * repairs such sentences to the reading conlleval gives them (train/tag-repair.ts).
 *
 *   const { sentences, scheme } = await readConll('wnut17train.conll.gz');
 */
import { DataError } from '../errors.js';
import { readLines, type ReadTextOptions } from './text-stream.js';

export interface ConllSentence {
  tokens: string[];
  tags: string[];
  /** Line of the first token. */
  line: number;
}

/** The tagging schemes a CoNLL file may use (the same names as nn/tag-transitions.ts). */
export type ConllScheme = 'BIO' | 'IOB2' | 'BIOES' | 'IOBES';

export interface ConllOptions extends ReadTextOptions {
  /** Tagging scheme; 'auto' (default) = BIOES if any E- or S- tag occurs, else BIO. */
  scheme?: ConllScheme | 'auto';
}

export interface ConllFile {
  sentences: ConllSentence[];
  scheme: ConllScheme;
}

interface RawTag {
  tag: string;
  line: number;
  column: number;
}

export async function readConll(path: string, options: ConllOptions = {}): Promise<ConllFile> {
  const raw: { tokens: string[]; tags: RawTag[]; line: number }[] = [];
  let columns = 0;
  let current: { tokens: string[]; tags: RawTag[]; line: number } | null = null;
  for await (const { text, line } of readLines(path, options)) {
    if (text.trim() === '') {
      current = null;
      continue;
    }
    if (text.startsWith('-DOCSTART-')) continue;
    const fields = text.trim().split(/\s+/);
    if (columns === 0) {
      if (fields.length < 2) throw new DataError(path, line, text.length + 1, `expected at least 2 columns (token and tag), found ${fields.length}. Fix: separate the token and its tag by a tab.`);
      columns = fields.length;
    } else if (fields.length !== columns) {
      const at = fields.length > columns ? text.indexOf(fields[columns], text.indexOf(fields[columns - 1]) + fields[columns - 1].length) + 1 : text.length + 1;
      throw new DataError(path, line, at, `expected ${columns} columns like the first token line, found ${fields.length}. Fix: one token and its tag per line, blank lines between sentences.`);
    }
    const tag = fields[fields.length - 1];
    if (current === null) {
      current = { tokens: [], tags: [], line };
      raw.push(current);
    }
    current.tokens.push(fields[0]);
    current.tags.push({ tag, line, column: text.lastIndexOf(tag) + 1 });
  }
  if (raw.length === 0) throw new DataError(path, 1, 1, 'the file holds no sentences (only blank or -DOCSTART- lines).');
  const scheme = resolveScheme(options.scheme ?? 'auto', raw);
  const bioes = scheme === 'BIOES' || scheme === 'IOBES';
  const legal = bioes ? /^(O|[BIES]-.+)$/ : /^(O|[BI]-.+)$/;
  const sentences = raw.map((s) => {
    for (const t of s.tags) {
      if (!legal.test(t.tag)) {
        throw new DataError(path, t.line, t.column, `tag '${t.tag}' is not a ${scheme} tag and cannot be repaired; expected 'O' or ${bioes ? 'B-, I-, E-, S-' : 'B-, I-'} followed by a type. Fix: map it to one of those, or pass --scheme.`);
      }
    }
    return { tokens: s.tokens, tags: s.tags.map((t) => t.tag), line: s.line };
  });
  return { sentences, scheme };
}

function resolveScheme(scheme: ConllScheme | 'auto', raw: { tags: RawTag[] }[]): ConllScheme {
  if (scheme !== 'auto') return scheme;
  return raw.some((s) => s.tags.some((t) => /^[ES]-/.test(t.tag))) ? 'BIOES' : 'BIO';
}
