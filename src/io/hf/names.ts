/**
 * Name maps between heed's dotted parameter names and a Hugging Face checkpoint's keys.
 *
 * A map is a list of rules on dotted paths. A rule names a module (or a parameter) in both
 * vocabularies, with `{i}` standing for a layer index:
 *
 *   { heed: 'h.{i}.attn.inProj', hf: 'transformer.h.{i}.attn.c_attn', transpose: true }
 *
 * A rule matches a whole path or a prefix that ends at a '.', and the rest of the path (the
 * leaf, 'weight' or 'bias') is carried over unchanged. So the same rules map parameter names
 * (for checkpoints) and module paths (for LoRA / adapter target modules, which PEFT saves under
 * the HF module names). `transpose` marks GPT-2's Conv1D, whose weight is stored (in, out),
 * the transpose of a Linear's (out, in): the 2-D `weight` leaf is transposed on load and save.
 *
 * Every heed name maps to exactly one HF name and back (test/io/hf-names.test.ts checks this
 * over every parameter of every architecture), so loading is a key copy, as with heed's own
 * checkpoints. This file knows no model class (io sits beside the layers and imports no model).
 */
import { CheckpointError } from '../../errors.js';

export interface NameRule {
  /** heed path (module or parameter), `{i}` for a layer index. */
  heed: string;
  /** The Hugging Face path for the same thing. */
  hf: string;
  /** GPT-2 Conv1D: the 2-D weight is stored transposed, (in, out). */
  transpose?: boolean;
}

/** The name map of one architecture and head, as an architecture file declares it. */
export interface NameMap {
  /** e.g. 'BertForMaskedLM'. */
  architecture: string;
  rules: readonly NameRule[];
  /**
   * HF keys that name a tensor another key also holds (BERT's cls.predictions.decoder.bias is
   * cls.predictions.bias): alias → the key the rules use. Read when the canonical key is absent.
   */
  aliases?: Readonly<Record<string, string>>;
  /** HF keys that hold no weights heed keeps (GPT-2's causal-mask buffers, BERT's position_ids): skipped on load, never reported. */
  ignore?: readonly RegExp[];
}

interface Compiled {
  rule: NameRule;
  heed: RegExp;
  hf: RegExp;
}

const compiled = new WeakMap<NameMap, Compiled[]>();

/** 'a.{i}.b' → /^a\.(\d+)\.b(?=\.|$)/ */
function patternRegExp(p: string): RegExp {
  const esc = p.replace(/[.+^$()|[\]\\*?]/g, '\\$&').replace(/\{i\}/g, '(\\d+)');
  return new RegExp(`^${esc}(?=\\.|$)`);
}

function rulesOf(map: NameMap): Compiled[] {
  let c = compiled.get(map);
  if (c === undefined) {
    c = map.rules.map((rule) => ({ rule, heed: patternRegExp(rule.heed), hf: patternRegExp(rule.hf) }));
    compiled.set(map, c);
  }
  return c;
}

function fill(pattern: string, indices: string[]): string {
  let k = 0;
  return pattern.replace(/\{i\}/g, () => indices[k++]);
}

export interface MappedName {
  name: string;
  /** Whether the tensor is stored transposed on the other side (a Conv1D weight). */
  transpose: boolean;
}

function translate(map: NameMap, path: string, from: 'heed' | 'hf'): MappedName | null {
  const to = from === 'heed' ? 'hf' : 'heed';
  for (const c of rulesOf(map)) {
    const m = c[from].exec(path);
    if (m === null) continue;
    const rest = path.slice(m[0].length); // '' or '.weight'
    return { name: fill(c.rule[to], m.slice(1)) + rest, transpose: (c.rule.transpose ?? false) && rest === '.weight' };
  }
  return null;
}

/** The HF name of a heed parameter or module path, or null when no rule covers it. */
export function heedToHf(map: NameMap, heedPath: string): MappedName | null {
  return translate(map, heedPath, 'heed');
}

/** The heed name of an HF checkpoint key or module path, or null when no rule covers it. */
export function hfToHeed(map: NameMap, hfPath: string): MappedName | null {
  return translate(map, hfPath, 'hf');
}

/** heedToHf that throws: every parameter of a model built for `map` must have an HF name. */
export function requireHfName(map: NameMap, heedPath: string): MappedName {
  const m = heedToHf(map, heedPath);
  if (m === null) {
    throw new CheckpointError(`${map.architecture}: heed parameter '${heedPath}' has no Hugging Face name in the name map (src/io/hf/). Fix: add a rule for it; a model built by fromPretrained always maps.`);
  }
  return m;
}

/** Whether an HF key is one the map skips on load (a buffer or a known alias). */
export function isIgnoredHfKey(map: NameMap, key: string): boolean {
  return (map.ignore ?? []).some((re) => re.test(key));
}
