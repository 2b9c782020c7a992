/**
 * Command-line flags → config keys.
 *
 * Every config key `camelCase` is the flag `--kebab-case` (`dModel` ↔ `--d-model`); the camelCase
 * spelling `--dModel` is accepted too. Values are typed by the task's schema:
 *   number   --lr 0.001          boolean  --flag, --flag true|false, --no-flag
 *   string   --name value        enum     --schedule cosine  (one of the listed values)
 * `--key=value` works as well. Unknown flags and wrong types are ConfigErrors listing the valid keys.
 */
import { ConfigError } from '../errors.js';
import type { ConfigSchema } from '../models/config.js';
import { splitModelDirs } from '../tasks/common.js';

export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

export function camel(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export interface ParsedArgs {
  positional: string[];
  /** Values for config keys, typed by the schema. */
  config: Record<string, unknown>;
  /** Values of the command's own flags (out, overwrite, resume, config, ...), keyed camelCase. */
  flags: Record<string, string | boolean>;
}

/**
 * Parses argv. `commandFlags` lists the command's own flags (camelCase) and whether they take a
 * value; everything else starting with -- must be a schema key.
 */
export function parseArgs(argv: readonly string[], schema: ConfigSchema<Record<string, unknown>> | null, commandFlags: Record<string, 'boolean' | 'string'>, what: string): ParsedArgs {
  const out: ParsedArgs = { positional: [], config: {}, flags: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--') || a === '--') {
      if (a === '--') {
        out.positional.push(...argv.slice(i + 1));
        break;
      }
      out.positional.push(a);
      continue;
    }
    let name = a.slice(2);
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    let key = camel(name);
    let negated = false;
    if (!Object.hasOwn(commandFlags, key) && !(schema && Object.hasOwn(schema, key)) && key.startsWith('no') && name.startsWith('no-')) {
      key = camel(name.slice(3));
      negated = true;
    }
    const takeValue = (): string => {
      if (value !== undefined) return value;
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && !/^--?\d/.test(next))) {
        throw new ConfigError(`${what}: flag --${name} needs a value. Fix: --${name} <value>.`);
      }
      i++;
      return next;
    };
    if (Object.hasOwn(commandFlags, key)) {
      if (commandFlags[key] === 'boolean') {
        out.flags[key] = negated ? false : value === undefined ? true : parseBool(value, name, what);
      } else {
        out.flags[key] = takeValue();
      }
      continue;
    }
    if (schema === null || !Object.hasOwn(schema, key)) {
      const keys = schema ? Object.keys(schema).map((k) => `--${kebab(k)}`) : [];
      const own = Object.keys(commandFlags).map((k) => `--${kebab(k)}`);
      throw new ConfigError(`${what}: unknown flag --${name}. Valid flags: ${[...own, ...keys].join(', ')}.`);
    }
    const type = schema[key];
    if (type === 'boolean') {
      if (negated) out.config[key] = false;
      else if (value !== undefined) out.config[key] = parseBool(value, name, what);
      else if (argv[i + 1] === 'true' || argv[i + 1] === 'false') out.config[key] = argv[++i] === 'true';
      else out.config[key] = true;
      continue;
    }
    const raw = takeValue();
    out.config[key] = coerce(key, raw, type, what, `--${name}`);
  }
  return out;
}

function parseBool(v: string, name: string, what: string): boolean {
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new ConfigError(`${what}: flag --${name} is a boolean, received '${v}'. Fix: --${name}, --no-${name}, or --${name}=true|false.`);
}

/** Converts a string to the schema type of `key`. */
export function coerce(key: string, raw: string, type: 'number' | 'boolean' | 'string' | readonly string[], what: string, source: string): unknown {
  if (type === 'number') {
    const n = raw.trim() === '' ? NaN : Number(raw);
    if (!Number.isFinite(n)) throw new ConfigError(`${what}: ${source} (config key '${key}') must be a number, received '${raw}'.`);
    return n;
  }
  if (type === 'boolean') return parseBool(raw, kebab(key), what);
  if (Array.isArray(type) && !type.includes(raw)) {
    throw new ConfigError(`${what}: ${source} (config key '${key}') must be one of ${type.join(', ')}, received '${raw}'.`);
  }
  return raw;
}

/** 'runs/a' → 'runs/a'; 'runs/a,runs/b' → a checkpoint ensemble. */
export function modelDirsArg(arg: string): string | string[] {
  return arg.includes(',') ? splitModelDirs(arg) : arg;
}
