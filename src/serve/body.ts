/**
 * Request bodies, checked before anything walks them: nesting depth (so no recursive
 * JSON.stringify or structured clone can overflow the stack), the predict body's fields,
 * and bounded descriptions of received values for error messages (so no error echoes a
 * megabyte of input back to the client or into the log).
 */
import type { PredictOptions } from '../tasks/predictor.js';
import type { ServeConfig } from './config.js';
import { badRequest, clip, tooLarge, unprocessable } from './errors.js';

/**
 * Deepest JSON nesting accepted in a body. A predict body is `{inputs: [input]}`, and an input
 * is a string or a small array (an 8×8 image as rows is depth 4 in all); 32 leaves room for
 * any task and stays far below the ~10k levels that overflow a recursive walk.
 */
export const MAX_JSON_DEPTH = 32;
/** Longest text of a received value quoted in an error message. */
export const MAX_QUOTE_CHARS = 60;
const PREDICT_KEYS = ['inputs', 'input', 'nBest', 'attention'];
const MAX_N_BEST = 16;

/** The nesting depth of a parsed JSON value, counted without recursion and up to `limit` + 1. */
export function jsonDepth(value: unknown, limit: number = MAX_JSON_DEPTH): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    deepest = Math.max(deepest, depth);
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return deepest;
}

/** Throws 400 when a parsed body nests deeper than MAX_JSON_DEPTH. */
export function checkBodyDepth(body: unknown): void {
  if (jsonDepth(body) > MAX_JSON_DEPTH) {
    throw badRequest(`the JSON body nests deeper than ${MAX_JSON_DEPTH} levels; no heed input needs that many`);
  }
}

/**
 * A short description of a received value for an error message: a primitive's JSON text cut
 * to MAX_QUOTE_CHARS, or "a list of N items" / "an object with N keys" (never walked).
 */
export function describe(value: unknown): string {
  if (Array.isArray(value)) return `a list of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (value !== null && typeof value === 'object') return `an object with ${Object.keys(value).length} key(s)`;
  if (value === undefined) return 'nothing';
  return clip(JSON.stringify(value), MAX_QUOTE_CHARS);
}

/** The predict body, checked: one list of inputs and the predict options. */
export function parsePredictBody(body: unknown, config: ServeConfig): { inputs: unknown[]; options: PredictOptions } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('the body must be a JSON object such as {"inputs": ["hello"]} or {"input": "hello"}');
  }
  checkBodyDepth(body);
  const b = body as Record<string, unknown>;
  const has = (key: string) => Object.hasOwn(b, key);
  const unknown = Object.keys(b).filter((k) => !PREDICT_KEYS.includes(k));
  if (unknown.length > 0) {
    const shown = unknown.slice(0, 5).map((k) => `'${clip(k, MAX_QUOTE_CHARS)}'`).join(', ');
    throw badRequest(`unknown field(s) ${shown}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''}; valid fields: ${PREDICT_KEYS.join(', ')}`);
  }
  if (has('inputs') === has('input')) throw badRequest('give exactly one of "inputs" (a list) or "input" (one item)');
  let inputs: unknown[];
  if (has('inputs')) {
    if (!Array.isArray(b.inputs)) throw badRequest(`"inputs" must be a list, received ${describe(b.inputs)}`);
    inputs = b.inputs;
  } else {
    inputs = [b.input];
  }
  if (inputs.length === 0) throw unprocessable('"inputs" is empty; give at least one input');
  if (inputs.length > config.maxItems) throw tooLarge(`the request has ${inputs.length} inputs; at most ${config.maxItems} are allowed per request`);
  inputs.forEach((x, i) => {
    // Safe to stringify: the depth was checked above.
    const chars = typeof x === 'string' ? x.length : JSON.stringify(x ?? null).length;
    if (chars > config.maxInputChars) throw unprocessable(`input ${i} has ${chars} characters; at most ${config.maxInputChars} are allowed`);
  });
  const options: PredictOptions = {};
  if (b.nBest !== undefined) {
    if (!Number.isInteger(b.nBest) || (b.nBest as number) < 1 || (b.nBest as number) > MAX_N_BEST) {
      throw badRequest(`"nBest" must be an integer from 1 to ${MAX_N_BEST}, received ${describe(b.nBest)}`);
    }
    options.nBest = b.nBest as number;
  }
  if (b.attention !== undefined) {
    if (typeof b.attention !== 'boolean') throw badRequest(`"attention" must be true or false, received ${describe(b.attention)}`);
    options.attention = b.attention;
  }
  return { inputs, options };
}
