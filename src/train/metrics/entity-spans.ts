/**
 * Entity spans from tag sequences, in seqeval's two modes.
 *
 * Default (conlleval-compatible) mode, a port of seqeval/metrics/sequence_labeling.py
 * `get_entities` / `end_of_chunk` / `start_of_chunk` (seqeval 1.2, conlleval.pl rules):
 *   - every tag is read as (prefix, type): 'B-PER' → ('B', 'PER'), 'O' → ('O', '_');
 *   - a span ends before token i when the previous token was E- or S-, when B-/I- is followed by
 *     B-, S- or O, or when the type changes after any non-O tag;
 *   - a span starts at token i on B- or S-, on I-/E- after O, E- or S-, and on any type change;
 *   - so an I- after O starts an entity, 'B-PER I-LOC' is two entities, and a span still open at
 *     the end of a sentence closes there (each sentence is followed by an implicit 'O').
 *
 * Strict mode, a port of seqeval/scheme.py (`Tokens.entities` with IOB2 / IOE2 / IOBES / BILOU):
 * a span counts only if it starts and ends with the prefixes its scheme allows, so 'O I-PER' has
 * no entity and 'B-PER I-LOC' has only PER. A prefix the scheme does not know is an error.
 *
 * Spans are { type, sentence, start, end } with `end` inclusive; two spans are the same entity
 * when all four fields are equal ("exact span and type").
 *
 *   getEntities([['B-PER', 'I-PER', 'O', 'I-LOC']])
 *   // [{ type: 'PER', sentence: 0, start: 0, end: 1 }, { type: 'LOC', sentence: 0, start: 3, end: 3 }]
 */
import { ShapeError, ValueError } from '../../errors.js';

/** One entity: its type and the inclusive token range [start, end] inside sentence `sentence`. */
export interface EntitySpan {
  type: string;
  sentence: number;
  start: number;
  end: number;
}

/** The strict-mode schemes (seqeval.scheme classes of the same names). BIOES is IOBES's other name. */
export type TagScheme = 'IOB2' | 'IOE2' | 'IOBES' | 'BIOES' | 'BILOU';
export const TAG_SCHEMES: readonly TagScheme[] = ['IOB2', 'IOE2', 'IOBES', 'BIOES', 'BILOU'];

export interface EntityOptions {
  /** Tags are written TYPE-B instead of B-TYPE (seqeval's suffix=True). Default false. */
  suffix?: boolean;
}

const DEFAULT_PREFIXES = new Set(['B', 'I', 'E', 'S']);

/** (prefix, type) of a tag the way seqeval's default mode splits it; rejects tags seqeval warns about. */
function splitDefault(tag: string, suffix: boolean, where: string): [string, string] {
  if (typeof tag !== 'string' || tag.length === 0) {
    throw new ValueError(`getEntities: ${where} is ${JSON.stringify(tag)}, expected a tag such as 'O', 'B-PER' or 'I-LOC'.`);
  }
  const bare = tag === 'O' || DEFAULT_PREFIXES.has(tag);
  const ok = bare || (suffix ? /-[BIES]$/.test(tag) : /^[BIES]-/.test(tag));
  if (!ok) {
    const form = suffix ? "'O' or TYPE-B, TYPE-I, TYPE-E, TYPE-S" : "'O' or B-TYPE, I-TYPE, E-TYPE, S-TYPE";
    throw new ValueError(`getEntities: ${where} is '${tag}', which is not an entity tag; expected ${form}. Fix: map other labels to 'O' before scoring.`);
  }
  if (suffix) {
    // Python: chunk[:-1].rsplit('-', maxsplit=1)[0] or '_'
    const head = tag.slice(0, -1);
    const dash = head.lastIndexOf('-');
    return [tag[tag.length - 1], (dash < 0 ? head : head.slice(0, dash)) || '_'];
  }
  // Python: chunk[1:].split('-', maxsplit=1)[-1] or '_'
  const rest = tag.slice(1);
  const dash = rest.indexOf('-');
  return [tag[0], (dash < 0 ? rest : rest.slice(dash + 1)) || '_'];
}

function endOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (prevTag === 'E' || prevTag === 'S') return true;
  if ((prevTag === 'B' || prevTag === 'I') && (tag === 'B' || tag === 'S' || tag === 'O')) return true;
  return prevTag !== 'O' && prevTag !== '.' && prevType !== type;
}

function startOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (tag === 'B' || tag === 'S') return true;
  if ((prevTag === 'E' || prevTag === 'S' || prevTag === 'O') && (tag === 'E' || tag === 'I')) return true;
  return tag !== 'O' && tag !== '.' && prevType !== type;
}

/** Checks that sentences is a list of tag lists, naming the argument on failure. */
function checkSentences(op: string, arg: string, sentences: readonly (readonly string[])[]): void {
  if (!Array.isArray(sentences) || sentences.some((s) => !Array.isArray(s))) {
    throw new ValueError(`${op}: ${arg} must be a list of sentences, each a list of tags (string[][]); received ${JSON.stringify(sentences)?.slice(0, 80)}.`);
  }
}

/**
 * Entities in seqeval's default (conlleval) mode. Each sentence is read on its own and closed
 * at its end, exactly like seqeval's get_entities on the list of sentences.
 */
export function getEntities(sentences: readonly (readonly string[])[], options: EntityOptions = {}): EntitySpan[] {
  checkSentences('getEntities', 'sentences', sentences);
  const suffix = options.suffix ?? false;
  const spans: EntitySpan[] = [];
  sentences.forEach((tags, s) => {
    let prevTag = 'O';
    let prevType = '';
    let begin = 0;
    // One extra 'O' closes a span still open at the end of the sentence.
    for (let i = 0; i <= tags.length; i++) {
      const [tag, type] = i < tags.length ? splitDefault(tags[i], suffix, `sentence ${s}, token ${i}`) : ['O', '_'];
      if (endOfChunk(prevTag, tag, prevType, type)) spans.push({ type: prevType, sentence: s, start: begin, end: i - 1 });
      if (startOfChunk(prevTag, tag, prevType, type)) begin = i;
      prevTag = tag;
      prevType = type;
    }
  });
  return spans;
}

// ---- strict mode (seqeval/scheme.py) ----

/** A pattern (previous prefixes, current prefixes, type condition), as seqeval's Prefix/Tag flags. */
type Pattern = [string, string, 'SAME' | 'DIFF' | 'ANY'];
interface SchemeRules {
  allowed: string;
  start: Pattern[];
  inside: Pattern[];
  end: Pattern[];
}

const ANY = 'IOBESUL';
const IOBES_RULES: SchemeRules = {
  allowed: 'IOBES',
  start: [[ANY, 'B', 'ANY'], [ANY, 'S', 'ANY']],
  inside: [['B', 'I', 'SAME'], ['B', 'E', 'SAME'], ['I', 'I', 'SAME'], ['I', 'E', 'SAME']],
  end: [['S', ANY, 'ANY'], ['E', ANY, 'ANY']],
};
const SCHEME_RULES: Record<TagScheme, SchemeRules> = {
  IOB2: {
    allowed: 'IOB',
    start: [[ANY, 'B', 'ANY']],
    inside: [['B', 'I', 'SAME'], ['I', 'I', 'SAME']],
    end: [['I', 'O', 'ANY'], ['I', 'I', 'DIFF'], ['I', 'B', 'ANY'], ['B', 'O', 'ANY'], ['B', 'I', 'DIFF'], ['B', 'B', 'ANY']],
  },
  IOE2: {
    allowed: 'IOE',
    start: [['O', 'I', 'ANY'], ['O', 'E', 'ANY'], ['E', 'I', 'ANY'], ['E', 'E', 'ANY'], ['I', 'I', 'DIFF'], ['I', 'E', 'DIFF']],
    inside: [['I', 'E', 'SAME'], ['I', 'I', 'SAME']],
    end: [['E', ANY, 'ANY']],
  },
  IOBES: IOBES_RULES,
  BIOES: IOBES_RULES,
  BILOU: {
    allowed: 'BILOU',
    start: [[ANY, 'B', 'ANY'], [ANY, 'U', 'ANY']],
    inside: [['B', 'I', 'SAME'], ['B', 'L', 'SAME'], ['I', 'I', 'SAME'], ['I', 'L', 'SAME']],
    end: [['U', ANY, 'ANY'], ['L', ANY, 'ANY']],
  },
};

interface StrictToken {
  prefix: string;
  type: string;
}

/** seqeval Token.__init__: prefix = first (or last) character, type = the rest with '-' stripped, or '_'. */
function strictToken(tag: string, suffix: boolean, scheme: TagScheme, where: string): StrictToken {
  const rules = SCHEME_RULES[scheme];
  const prefix = typeof tag === 'string' && tag.length > 0 ? (suffix ? tag[tag.length - 1] : tag[0]) : '';
  if (prefix === '' || !rules.allowed.includes(prefix)) {
    throw new ValueError(`getEntitiesStrict: ${where} is ${JSON.stringify(tag)}, whose prefix is not allowed in scheme ${scheme}; expected one of ${[...rules.allowed].join(', ')}. Fix: pass the scheme the data is written in, or use the default (non-strict) mode.`);
  }
  const rest = suffix ? tag.slice(0, -1) : tag.slice(1);
  return { prefix, type: rest.replace(/^-+|-+$/g, '') || '_' };
}

function matches(prev: StrictToken, cur: StrictToken, patterns: Pattern[]): boolean {
  return patterns.some(([p, c, cond]) =>
    p.includes(prev.prefix) && c.includes(cur.prefix) &&
    (cond === 'ANY' || (cond === 'SAME') === (prev.type === cur.type)));
}

/**
 * Entities in seqeval's strict mode (mode='strict', scheme=...): only spans whose start and end
 * tags are valid in the scheme count. A port of seqeval.scheme.Tokens.entities.
 */
export function getEntitiesStrict(sentences: readonly (readonly string[])[], scheme: TagScheme, options: EntityOptions = {}): EntitySpan[] {
  checkSentences('getEntitiesStrict', 'sentences', sentences);
  if (!TAG_SCHEMES.includes(scheme)) throw new ValueError(`getEntitiesStrict: scheme '${scheme}' is unknown; expected one of ${TAG_SCHEMES.join(', ')}.`);
  const rules = SCHEME_RULES[scheme];
  const suffix = options.suffix ?? false;
  const spans: EntitySpan[] = [];
  sentences.forEach((tags, s) => {
    const outside: StrictToken = { prefix: 'O', type: '_' };
    const tokens = tags.map((t, i) => strictToken(t, suffix, scheme, `sentence ${s}, token ${i}`));
    tokens.push(outside);
    // seqeval Tokens._forward: the first index after `start` that does not continue the span.
    const forward = (start: number, prev: StrictToken): number => {
      for (let i = start; i < tokens.length; i++) {
        if (matches(prev, tokens[i], rules.inside)) prev = tokens[i];
        else return i;
      }
      return tokens.length - 2;
    };
    let i = 0;
    let prev = outside;
    while (i < tokens.length) {
      const token = tokens[i];
      if (matches(prev, token, rules.start)) {
        const end = forward(i + 1, token); // exclusive
        if (matches(tokens[end - 1], tokens[end], rules.end)) spans.push({ type: token.type, sentence: s, start: i, end: end - 1 });
        i = end;
      } else {
        i++;
      }
      prev = tokens[i - 1];
    }
  });
  return spans;
}

/** seqeval.scheme.auto_detect: the scheme whose prefix set equals the prefixes used in `sentences`. */
export function detectScheme(sentences: readonly (readonly string[])[], options: EntityOptions = {}): TagScheme {
  checkSentences('detectScheme', 'sentences', sentences);
  const used = new Set<string>();
  for (const tags of sentences) {
    for (const t of tags) {
      const p = typeof t === 'string' && t.length > 0 ? (options.suffix ? t[t.length - 1] : t[0]) : '';
      if (!'IOBESUL'.includes(p) || p === '') throw new ValueError(`detectScheme: tag ${JSON.stringify(t)} has no known prefix; expected one of I, O, B, E, S, U, L.`);
      used.add(p);
    }
  }
  const key = [...used].sort().join('');
  const sets: [TagScheme, string[]][] = [
    ['IOB2', ['BIO', 'BI', 'BO', 'B']],
    ['IOE2', ['EIO', 'EI', 'EO', 'E']],
    ['IOBES', ['BEIOS', 'BEIS', 'BEIO', 'BEOS', 'BEI', 'BES', 'BEO', 'BE', 'S']],
    ['BILOU', ['BILOU', 'BILU', 'BILO', 'BLOU', 'BIL', 'BLU', 'BLO', 'BL', 'U']],
  ];
  for (const [scheme, keys] of sets) if (keys.includes(key)) return scheme;
  throw new ValueError(`detectScheme: the prefixes {${key.split('').join(', ')}} match no supported scheme (IOB2, IOE2, IOBES, BILOU). Fix: pass scheme explicitly, or check the tags.`);
}

/** Throws a ShapeError unless yTrue and yPred have the same number of sentences and tokens per sentence. */
export function checkSameShape(op: string, yTrue: readonly (readonly string[])[], yPred: readonly (readonly string[])[]): void {
  checkSentences(op, 'yTrue', yTrue);
  checkSentences(op, 'yPred', yPred);
  if (yTrue.length !== yPred.length) {
    throw new ShapeError(`${op}: yTrue has ${yTrue.length} sentences but yPred has ${yPred.length}; expected one predicted tag sequence per true one.`);
  }
  yTrue.forEach((t, i) => {
    if (t.length !== yPred[i].length) {
      throw new ShapeError(`${op}: sentence ${i} has ${t.length} true tags but ${yPred[i].length} predicted tags; expected equal lengths.`);
    }
  });
}
