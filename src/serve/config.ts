/**
 * Server configuration: one interface, frozen defaults, and a checker that rejects unknown
 * keys and wrong types. `heed serve` flags map one-to-one onto these keys
 * (--max-batch-size → maxBatchSize).
 */
import { availableParallelism } from 'node:os';
import { basename, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { splitModelDirs } from '../tasks/common.js';

export interface ServeConfig {
  /** Interface to bind. Loopback by default: exposing the server is a deliberate choice. */
  host: string;
  /** TCP port; 0 picks a free one. */
  port: number;
  /** When true, no API key is asked for. Only from the explicit --insecure-no-auth flag. */
  insecureNoAuth: boolean;
  /** Maximum request body in bytes (Fastify bodyLimit → 413). */
  bodyLimit: number;
  /** Maximum characters of one input (its JSON text when it is not a string) → 422. */
  maxInputChars: number;
  /** Maximum inputs in one request → 413. */
  maxItems: number;
  /** Sustained requests per second allowed per API key (token bucket refill rate). */
  rateLimit: number;
  /** Bucket size: requests a key may burst above the sustained rate. */
  rateBurst: number;
  /** Inference worker threads. */
  workers: number;
  /**
   * Threads of the native kernel pool (HEED_NUM_THREADS in the workers). The pool is one per
   * process and shared: a worker that finds it busy runs its kernels on its own thread.
   */
  threadsPerWorker: number;
  /** Most inputs run in one forward pass. 1 disables batching. */
  maxBatchSize: number;
  /** Longest an input waits for others to fill a batch while a worker is idle. */
  maxBatchDelayMs: number;
  /** Most inputs waiting per model; beyond it requests get 503 + Retry-After. */
  maxQueue: number;
  /**
   * A request not answered within this gets 504; a forward pass running longer than this is
   * stopped by terminating its worker, which is replaced.
   */
  timeoutMs: number;
  /** Longest a client may take to send a whole request, headers and body (→ 408 and closed). */
  requestTimeoutMs: number;
  /** A socket with no traffic in either direction for this long is closed. Must exceed timeoutMs. */
  connectionTimeoutMs: number;
  /** An idle keep-alive socket is closed after this long without a new request. */
  keepAliveTimeoutMs: number;
  /** Most open client connections; more are refused at once. */
  maxConnections: number;
  /** Serve the attention-map page at /ui. */
  ui: boolean;
}

const CORES = Math.max(1, availableParallelism());

export const DEFAULT_SERVE_CONFIG: Readonly<ServeConfig> = Object.freeze({
  host: '127.0.0.1',
  port: 8080,
  insecureNoAuth: false,
  // 1 MiB: a batch of 64 words is a few hundred bytes; this only stops abuse.
  bodyLimit: 1 << 20,
  // Longer than any word or short mail subject; spam mails should be truncated by the client.
  maxInputChars: 10_000,
  maxItems: 64,
  rateLimit: 50,
  rateBurst: 100,
  // One worker per core but one, each on its own thread (pool of 1): the event loop (HTTP, JSON,
  // auth, metrics; ~0.1 ms of CPU per request) and V8's GC threads keep a core's worth, and fewer
  // workers make bigger batches. On 2 cores, 2 workers cost 1.4× the CPU per request of 1 at
  // concurrency 64 (batches of 16 instead of 30; bench/serve/load.ts, BENCHMARKS.md "Serving").
  workers: Math.max(1, CORES - 1),
  threadsPerWorker: 1,
  // A worker that frees up takes every compatible input queued, up to this: under light load a
  // batch is what arrived, under heavy load it grows. 64 rows decode ~10% cheaper per word than
  // 16 (g2p d 128) and, at ~0.25 ms of CPU per word, still finish in ~16 ms.
  maxBatchSize: 64,
  // A few ms of waiting buys batches under load and costs little latency when idle.
  maxBatchDelayMs: 5,
  maxQueue: 256,
  timeoutMs: 10_000,
  // A 1 MiB body at 100 KB/s; a client slower than that, or one that sends nothing, is cut off.
  requestTimeoutMs: 15_000,
  // Longer than timeoutMs: a socket waiting for a slow prediction is silent, not dead.
  connectionTimeoutMs: 60_000,
  // Node's default. Behind a load balancer, set it above the balancer's idle timeout.
  keepAliveTimeoutMs: 5_000,
  // Well under the default open-file limit (1024 per process on many systems, minus workers' files).
  maxConnections: 900,
  ui: true,
});

/** The type of each option, for the CLI's flag parser and the checker below. */
export const SERVE_OPTION_TYPES: Readonly<Record<keyof ServeConfig, 'string' | 'number' | 'boolean'>> = Object.freeze({
  host: 'string', port: 'number', insecureNoAuth: 'boolean', bodyLimit: 'number', maxInputChars: 'number',
  maxItems: 'number', rateLimit: 'number', rateBurst: 'number', workers: 'number', threadsPerWorker: 'number',
  maxBatchSize: 'number', maxBatchDelayMs: 'number', maxQueue: 'number', timeoutMs: 'number', requestTimeoutMs: 'number',
  connectionTimeoutMs: 'number', keepAliveTimeoutMs: 'number', maxConnections: 'number', ui: 'boolean',
});

/** Merges options over the defaults, rejecting unknown keys, wrong types and impossible values. */
export function resolveServeConfig(options: Partial<ServeConfig> = {}): ServeConfig {
  const valid = Object.keys(SERVE_OPTION_TYPES);
  for (const [key, value] of Object.entries(options)) {
    if (!Object.hasOwn(SERVE_OPTION_TYPES, key)) throw new ConfigError(`serve: unknown option '${key}'. Valid options: ${valid.join(', ')}.`);
    const want = SERVE_OPTION_TYPES[key as keyof ServeConfig];
    if (value !== undefined && typeof value !== want) {
      throw new ConfigError(`serve: option '${key}' must be a ${want}, received ${JSON.stringify(value)}.`);
    }
  }
  const cfg: ServeConfig = { ...DEFAULT_SERVE_CONFIG };
  for (const [key, value] of Object.entries(options)) if (value !== undefined) (cfg as unknown as Record<string, unknown>)[key] = value;
  const positive: (keyof ServeConfig)[] = ['bodyLimit', 'maxInputChars', 'maxItems', 'rateLimit', 'rateBurst', 'workers', 'threadsPerWorker', 'maxBatchSize', 'maxQueue', 'timeoutMs',
    'requestTimeoutMs', 'connectionTimeoutMs', 'keepAliveTimeoutMs', 'maxConnections'];
  for (const key of positive) {
    const v = cfg[key] as number;
    if (!(Number.isFinite(v) && v > 0)) throw new ConfigError(`serve: option '${key}' must be a positive number, received ${v}.`);
  }
  for (const key of ['requestTimeoutMs', 'connectionTimeoutMs', 'keepAliveTimeoutMs', 'maxConnections', 'workers', 'threadsPerWorker', 'maxBatchSize', 'maxItems', 'maxQueue'] as const) {
    if (!Number.isInteger(cfg[key])) throw new ConfigError(`serve: option '${key}' must be a whole number, received ${cfg[key]}.`);
  }
  if (!(cfg.maxBatchDelayMs >= 0)) throw new ConfigError(`serve: option 'maxBatchDelayMs' must be ≥ 0, received ${cfg.maxBatchDelayMs}.`);
  if (cfg.maxQueue < cfg.maxItems) throw new ConfigError(`serve: maxQueue (${cfg.maxQueue}) must be ≥ maxItems (${cfg.maxItems}), or a full request could never be queued.`);
  if (cfg.connectionTimeoutMs <= cfg.timeoutMs) {
    throw new ConfigError(`serve: connectionTimeoutMs (${cfg.connectionTimeoutMs}) must be > timeoutMs (${cfg.timeoutMs}), or a socket waiting for a slow prediction would be closed.`);
  }
  if (!Number.isInteger(cfg.port) || cfg.port < 0 || cfg.port > 65535) throw new ConfigError(`serve: option 'port' must be an integer in 0..65535, received ${cfg.port}.`);
  return cfg;
}

/** A served model: a name and its directory; a checkpoint ensemble also lists every member's (dir = the first). */
export interface ModelSpec { name: string; dir: string; members?: readonly string[] }

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Parses `dir`, `name=dir` or `name=dir1,dir2,...` (a checkpoint ensemble, which must be named)
 * arguments; the name defaults to the directory's basename.
 */
export function parseModelSpecs(args: readonly string[]): ModelSpec[] {
  const specs = args.map((arg): ModelSpec => {
    const eq = arg.indexOf('=');
    const path = eq > 0 ? arg.slice(eq + 1) : arg;
    const parts = splitModelDirs(path);
    if (parts.length > 1 && eq <= 0) throw new ConfigError(`serve: the checkpoint ensemble '${arg}' needs a name. Fix: name=${path}`);
    const members = parts.map((p) => resolve(p));
    const dir = members[0];
    const name = eq > 0 ? arg.slice(0, eq) : basename(dir);
    if (!NAME.test(name)) {
      throw new ConfigError(`serve: model name '${name}' (from '${arg}') must match ${NAME}; use name=dir to choose one.`);
    }
    return members.length > 1 ? { name, dir, members } : { name, dir };
  });
  const seen = new Set<string>();
  for (const s of specs) {
    if (seen.has(s.name)) throw new ConfigError(`serve: two models are named '${s.name}'; use name=dir to tell them apart.`);
    seen.add(s.name);
  }
  return specs;
}
