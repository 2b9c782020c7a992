/**
 * Typed reads of tokenizer.json fields. A tokenizer file comes from outside, so every field is
 * checked, and a wrong one is a CheckpointError that names its path in the file
 * (`tokenizer.json: model.vocab["hello"] is "x", expected an integer id`).
 */

import { CheckpointError } from '../../errors.js';
import { preview } from '../../io/json.js';

export type JsonObject = { [key: string]: unknown };

export function requireObject(v: unknown, where: string): JsonObject {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new CheckpointError(`${where} is ${preview(v)}, expected an object. The tokenizer file is corrupt or not a Hugging Face tokenizer.json.`);
  }
  return v as JsonObject;
}

export function requireString(o: JsonObject, key: string, where: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new CheckpointError(`${where}.${key} is ${preview(v)}, expected a string.`);
  return v;
}

export function requireArray(o: JsonObject, key: string, where: string): unknown[] {
  const v = o[key];
  if (!Array.isArray(v)) throw new CheckpointError(`${where}.${key} is ${preview(v)}, expected an array.`);
  return v;
}

/** A string field that may be absent or null. */
export function optionalString(o: JsonObject, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new CheckpointError(`${where}.${key} is ${preview(v)}, expected a string or null.`);
  return v;
}

export function optionalBoolean(o: JsonObject, key: string, where: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new CheckpointError(`${where}.${key} is ${preview(v)}, expected true or false.`);
  return v;
}

export function optionalInteger(o: JsonObject, key: string, where: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new CheckpointError(`${where}.${key} is ${preview(v)}, expected a non-negative integer.`);
  return v;
}

/**
 * A vocabulary object `{ token: id }` as a Map, checked: ids are non-negative integers and no
 * two tokens share one (a shared id would make decoding ambiguous).
 */
export function readVocab(v: unknown, where: string): Map<string, number> {
  const o = requireObject(v, where);
  const vocab = new Map<string, number>();
  const tokens = Object.keys(o); // (Object.entries would allocate a pair per token: 50k for GPT-2)
  const ids = new Float64Array(tokens.length);
  let n = 0;
  for (const token of tokens) {
    const id = o[token];
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw new CheckpointError(`${where}[${JSON.stringify(token)}] is ${preview(id)}, expected a non-negative integer id.`);
    }
    vocab.set(token, id);
    ids[n++] = id;
  }
  // Shared ids, found by sorting (a typed sort of 50k ids is far cheaper than a second Map).
  ids.sort();
  for (let i = 1; i < n; i++) {
    if (ids[i] === ids[i - 1]) {
      const [first, second] = [...vocab].filter(([, id]) => id === ids[i]).map(([t]) => t);
      throw new CheckpointError(`${where}: tokens ${JSON.stringify(first)} and ${JSON.stringify(second)} both have id ${ids[i]}. The vocabulary is corrupt.`);
    }
  }
  return vocab;
}

/** A vocabulary Map written back as `{ token: id }` in id order (the order Hugging Face writes). */
export function vocabToJSON(vocab: ReadonlyMap<string, number>): JsonObject {
  // A null prototype, so a token named "__proto__" is an ordinary key.
  const out: JsonObject = Object.create(null) as JsonObject;
  for (const [token, id] of [...vocab].sort((a, b) => a[1] - b[1])) out[token] = id;
  return out;
}
