/**
 * Reading a Hugging Face config.json into heed config keys, one typed key at a time, with
 * errors that name the file and the key. Used by the architecture files (bert.ts, gpt2.ts, vit.ts).
 */
import { ConfigError } from '../../errors.js';
import { preview } from '../json.js';

/** A parsed config.json (an own-keys object). */
export type HfConfig = Record<string, unknown>;

/** Reads typed keys of one config.json; `source` (its path) prefixes every error. */
export class HfConfigReader {
  constructor(readonly config: HfConfig, readonly source: string) {}

  private fail(key: string, v: unknown, expected: string): never {
    throw new ConfigError(`${this.source}: key '${key}' is ${preview(v, 60)}, expected ${expected}. Fix: correct config.json (it must describe the weights beside it).`);
  }

  has(key: string): boolean {
    return Object.hasOwn(this.config, key) && this.config[key] !== null && this.config[key] !== undefined;
  }

  /** A positive integer (sizes, counts); `dflt` when absent (undefined = required). */
  int(key: string, dflt?: number): number {
    if (!this.has(key)) {
      if (dflt === undefined) throw new ConfigError(`${this.source}: required key '${key}' is missing. Fix: add it (it is a size of the model the weights were saved from).`);
      return dflt;
    }
    const v = this.config[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) this.fail(key, v, 'a non-negative integer');
    return v as number;
  }

  /** A finite number ≥ 0 (probabilities, eps). */
  num(key: string, dflt: number): number {
    if (!this.has(key)) return dflt;
    const v = this.config[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) this.fail(key, v, 'a finite number ≥ 0');
    return v as number;
  }

  bool(key: string, dflt: boolean): boolean {
    if (!this.has(key)) return dflt;
    const v = this.config[key];
    if (typeof v !== 'boolean') this.fail(key, v, 'true or false');
    return v as boolean;
  }

  /** One of `allowed` (mapped through it to heed's value). */
  choice<T>(key: string, allowed: Readonly<Record<string, T>>, dflt: string): T {
    const v = this.has(key) ? this.config[key] : dflt;
    if (typeof v !== 'string' || !Object.hasOwn(allowed, v)) {
      throw new ConfigError(`${this.source}: key '${key}' is ${preview(v, 60)}; heed supports ${Object.keys(allowed).map((s) => `'${s}'`).join(', ')}. Fix: use a supported value, or this checkpoint needs a feature heed lacks.`);
    }
    return allowed[v];
  }

  /** Throws unless `key` is absent or equals `value` (a feature heed does not implement). */
  requireValue(key: string, value: unknown, why: string): void {
    if (this.has(key) && this.config[key] !== value) {
      throw new ConfigError(`${this.source}: key '${key}' is ${preview(this.config[key], 60)}; heed supports only ${JSON.stringify(value)} (${why}).`);
    }
  }

  /** The number of labels: id2label's size, else num_labels, else 2 (HF's default). */
  numLabels(): number {
    const m = this.config.id2label;
    if (m !== null && typeof m === 'object' && !Array.isArray(m)) {
      const n = Object.keys(m).length;
      if (n > 0) return n;
    }
    return this.int('num_labels', 2) || 2;
  }
}

/** HF activation names → heed's (GELU exact vs the tanh approximation GPT-2 calls gelu_new). */
export const HF_ACTIVATIONS = Object.freeze({
  gelu: 'gelu',
  gelu_new: 'gelu_tanh',
  gelu_pytorch_tanh: 'gelu_tanh',
  gelu_fast: 'gelu_tanh',
  relu: 'relu',
} as const);

/** heed activation → the HF name savePretrained writes. */
export const HEED_TO_HF_ACTIVATION: Readonly<Record<string, string>> = Object.freeze({ gelu: 'gelu', gelu_tanh: 'gelu_new', relu: 'relu' });

/** id2label / label2id for n labels, kept from the source config when it had them. */
export function labelMaps(n: number, extras: HfConfig): { id2label: Record<string, string>; label2id: Record<string, number> } {
  const given = extras.id2label;
  const id2label: Record<string, string> = {};
  for (let i = 0; i < n; i++) {
    const v = given !== null && typeof given === 'object' ? (given as Record<string, unknown>)[String(i)] : undefined;
    id2label[String(i)] = typeof v === 'string' ? v : `LABEL_${i}`;
  }
  const label2id: Record<string, number> = {};
  for (const [k, v] of Object.entries(id2label)) label2id[v] = Number(k);
  return { id2label, label2id };
}
