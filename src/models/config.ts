/**
 * Config validation shared by the models: fills defaults, and rejects unknown keys
 * and wrong types with the list of valid keys (so a typo in config.json or a CLI
 * flag fails loudly instead of silently training the default).
 */
import { ConfigError } from '../errors.js';
import { preview, quoteName } from '../io/json.js';

/** Types of every key: 'number' | 'boolean' | 'string' | a list of allowed strings. */
export type ConfigSchema<C> = { [K in keyof C]-?: 'number' | 'boolean' | 'string' | readonly string[] };

export function resolveConfig<C extends object>(model: string, schema: ConfigSchema<C>, defaults: Partial<C>, user: Partial<C> | Record<string, unknown>): C {
  const valid = Object.keys(schema);
  for (const [k, v] of Object.entries(user)) {
    if (!Object.hasOwn(schema, k)) { // own keys only: 'constructor' or '__proto__' in a config file is unknown
      throw new ConfigError(`${model}: unknown config key ${quoteName(k)}. Valid keys: ${valid.join(', ')}.`);
    }
    const t = schema[k as keyof C];
    if (v === undefined) continue;
    const ok = Array.isArray(t) ? t.includes(v as string) : typeof v === t && (t !== 'number' || Number.isFinite(v));
    if (!ok) {
      throw new ConfigError(`${model}: config key '${k}' is ${preview(v)}, expected ${Array.isArray(t) ? `one of ${t.map((s) => `'${s}'`).join(', ')}` : `a ${String(t)}`}.`);
    }
  }
  const out = { ...defaults } as Record<string, unknown>;
  for (const [k, v] of Object.entries(user)) if (v !== undefined) out[k] = v;
  const missing = valid.filter((k) => out[k] === undefined);
  if (missing.length > 0) throw new ConfigError(`${model}: config is missing required key(s) ${missing.join(', ')}.`);
  return out as C;
}

/** Throws a ConfigError unless every listed key is a positive integer. */
export function requirePositiveInts<C extends object>(model: string, cfg: C, keys: (keyof C)[]): void {
  for (const k of keys) {
    const v = cfg[k] as unknown as number;
    if (!Number.isInteger(v) || v <= 0) throw new ConfigError(`${model}: config key '${String(k)}' is ${v}, expected a positive integer.`);
  }
}
