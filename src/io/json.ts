/**
 * JSON from files heed did not necessarily write: parsing with the checks JSON.parse skips, and
 * quoting values in error messages without echoing unbounded input.
 *
 * - JSON.parse keeps the last of duplicate keys silently; `{"w": A, "w": B}` in a safetensors
 *   header would load B and hide A. parseUntrustedJson rejects duplicates at every depth.
 * - JSON.stringify of a value from a file can be megabytes long (a 200k-entry shape) or overflow
 *   the stack (10k nested arrays). `preview` quotes at most `maxChars` characters and a few levels.
 */
import { CheckpointError } from '../errors.js';

/** Longest quote of a value from a file in an error message. */
export const PREVIEW_CHARS = 80;
const PREVIEW_DEPTH = 4;

/**
 * A short JSON-like rendering of `value` for an error message: at most `maxChars` characters
 * (then '…'), nested values below a few levels as '[…]' / '{…}'. Never throws.
 */
export function preview(value: unknown, maxChars = PREVIEW_CHARS): string {
  const parts: string[] = [];
  let length = 0;
  const push = (s: string): boolean => {
    parts.push(s);
    length += s.length;
    return length <= maxChars;
  };
  const walk = (v: unknown, depth: number): boolean => {
    if (typeof v === 'string') return push(JSON.stringify(v.length > maxChars ? v.slice(0, maxChars) : v));
    if (v === null || typeof v !== 'object') return push(v === undefined ? 'undefined' : typeof v === 'bigint' ? `${v}n` : String(v));
    const isArray = Array.isArray(v);
    if (depth >= PREVIEW_DEPTH) return push(isArray ? '[…]' : '{…}');
    if (!push(isArray ? '[' : '{')) return false;
    let first = true;
    for (const key of Object.keys(v)) {
      if (!first && !push(', ')) return false;
      first = false;
      if (!isArray && !push(`${JSON.stringify(key.length > maxChars ? key.slice(0, maxChars) : key)}: `)) return false;
      if (!walk((v as Record<string, unknown>)[key], depth + 1)) return false;
    }
    return push(isArray ? ']' : '}');
  };
  walk(value, 0);
  const text = parts.join('');
  return text.length <= maxChars ? text : `${text.slice(0, maxChars)}… (${describeSize(value)})`;
}

function describeSize(value: unknown): string {
  if (typeof value === 'string') return `${value.length} characters`;
  if (Array.isArray(value)) return `${value.length} entries`;
  return 'truncated';
}

/** A name from a file (tensor, key, token) quoted for an error message, cut at `maxChars`. */
export function quoteName(name: string, maxChars = PREVIEW_CHARS): string {
  return name.length <= maxChars ? `'${name}'` : `'${name.slice(0, maxChars)}…' (${name.length} characters)`;
}

/**
 * The first key that appears twice in one JSON object of `text` (which must already be valid
 * JSON), with the path of that object ('' at the top level, '.a[]' in the objects of the array at
 * key a); null when every object's keys are distinct.
 * A single pass over the text with an explicit stack, so nesting depth costs no recursion.
 */
export function findDuplicateKey(text: string): { key: string; path: string } | null {
  // One frame per open object or array; objects remember their keys and the key being read.
  const stack: { keys: Set<string> | null; name: string }[] = [];
  let expectKey = false;
  let lastKey = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (expectKey && top?.keys) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) return { key, path: stack.map((f) => f.name).join('') };
        top.keys.add(key);
        lastKey = key;
        expectKey = false;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      const parent = stack[stack.length - 1];
      const name = parent === undefined ? '' : parent.keys ? `.${lastKey}` : '[]';
      stack.push({ keys: c === '{' ? new Set() : null, name });
      expectKey = c === '{';
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      expectKey = stack[stack.length - 1]?.keys !== null && stack.length > 0;
    }
  }
  return null;
}

/**
 * Parses JSON read from `source` and rejects duplicate keys. Errors are CheckpointErrors that
 * start with `source` and name `what` ("model config", "safetensors header").
 */
export function parseUntrustedJson(text: string, source: string, what: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CheckpointError(`${source}: the ${what} is not valid JSON (${preview((err as Error).message, 120)}). The file is corrupt; restore it or retrain.`);
  }
  const dup = findDuplicateKey(text);
  if (dup !== null) {
    throw new CheckpointError(`${source}: the ${what} holds the key ${quoteName(dup.key)} twice ${dup.path === '' ? 'at the top level' : `in ${preview(dup.path)}`}; JSON readers would keep only the last. The file is corrupt or was edited; restore it or retrain.`);
  }
  return value;
}
