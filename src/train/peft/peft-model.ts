/**
 * getPeftModel: parameter-efficient fine-tuning of a heed model (HF peft's get_peft_model). The
 * base model's weights are frozen; small adapters are put into it and only they (plus the
 * `modulesToSave`, e.g. a new classification head) train.
 *
 *   const peft = getPeftModel(model, { peftType: 'LORA', r: 8, loraAlpha: 16, targetModules: ['qProj', 'vProj'], modulesToSave: ['head'] });
 *   peft.trainableShare()        // { trainable: 9_474, total: 1_170_000, share: 0.0081 }
 *   ... train model as usual: the optimizer sees only the adapter parameters ...
 *   await savePeftAdapter('runs/lora', peft);    // adapter_config.json + adapter_model.safetensors
 *   const merged = peft.mergeAndUnload();       // LoRA only: a plain model at the base's speed
 *
 * Methods (peftType):
 * - 'LORA' (lora.ts, lora-embedding.ts): targets are Linear or Embedding modules, replaced by
 *   LoraLinear / LoraEmbedding wrappers; rankPattern and alphaPattern set r and alpha per module
 *   (peft's rank_pattern / alpha_pattern), e.g. a rank-1 update of the word table beside rank-8 Linears;
 * - 'BOTTLENECK' (bottleneck.ts): Houlsby adapters attached after the targets (Linear modules);
 * - 'PREFIX_TUNING' (prefix.ts): targets are MultiheadAttention modules, replaced by PrefixAttention.
 *
 * Targets are globs over module names ('*' any run of characters, '?' one character). As in peft,
 * a glob may name the whole dotted path or its end after a dot: 'qProj' matches
 * 'backbone.encoder.layers.0.selfAttn.qProj'. A glob that matches no module of the right kind
 * is a ConfigError that lists the modules it could have named.
 *
 * The model is changed in place (as peft's injection); every wrapper keeps the base's dotted
 * parameter names, so model.stateDict() still holds the base keys and unload() gives the base back.
 */
import { Module, ModuleList, toRegExp } from '../../nn/module.js';
import { Linear } from '../../nn/linear.js';
import { MultiheadAttention } from '../../nn/attention/multihead.js';
import type { Tensor } from '../../tensor/tensor.js';
import { LoraLinear } from './lora.js';
import { LoraEmbedding } from './lora-embedding.js';
import { Embedding } from '../../nn/embedding.js';
import { attachBottleneck, detachBottleneck, outputSize } from './bottleneck.js';
import { PrefixAttention } from './prefix.js';
import { CheckpointError, ConfigError, ValueError, fmtShape } from '../../errors.js';
import { sameShape } from '../../tensor/shape.js';
import { markWeightsChanged } from '../../nn/weights-version.js';

export const PEFT_TYPES = Object.freeze(['LORA', 'BOTTLENECK', 'PREFIX_TUNING'] as const);
export type PeftType = (typeof PEFT_TYPES)[number];

export interface PeftConfig {
  peftType: PeftType;
  /** Module-name globs to adapt. */
  targetModules: string[];
  /** Module-name globs trained in full and saved with the adapter (a new task head). */
  modulesToSave?: string[];
  /** LoRA rank. */
  r?: number;
  /** LoRA scaling numerator: the update is scaled by loraAlpha / r. */
  loraAlpha?: number;
  loraDropout?: number;
  /** LoRA: a rank per module-name glob, over r (peft's rank_pattern); the first matching glob wins. */
  rankPattern?: Record<string, number>;
  /** LoRA: an alpha per module-name glob, over loraAlpha (peft's alpha_pattern). */
  alphaPattern?: Record<string, number>;
  /** Bottleneck width of each adapter. */
  adapterSize?: number;
  /** Prefix length (peft's num_virtual_tokens). */
  numVirtualTokens?: number;
}

/** Defaults of each method's options, from the papers (and peft's defaults). */
export const PEFT_DEFAULTS = Object.freeze({
  r: 8, // peft's default rank
  loraAlpha: 16, // scaling 2, the common r = 8, α = 16 pairing
  loraDropout: 0.05,
  adapterSize: 16, // Houlsby et al. found 8–64 enough on GLUE
  numVirtualTokens: 10, // Li & Liang used 10 for table-to-text
});

/** Whether a module name matches a target glob: the whole name, or its end after a dot. */
export function matchesTarget(name: string, glob: string): boolean {
  const re = toRegExp(glob);
  if (re.test(name)) return true;
  for (let i = name.indexOf('.'); i >= 0; i = name.indexOf('.', i + 1)) if (re.test(name.slice(i + 1))) return true;
  return false;
}

/** What kind of module a method adapts, for the error that lists candidates. */
export function kindOf(type: PeftType): { what: string; accepts: (m: Module) => boolean } {
  switch (type) {
    case 'LORA':
      return { what: 'Linear or Embedding', accepts: (m) => m instanceof Linear || m instanceof Embedding };
    case 'BOTTLENECK':
      return { what: 'Linear (a module with outFeatures)', accepts: (m) => outputSize(m) !== null && !(m instanceof LoraLinear) };
    case 'PREFIX_TUNING':
      return { what: 'MultiheadAttention', accepts: (m) => m.constructor === MultiheadAttention };
  }
}

/** The modules each target glob names (only those of the kind the method adapts); a ConfigError for a glob that names none. */
export function resolveTargets(model: Module, type: PeftType, globs: readonly string[], option = 'targetModules'): string[] {
  if (!Array.isArray(globs) || globs.length === 0 || globs.some((g) => typeof g !== 'string' || g === '')) {
    throw new ConfigError(`getPeftModel: ${option} must be a non-empty list of module-name globs, received ${JSON.stringify(globs)}.`);
  }
  const { what, accepts } = kindOf(type);
  const candidates = model.namedModules().filter(([n, m]) => n !== '' && accepts(m)).map(([n]) => n);
  const out = new Set<string>();
  for (const g of globs) {
    const hits = candidates.filter((n) => matchesTarget(n, g));
    if (hits.length === 0) {
      const others = model.namedModules().filter(([n]) => n !== '' && matchesTarget(n, g)).map(([n, m]) => `${n} (${m.constructor.name})`);
      const shown = candidates.slice(0, 6).join(', ') + (candidates.length > 6 ? `, … (${candidates.length} in all)` : '');
      throw new ConfigError(
        `getPeftModel: ${type} target '${g}' matches no ${what} module of ${model.constructor.name}` +
          (others.length > 0 ? ` (it names ${others.slice(0, 3).join(', ')}, which ${type} cannot adapt)` : '') +
          `. ${what} modules are named like: ${shown || '(none)'}. Fix: use one of those names, or a glob such as '*.${candidates[0]?.split('.').pop() ?? 'qProj'}'.`,
      );
    }
    for (const h of hits) out.add(h);
  }
  return [...out];
}

/** Puts module m at dotted path `name` of root (a field, or an index of a ModuleList). */
export function replaceModule(root: Module, name: string, m: Module): void {
  const cut = name.lastIndexOf('.');
  const parentName = cut < 0 ? '' : name.slice(0, cut);
  const field = name.slice(cut + 1);
  const parent = root.namedModules().find(([n]) => n === parentName)?.[1];
  if (parent === undefined) throw new ValueError(`replaceModule: no module '${parentName}' in ${root.constructor.name}.`);
  if (parent instanceof ModuleList && /^\d+$/.test(field)) parent.set(Number(field), m);
  else (parent as unknown as Record<string, unknown>)[field] = m;
}

function positiveInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new ConfigError(`getPeftModel: ${name}=${String(v)}, expected a positive integer.`);
  return v;
}

/** The value of the first glob in `pattern` that names module `name` (peft's rank_pattern rule), or undefined. */
export function patternValue(pattern: Readonly<Record<string, number>>, name: string): number | undefined {
  for (const [g, v] of Object.entries(pattern)) if (matchesTarget(name, g)) return v;
  return undefined;
}

/** Fills a config's defaults and checks its values. */
export function resolvePeftConfig(c: PeftConfig): Required<PeftConfig> {
  if (!PEFT_TYPES.includes(c.peftType)) throw new ConfigError(`getPeftModel: peftType '${String(c.peftType)}', expected one of ${PEFT_TYPES.join(', ')}.`);
  const r: Required<PeftConfig> = {
    peftType: c.peftType, targetModules: c.targetModules, modulesToSave: c.modulesToSave ?? [],
    r: c.r ?? PEFT_DEFAULTS.r, loraAlpha: c.loraAlpha ?? PEFT_DEFAULTS.loraAlpha, loraDropout: c.loraDropout ?? PEFT_DEFAULTS.loraDropout,
    adapterSize: c.adapterSize ?? PEFT_DEFAULTS.adapterSize, numVirtualTokens: c.numVirtualTokens ?? PEFT_DEFAULTS.numVirtualTokens,
    rankPattern: c.rankPattern ?? {}, alphaPattern: c.alphaPattern ?? {},
  };
  for (const [g, v] of Object.entries(r.rankPattern)) positiveInt(`rankPattern['${g}']`, v);
  for (const [g, v] of Object.entries(r.alphaPattern)) if (!(typeof v === 'number' && v > 0)) throw new ConfigError(`getPeftModel: alphaPattern['${g}']=${String(v)}, expected a positive number.`);
  positiveInt('r', r.r);
  positiveInt('adapterSize', r.adapterSize);
  positiveInt('numVirtualTokens', r.numVirtualTokens);
  if (!(r.loraAlpha > 0)) throw new ConfigError(`getPeftModel: loraAlpha=${r.loraAlpha}, expected a positive number.`);
  if (!(r.loraDropout >= 0 && r.loraDropout < 1)) throw new ConfigError(`getPeftModel: loraDropout=${r.loraDropout}, expected a probability in [0, 1).`);
  return r;
}

/**
 * A model with adapters in it: the handle getPeftModel returns. It satisfies the Trainer's model
 * interface; its stateDict() is the adapter's weights only (adapters + modulesToSave), so run
 * checkpoints of a PEFT run hold no copy of the frozen base.
 */
export class PeftModel {
  readonly config: Readonly<Required<PeftConfig>>;
  /** Names of the adapted modules. */
  readonly targets: readonly string[];
  /** Names of the parameters the adapter owns (adapter weights and modulesToSave), in model order. */
  private readonly owned: Set<string>;
  /** Names of the base's parameters that train in full and are saved with the adapter (modulesToSave). */
  readonly savedNames: readonly string[];

  constructor(readonly model: Module, config: PeftConfig) {
    const c = resolvePeftConfig(config);
    this.config = Object.freeze(c);
    const targets = resolveTargets(model, c.peftType, c.targetModules);
    const saveModules = c.modulesToSave.length > 0 ? resolveSaveModules(model, c.modulesToSave) : [];
    const before = new Set(model.parameters());
    model.freeze('*');
    const byName = new Map(model.namedModules());
    for (const name of targets) {
      const m = byName.get(name)!;
      if (c.peftType === 'LORA') {
        const r = patternValue(c.rankPattern, name) ?? c.r, alpha = patternValue(c.alphaPattern, name) ?? c.loraAlpha;
        replaceModule(model, name, m instanceof Embedding ? new LoraEmbedding(m, { r, alpha }) : new LoraLinear(m as Linear, { r, alpha, dropout: c.loraDropout }));
      }
      else if (c.peftType === 'BOTTLENECK') attachBottleneck(m, c.adapterSize, name);
      else replaceModule(model, name, new PrefixAttention(m as MultiheadAttention, c.numVirtualTokens));
    }
    const saved = (n: string) => saveModules.some((m) => n === m || n.startsWith(`${m}.`));
    for (const [n, p] of model.namedParameters()) if (saved(n)) p.requiresGrad = true;
    this.targets = Object.freeze(targets);
    this.owned = new Set(model.namedParameters().filter(([n, p]) => !before.has(p) || saved(n)).map(([n]) => n));
    this.savedNames = Object.freeze(model.namedParameters().filter(([n, p]) => before.has(p) && saved(n)).map(([n]) => n));
    model.train(model.training);
  }

  /** Every parameter of the model (frozen ones included), as nn.Module.namedParameters. */
  namedParameters(): [string, Tensor][] {
    return this.model.namedParameters();
  }

  /** Whether parameter `name` belongs to the adapter (an adapter weight or a modulesToSave weight). */
  ownsParameter(name: string): boolean {
    return this.owned.has(name);
  }

  /** The adapter's weights by heed dotted name (adapters + modulesToSave), sharing storage. */
  stateDict(): Record<string, Tensor> {
    const sd: Record<string, Tensor> = {};
    for (const [n, p] of this.model.namedParameters()) if (this.owned.has(n)) sd[n] = p;
    return sd;
  }

  /**
   * Copies adapter weights (heed names) into the model. Shapes must match; with strict (default)
   * a missing or unexpected adapter key is a CheckpointError. The base's weights are never touched.
   */
  loadStateDict(sd: Record<string, Tensor>, options: { strict?: boolean } = {}): { missingKeys: string[]; unexpectedKeys: string[] } {
    const own = this.stateDict();
    const given = new Map(Object.entries(sd));
    const missingKeys = Object.keys(own).filter((k) => !given.has(k));
    const unexpectedKeys = [...given.keys()].filter((k) => !Object.hasOwn(own, k));
    for (const [k, t] of Object.entries(own)) {
      const src = given.get(k);
      if (src !== undefined && !sameShape(src.shape, t.shape)) {
        throw new CheckpointError(`adapter weight '${k}' has shape ${fmtShape(src.shape)}, but the model's is ${fmtShape(t.shape)}: the adapter was made for another base model or another ${this.config.peftType} config. Fix: load it onto the base it was trained on.`);
      }
    }
    if ((options.strict ?? true) && (missingKeys.length > 0 || unexpectedKeys.length > 0)) {
      throw new CheckpointError(`adapter weights do not match this ${this.config.peftType} model of ${this.model.constructor.name}: missing ${JSON.stringify(missingKeys.slice(0, 5))}${missingKeys.length > 5 ? '…' : ''}, unexpected ${JSON.stringify(unexpectedKeys.slice(0, 5))}${unexpectedKeys.length > 5 ? '…' : ''}. Fix: load the adapter with the adapter_config.json it was saved with, onto the base it was trained on.`);
    }
    for (const [k, t] of Object.entries(own)) {
      const src = given.get(k);
      if (src !== undefined && src !== t) t.data.set(src.data as ArrayLike<number>);
    }
    markWeightsChanged();
    return { missingKeys, unexpectedKeys };
  }

  train(mode = true): this {
    this.model.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Trainable parameter elements, all elements, and the trainable share (peft's print_trainable_parameters). */
  trainableShare(): { trainable: number; total: number; share: number } {
    const trainable = this.model.numParameters({ trainableOnly: true });
    const total = this.model.numParameters();
    return { trainable, total, share: trainable / total };
  }

  /** The LoRA wrappers by module name. */
  loraModules(): [string, LoraLinear | LoraEmbedding][] {
    return this.model.namedModules().filter((e): e is [string, LoraLinear | LoraEmbedding] => e[1] instanceof LoraLinear || e[1] instanceof LoraEmbedding);
  }

  /**
   * LoRA only: folds every update into its base weight (W += scaling·B·A), puts plain Linear
   * layers back and returns the model, which then computes at the base model's speed and saves as
   * an ordinary checkpoint. The base weights are changed: this handle is spent afterwards.
   */
  mergeAndUnload(): Module {
    if (this.config.peftType !== 'LORA') {
      throw new ValueError(`mergeAndUnload: ${this.config.peftType} adapters cannot be merged into the base weights (they are not a linear update of a weight). Fix: keep the adapted model as it is, or use unload() to drop the adapters.`);
    }
    for (const [name, m] of this.loraModules()) {
      if (!m.merged) m.merge();
      replaceModule(this.model, name, m instanceof LoraEmbedding ? m.toEmbedding() : m.toLinear());
    }
    this.model.unfreeze('*');
    return this.model;
  }

  /** Removes every adapter without merging: the base model as it was (its weights untouched). */
  unload(): Module {
    for (const [name, m] of this.model.namedModules()) {
      if (m instanceof LoraLinear || m instanceof LoraEmbedding) {
        if (m.merged) m.unmerge();
        replaceModule(this.model, name, m instanceof LoraEmbedding ? m.toEmbedding() : m.toLinear());
      } else if (m instanceof PrefixAttention) {
        replaceModule(this.model, name, m.toAttention());
      } else if (this.config.peftType === 'BOTTLENECK' && this.targets.includes(name)) {
        detachBottleneck(m);
      }
    }
    this.model.unfreeze('*');
    return this.model;
  }
}

/**
 * Module (or parameter) names for modulesToSave globs; a ConfigError for a glob that names none.
 * A parameter name is accepted too (heed's EncoderClassifier holds its CLS vector directly).
 */
function resolveSaveModules(model: Module, globs: readonly string[]): string[] {
  const withParams = [...model.namedModules().filter(([n, m]) => n !== '' && m.parameters().length > 0).map(([n]) => n), ...model.namedParameters().map(([n]) => n)];
  const out: string[] = [];
  for (const g of globs) {
    const hits = withParams.filter((n) => matchesTarget(n, g));
    if (hits.length === 0) throw new ConfigError(`getPeftModel: modulesToSave '${g}' matches no module with parameters. Modules are named like: ${withParams.slice(0, 6).join(', ')}.`);
    for (const h of hits) if (!out.some((o) => h === o || h.startsWith(`${o}.`))) out.push(h);
  }
  return out;
}

/** Freezes the model's weights and puts the configured adapters into it (in place). */
export function getPeftModel(model: Module, config: PeftConfig): PeftModel {
  return new PeftModel(model, config);
}
