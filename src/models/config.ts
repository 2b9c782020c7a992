/**
 * Model configs: one declaration per architecture (its schema, frozen defaults, the keys
 * that must be positive integers, cross-key rules and the key renames of earlier versions),
 * and the one code path that validates a config, fills its defaults and migrates a saved one.
 *
 *   export const VIT_CONFIG = defineModelConfig<ViTConfig, 'numClasses'>({ model: 'ViT', schema, defaults, positiveInts });
 *   class ViT extends ConfiguredModel<ViTConfig> {
 *     constructor(config: ModelInit<ViTConfig, 'numClasses'>) { super(VIT_CONFIG, config); ... }
 *     static fromConfig(saved: Record<string, unknown>): ViT { return new ViT(VIT_CONFIG.load(saved)); }
 *   }
 *
 * Unknown keys and wrong types are ConfigErrors that list the valid keys, so a typo in
 * config.json or a CLI flag fails loudly instead of silently training the default.
 * Renamed keys: `new GPT({ nEmbd: 64 })` is rejected with the new name; `GPT.fromConfig`
 * (the checkpoint path) migrates the old name, so checkpoints written before a rename load.
 */
import { Module } from '../nn/module.js';
import { ConfigError } from '../errors.js';
import { preview, quoteName } from '../io/json.js';

/** Types of every key: 'number' | 'boolean' | 'string' | a list of allowed strings. */
export type ConfigSchema<C> = { [K in keyof C]-?: 'number' | 'boolean' | 'string' | readonly string[] };

/** What a constructor accepts: the required keys R, and any other key of C. */
export type ModelInit<C, R extends keyof C> = Partial<C> & Pick<C, R>;

/** How long a config value may be quoted in an error (a config.json may hold anything). */
const MAX_QUOTE = 60;

/** Bounded and safe for any value (JSON.stringify overflows the stack on 10k nested arrays). */
function quote(v: unknown): string {
  return preview(v, MAX_QUOTE);
}

/**
 * Validates `user` against `schema` and fills the rest from `defaults`.
 * Throws a ConfigError on an unknown key (listing the valid ones), a wrong type, or a
 * key that is still missing after the defaults. Also used by the task configs.
 */
export function resolveConfig<C extends object>(model: string, schema: ConfigSchema<C>, defaults: Partial<C>, user: Partial<C> | Record<string, unknown>,
  renamed: Readonly<Record<string, string>> = {}): C {
  const valid = Object.keys(schema);
  if (user === null || typeof user !== 'object' || Array.isArray(user)) {
    throw new ConfigError(`${model}: the config is ${quote(user)}, expected an object with keys ${valid.join(', ')}.`);
  }
  for (const [k, v] of Object.entries(user)) {
    if (!Object.hasOwn(schema, k)) {
      const hint = Object.hasOwn(renamed, k) ? ` It was renamed to '${renamed[k]}'.` : '';
      throw new ConfigError(`${model}: unknown config key ${quoteName(k, MAX_QUOTE)}.${hint} Valid keys: ${valid.join(', ')}.`);
    }
    const t = schema[k as keyof C];
    if (v === undefined) continue;
    const ok = Array.isArray(t) ? t.includes(v as string) : typeof v === t && (t !== 'number' || Number.isFinite(v));
    if (!ok) {
      throw new ConfigError(`${model}: config key '${k}' is ${quote(v)}, expected ${Array.isArray(t) ? `one of ${t.map((s) => `'${s}'`).join(', ')}` : `a ${String(t)}`}.`);
    }
  }
  const out = { ...defaults } as Record<string, unknown>;
  for (const [k, v] of Object.entries(user)) if (v !== undefined) out[k] = v;
  const missing = valid.filter((k) => out[k] === undefined);
  if (missing.length > 0) throw new ConfigError(`${model}: config is missing required key(s) ${missing.join(', ')}.`);
  return out as C;
}

/** Throws a ConfigError unless every listed key is a positive integer. */
export function requirePositiveInts<C extends object>(model: string, cfg: C, keys: readonly (keyof C)[]): void {
  for (const k of keys) {
    const v = cfg[k] as unknown as number;
    if (!Number.isInteger(v) || v <= 0) throw new ConfigError(`${model}: config key '${String(k)}' is ${quote(v)}, expected a positive integer.`);
  }
}

/** The declaration of one architecture's config. */
export interface ModelConfigSpec<C extends object, R extends keyof C> {
  /** The class name, the prefix of every error. */
  model: string;
  schema: ConfigSchema<C>;
  /** Every key but the required ones R; frozen, each with a comment saying why. */
  defaults: Readonly<Omit<C, R>>;
  /** Keys that must be positive integers (sizes, counts). */
  positiveInts: readonly (keyof C)[];
  /** Keys renamed since a checkpoint may have been written: old name → new name. */
  renamed?: Readonly<Record<string, keyof C & string>>;
  /** Rules across keys (divisibility, equal vocabularies); throws a ConfigError. */
  check?: (c: Readonly<C>) => void;
}

/** A declared config: resolve() for constructors, load() for saved configs. */
export interface ModelConfig<C extends object, R extends keyof C> {
  readonly model: string;
  readonly schema: ConfigSchema<C>;
  readonly defaults: Readonly<Omit<C, R>>;
  /** The validated, complete, frozen config for `user` (old key names rejected, naming the new one). */
  resolve(user: ModelInit<C, R> | Record<string, unknown>): Readonly<C>;
  /** A saved config (config.json) with old key names moved to the new ones, validated and complete. */
  load(saved: Record<string, unknown>): C;
  /** Only the renames: old key names → new ones. A config holding both names of one key is a ConfigError. */
  migrate(saved: Record<string, unknown>): Record<string, unknown>;
}

export function defineModelConfig<C extends object, R extends keyof C>(spec: ModelConfigSpec<C, R>): ModelConfig<C, R> {
  const renamed: Readonly<Record<string, string>> = Object.freeze({ ...(spec.renamed ?? {}) });
  const migrate = (saved: Record<string, unknown>): Record<string, unknown> => {
    if (saved === null || typeof saved !== 'object' || Array.isArray(saved)) return saved;
    // no prototype: a key named __proto__ in config.json stays an own (and so rejected) key
    const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const [k, v] of Object.entries(saved)) {
      const to = Object.hasOwn(renamed, k) ? renamed[k] : k;
      if (to !== k && Object.hasOwn(saved, to)) {
        throw new ConfigError(`${spec.model}: the config holds both '${k}' and its new name '${to}'. Fix: keep only '${to}'.`);
      }
      out[to] = v;
    }
    return out;
  };
  const resolve = (user: ModelInit<C, R> | Record<string, unknown>): Readonly<C> => {
    const c = resolveConfig<C>(spec.model, spec.schema, spec.defaults as Partial<C>, user, renamed);
    requirePositiveInts(spec.model, c, spec.positiveInts);
    spec.check?.(c);
    return Object.freeze(c);
  };
  return Object.freeze({
    model: spec.model, schema: spec.schema, defaults: spec.defaults,
    resolve, migrate,
    load: (saved: Record<string, unknown>): C => ({ ...resolve(migrate(saved)) }),
  });
}

/**
 * A Module built from a declared config: holds the resolved, frozen `config` and gives
 * toConfig() (the JSON that fromConfig rebuilds the model from, saved as config.json).
 */
export class ConfiguredModel<C extends object> extends Module {
  readonly config: Readonly<C>;

  constructor(declared: { resolve(user: Record<string, unknown>): Readonly<C> }, user: Partial<C> | Record<string, unknown>) {
    super();
    this.config = declared.resolve(user as Record<string, unknown>);
  }

  /** The full config, for config.json. */
  toConfig(): C {
    return { ...this.config };
  }
}
