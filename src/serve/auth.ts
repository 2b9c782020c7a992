/**
 * API keys and per-key rate limits.
 *
 * Keys arrive as `Authorization: Bearer <key>`. The server keeps only their SHA-256 digests
 * and compares digests with crypto.timingSafeEqual (digests have equal length, so the
 * comparison time says nothing about the key). A key's identity in logs and rate limits is
 * the first 12 hex digits of its digest, never the key.
 *
 * Rate limiting is a token bucket per key: `burst` tokens, refilled at `rate` per second;
 * a request takes one token or is refused with the seconds until the next token.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export class KeyStore {
  private readonly digests: Buffer[];

  constructor(keys: readonly string[]) {
    const clean = keys.map((k) => k.trim()).filter((k) => k.length > 0);
    for (const k of clean) {
      if (k.length < 16) throw new ConfigError(`serve: API keys must be at least 16 characters; one has ${k.length}. Fix: generate one with \`openssl rand -hex 32\`.`);
    }
    this.digests = clean.map(sha256);
  }

  get size(): number {
    return this.digests.length;
  }

  /** The key's id (digest prefix) when it is valid, else null. Checks every stored digest. */
  verify(key: string): string | null {
    const d = sha256(key);
    let match: Buffer | null = null;
    for (const stored of this.digests) if (timingSafeEqual(stored, d)) match = stored;
    return match === null ? null : match.toString('hex').slice(0, 12);
  }
}

/** API keys from HEED_API_KEYS (comma-separated) and/or a file with one key per line ('#' comments). */
export function loadApiKeys(env: NodeJS.ProcessEnv, keyFile?: string): string[] {
  const keys = (env.HEED_API_KEYS ?? '').split(',');
  if (keyFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(keyFile, 'utf8');
    } catch (e) {
      throw new ConfigError(`serve: cannot read --api-key-file ${keyFile}: ${(e as NodeJS.ErrnoException).code ?? 'error'}.`);
    }
    keys.push(...text.split('\n').filter((l) => !l.trim().startsWith('#')));
  }
  return keys.map((k) => k.trim()).filter((k) => k.length > 0);
}

/** The bearer token of an Authorization header, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m === null ? null : m[1];
}

export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly rate: number, private readonly burst: number, private readonly now: () => number = () => performance.now()) {}

  /** Takes a token for `id`: 0 when allowed, else the whole seconds to wait. */
  take(id: string): number {
    const t = this.now();
    const b = this.buckets.get(id) ?? { tokens: this.burst, at: t };
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.rate);
    b.at = t;
    this.buckets.set(id, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.rate));
  }
}
