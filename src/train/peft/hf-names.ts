/**
 * Adapter files under Hugging Face module names, for a model fromPretrained built: what HF peft
 * writes for the same adapter on the PyTorch model, so each side loads the other's files.
 *
 *   heed:  backbone.encoder.layers.0.selfAttn.qProj.loraA.weight   (the module path heed's model has)
 *   file:  base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight
 *
 * The architecture's name map (src/io/hf/) translates module paths both ways: a rule matches a
 * path prefix and carries the rest ('.loraA.weight', '.adapter.down.bias') over unchanged. The
 * config's module lists (target_modules, modules_to_save, rank_pattern, alpha_pattern) are written
 * as full HF module paths and read as peft reads them: an entry names every module whose path
 * equals it or ends with '.' + it ('query' names every layer's query).
 */
import type { Module } from '../../nn/module.js';
import { heedToHf, hfToHeed, type HfArchitecture } from '../../io/hf/index.js';
import { hfArchitectureOfModel } from '../../models/pretrained.js';
import { CheckpointError, ConfigError } from '../../errors.js';
import { kindOf, patternValue, type PeftConfig, type PeftType } from './peft-model.js';

/** The HF architecture of an adapter's base model; a CheckpointError when it has no HF layout. */
export function hfArchitectureOfBase(model: Module, source: string): HfArchitecture {
  try {
    return hfArchitectureOfModel(model);
  } catch (err) {
    if (err instanceof ConfigError) throw new CheckpointError(`${source}: the adapter names Hugging Face modules, but the base model has no Hugging Face layout: ${err.message}`);
    throw err;
  }
}

/** heed parameter or module path → HF path (a CheckpointError when the map has no rule for it). */
export function heedPathToHf(arch: HfArchitecture, path: string): string {
  const m = heedToHf(arch.nameMap, path);
  if (m === null) throw new CheckpointError(`${arch.name}: '${path}' has no Hugging Face name, so the adapter cannot be saved under HF names. Fix: save it with { keyNames: 'heed' }.`);
  return m.name;
}

/** HF parameter path → heed path (a CheckpointError naming the file when no rule covers it). */
export function hfPathToHeed(arch: HfArchitecture, path: string, source: string): string {
  const m = hfToHeed(arch.nameMap, path);
  if (m === null) throw new CheckpointError(`${source}: key '${path}' names no module of ${arch.name}: the adapter was made for another architecture. Fix: load it onto the base it was trained on.`);
  return m.name;
}

/** Whether HF path `path` is named by peft's module entry `entry` (equal, or ends with '.' + entry). */
function peftNames(path: string, entry: string): boolean {
  return path === entry || path.endsWith(`.${entry}`);
}

/** Whether `path` or a module above it is named by `entry` (modules_to_save 'pooler' covers bert.pooler.dense). */
function peftNamesWithin(path: string, entry: string): boolean {
  for (let end = path.length; end > 0; end = path.lastIndexOf('.', end - 1)) if (peftNames(path.slice(0, end), entry)) return true;
  return false;
}

/** The config's module lists in HF paths, for the adapter that `targets` (heed module names) and `saved` (heed parameter names of modulesToSave) make. */
export function hfModuleLists(arch: HfArchitecture, c: Required<PeftConfig>, targets: readonly string[], saved: readonly string[]): {
  targetModules: string[]; modulesToSave: string[]; rankPattern: Record<string, number>; alphaPattern: Record<string, number>;
} {
  const rankPattern: Record<string, number> = {}, alphaPattern: Record<string, number> = {};
  for (const t of targets) {
    const r = patternValue(c.rankPattern, t), a = patternValue(c.alphaPattern, t);
    if (r !== undefined) rankPattern[heedPathToHf(arch, t)] = r;
    if (a !== undefined) alphaPattern[heedPathToHf(arch, t)] = a;
  }
  // modulesToSave by parameter: heed's 'head' is HF's classifier (and BERT's pooler), so map each weight and drop its leaf.
  const modulesToSave = [...new Set(saved.map((p) => heedPathToHf(arch, p).replace(/\.[^.]+$/, '')))];
  return { targetModules: targets.map((t) => heedPathToHf(arch, t)), modulesToSave, rankPattern, alphaPattern };
}

/**
 * The PeftConfig lists in heed names, from a file's HF module lists: each entry becomes the heed
 * names of the modules it names. A target entry that names nothing is a CheckpointError; a
 * modules_to_save entry may name nothing (peft's SEQ_CLS default lists both 'classifier' and 'score').
 */
export function heedModuleLists(model: Module, arch: HfArchitecture, type: PeftType, f: {
  target_modules: string[]; modules_to_save: string[] | null; rank_pattern?: Record<string, number>; alpha_pattern?: Record<string, number>;
}, source: string): Pick<PeftConfig, 'targetModules' | 'modulesToSave' | 'rankPattern' | 'alphaPattern'> {
  const { accepts, what } = kindOf(type);
  const hfPathOf = (n: string) => heedToHf(arch.nameMap, n)?.name ?? null;
  const adaptable = model.namedModules().filter(([n, m]) => n !== '' && accepts(m)).map(([n]) => [n, hfPathOf(n)] as const).filter((e): e is readonly [string, string] => e[1] !== null);
  const named = (entry: string, among: readonly (readonly [string, string])[], match = peftNames) => among.filter(([, hf]) => match(hf, entry)).map(([n]) => n);
  const targetModules: string[] = [];
  for (const t of f.target_modules) {
    const hits = named(t, adaptable);
    if (hits.length === 0) throw new CheckpointError(`${source}: target module '${t}' names no ${what} module of ${arch.name} (its modules are named like ${adaptable.slice(0, 3).map(([, hf]) => hf).join(', ')}): the adapter was made for another base model. Fix: load it onto the base it was trained on.`);
    for (const h of hits) if (!targetModules.includes(h)) targetModules.push(h);
  }
  const withParams = model.namedModules().filter(([n, m]) => n !== '' && m.parameters().length > 0).map(([n]) => [n, hfPathOf(n)] as const).filter((e): e is readonly [string, string] => e[1] !== null);
  const modulesToSave = [...new Set((f.modules_to_save ?? []).flatMap((e) => named(e, withParams, peftNamesWithin)))];
  const byTarget = (p: Record<string, number> | undefined) => {
    const out: Record<string, number> = {};
    for (const [entry, v] of Object.entries(p ?? {})) for (const n of named(entry, adaptable.filter(([h]) => targetModules.includes(h)))) out[n] = v;
    return out;
  };
  return { targetModules, modulesToSave, rankPattern: byTarget(f.rank_pattern), alphaPattern: byTarget(f.alpha_pattern) };
}
