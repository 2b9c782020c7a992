/**
 * Post-processors: add a model's special tokens around the encoded text(s) and set the segment
 * (token type) ids.
 *
 *   BERT     single: [CLS] A [SEP]            pair: [CLS] A [SEP] B [SEP]      (B and its [SEP] get type 1)
 *   RoBERTa  single: <s> A </s>               pair: <s> A </s> </s> B </s>     (all type 0)
 *   GPT-2    nothing added (ByteLevel only trims offsets when asked)
 *
 * BertProcessing and RobertaProcessing are read into the same template as TemplateProcessing,
 * and written back as the type they were read from.
 */

import { CheckpointError, NotImplementedError } from '../../errors.js';
import { preview } from '../../io/json.js';
import { type Encoding, concatEncodings, tokensOutsideText } from './encoding.js';
import { type JsonObject, optionalBoolean, requireArray, requireObject, requireString } from './json-fields.js';

/** One item of a template: a special token, or the tokens of text A or B. */
type TemplatePiece = { special: string; typeId: number } | { sequence: 'A' | 'B'; typeId: number };

export interface PostProcessor {
  /** How many tokens process() adds for a single text (pair = false) or a pair; truncation leaves room for them. */
  addedTokens(pair: boolean): number;
  /** Joins the encodings of text A (and B), adding special tokens; `original` trims offsets to non-space text. */
  process(a: Encoding, b: Encoding | null, addSpecialTokens: boolean, original: readonly string[]): Encoding;
  toJSON(): JsonObject;
}

/** Encodings A and B one after the other, with their own type ids (no special tokens). */
function plainJoin(a: Encoding, b: Encoding | null): Encoding {
  return b === null ? a : concatEncodings([a, { ...b, typeIds: b.typeIds.map(() => 1) }]);
}

export class TemplateProcessing implements PostProcessor {
  constructor(
    readonly single: readonly TemplatePiece[],
    readonly pair: readonly TemplatePiece[],
    /** Each special token's ids (a template token may stand for several ids). */
    readonly specialTokens: ReadonlyMap<string, { ids: number[]; tokens: string[] }>,
    /** How to write this template back: as the file's BertProcessing/RobertaProcessing, or TemplateProcessing. */
    private readonly json: () => JsonObject = () => templateJSON(this),
    /** RoBERTa trims the leading space out of byte-level offsets. */
    readonly trimOffsets = false,
  ) {
    for (const p of [...single, ...pair]) {
      if ('special' in p && !specialTokens.has(p.special)) {
        throw new CheckpointError(`post_processor: the template names the special token ${JSON.stringify(p.special)} but special_tokens does not define it. The tokenizer file is corrupt.`);
      }
    }
  }

  addedTokens(pair: boolean): number {
    let n = 0;
    for (const p of pair ? this.pair : this.single) if ('special' in p) n += this.specialTokens.get(p.special)!.ids.length;
    return n;
  }

  process(a: Encoding, b: Encoding | null, addSpecialTokens: boolean, original: readonly string[]): Encoding {
    if (this.trimOffsets) {
      a = trimOffsets(a, original[0]!);
      if (b !== null) b = trimOffsets(b, original[1]!);
    }
    if (!addSpecialTokens) return plainJoin(a, b);
    const parts: Encoding[] = [];
    for (const p of b === null ? this.single : this.pair) {
      if ('sequence' in p) {
        const e = p.sequence === 'A' ? a : b!;
        parts.push({ ...e, typeIds: e.typeIds.map(() => p.typeId) });
      } else {
        const s = this.specialTokens.get(p.special)!;
        parts.push(tokensOutsideText(s.ids.slice(), s.tokens.slice(), p.typeId, 1));
      }
    }
    return concatEncodings(parts);
  }

  toJSON(): JsonObject {
    return this.json();
  }
}

function templateJSON(t: TemplateProcessing): JsonObject {
  const piece = (p: TemplatePiece) => ('special' in p ? { SpecialToken: { id: p.special, type_id: p.typeId } } : { Sequence: { id: p.sequence, type_id: p.typeId } });
  const special = Object.create(null) as JsonObject; // a token named "__proto__" stays a key
  for (const [name, s] of t.specialTokens) special[name] = { id: name, ids: s.ids, tokens: s.tokens };
  return { type: 'TemplateProcessing', single: t.single.map(piece), pair: t.pair.map(piece), special_tokens: special };
}

/** Narrows byte-level offsets so they exclude the whitespace a token starts or ends with ("Ġworld" → "world"). */
function trimOffsets(e: Encoding, text: string): Encoding {
  const isSpace = (i: number) => /\s/u.test(text[i] ?? '');
  const offsets = e.offsets.map(([s, t]): [number, number] => {
    let a = s;
    let b = t;
    while (a < b && isSpace(a)) a++;
    while (b > a && isSpace(b - 1)) b--;
    return a === b ? [s, t] : [a, b]; // an all-space token keeps its span
  });
  return { ...e, offsets };
}

/** GPT-2's post-processor: no special tokens; optionally trims offsets. */
export class ByteLevelProcessing implements PostProcessor {
  constructor(
    readonly trimOffsetsFlag: boolean,
    private readonly json: JsonObject,
  ) {}
  addedTokens(): number {
    return 0;
  }
  process(a: Encoding, b: Encoding | null, _add: boolean, original: readonly string[]): Encoding {
    if (this.trimOffsetsFlag) {
      a = trimOffsets(a, original[0]!);
      if (b !== null) b = trimOffsets(b, original[1]!);
    }
    return plainJoin(a, b);
  }
  toJSON(): JsonObject {
    return this.json;
  }
}

/** No post-processor in the file: texts joined as they are. */
export class NoPostProcessing implements PostProcessor {
  addedTokens(): number {
    return 0;
  }
  process(a: Encoding, b: Encoding | null): Encoding {
    return plainJoin(a, b);
  }
  toJSON(): JsonObject {
    throw new Error('NoPostProcessing is written as null');
  }
}

/** `["[SEP]", 102]`: a special token and its id, as BertProcessing and RobertaProcessing store them. */
function tokenAndId(o: JsonObject, key: string, where: string): [string, number] {
  const v = o[key];
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || !Number.isInteger(v[1])) {
    throw new CheckpointError(`${where}.${key} is ${preview(v)}, expected ["token", id].`);
  }
  return [v[0], v[1] as number];
}

function templatePieces(v: unknown[], where: string): TemplatePiece[] {
  return v.map((item, i) => {
    const w = `${where}[${i}]`;
    const o = requireObject(item, w);
    if (o.SpecialToken !== undefined) {
      const s = requireObject(o.SpecialToken, `${w}.SpecialToken`);
      return { special: requireString(s, 'id', `${w}.SpecialToken`), typeId: Number(s.type_id ?? 0) };
    }
    const s = requireObject(o.Sequence, `${w}.Sequence`);
    const id = requireString(s, 'id', `${w}.Sequence`);
    if (id !== 'A' && id !== 'B') throw new CheckpointError(`${w}.Sequence.id is ${preview(id)}, expected "A" or "B".`);
    return { sequence: id, typeId: Number(s.type_id ?? 0) };
  });
}

/** Reads a tokenizer.json `post_processor` object (null/absent → no post-processing). */
export function postProcessorFromJSON(json: unknown, where: string): PostProcessor {
  if (json === null || json === undefined) return new NoPostProcessing();
  const o = requireObject(json, where);
  const type = requireString(o, 'type', where);
  switch (type) {
    case 'TemplateProcessing': {
      const special = new Map<string, { ids: number[]; tokens: string[] }>();
      for (const [name, v] of Object.entries(requireObject(o.special_tokens, `${where}.special_tokens`))) {
        const s = requireObject(v, `${where}.special_tokens.${name}`);
        const ids = requireArray(s, 'ids', `${where}.special_tokens.${name}`);
        const tokens = requireArray(s, 'tokens', `${where}.special_tokens.${name}`);
        if (!ids.every((x) => Number.isInteger(x)) || !tokens.every((x) => typeof x === 'string') || ids.length !== tokens.length) {
          throw new CheckpointError(`${where}.special_tokens.${name}: ids ${preview(ids)} and tokens ${preview(tokens)} must be integer ids and strings of one length.`);
        }
        special.set(name, { ids: ids as number[], tokens: tokens as string[] });
      }
      return new TemplateProcessing(templatePieces(requireArray(o, 'single', where), `${where}.single`), templatePieces(requireArray(o, 'pair', where), `${where}.pair`), special);
    }
    case 'BertProcessing': {
      const [cls, clsId] = tokenAndId(o, 'cls', where);
      const [sep, sepId] = tokenAndId(o, 'sep', where);
      return bertTemplate(cls, clsId, sep, sepId, () => o);
    }
    case 'RobertaProcessing': {
      const [cls, clsId] = tokenAndId(o, 'cls', where);
      const [sep, sepId] = tokenAndId(o, 'sep', where);
      const special = new Map([
        [cls, { ids: [clsId], tokens: [cls] }],
        [sep, { ids: [sepId], tokens: [sep] }],
      ]);
      const s = (t: string) => ({ special: t, typeId: 0 });
      const single: TemplatePiece[] = [s(cls), { sequence: 'A', typeId: 0 }, s(sep)];
      const pair: TemplatePiece[] = [...single, s(sep), { sequence: 'B', typeId: 0 }, s(sep)];
      return new TemplateProcessing(single, pair, special, () => o, optionalBoolean(o, 'trim_offsets', where) ?? true);
    }
    case 'ByteLevel':
      return new ByteLevelProcessing(optionalBoolean(o, 'trim_offsets', where) ?? true, o);
    default:
      throw new NotImplementedError(
        `${where}: post-processor type "${type}" is not supported; heed reads TemplateProcessing, BertProcessing, RobertaProcessing and ByteLevel. Fix: use a tokenizer whose post_processor is one of these.`,
      );
  }
}

/** BERT's [CLS] A [SEP] (B [SEP]) template, written back by `json` (BertProcessing in a file, TemplateProcessing when built here). */
export function bertTemplate(cls: string, clsId: number, sep: string, sepId: number, json?: () => JsonObject): TemplateProcessing {
  const special = new Map([
    [cls, { ids: [clsId], tokens: [cls] }],
    [sep, { ids: [sepId], tokens: [sep] }],
  ]);
  const single: TemplatePiece[] = [{ special: cls, typeId: 0 }, { sequence: 'A', typeId: 0 }, { special: sep, typeId: 0 }];
  const pair: TemplatePiece[] = [...single, { sequence: 'B', typeId: 1 }, { special: sep, typeId: 1 }];
  return new TemplateProcessing(single, pair, special, json);
}
