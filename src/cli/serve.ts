/**
 * `heed serve <model-dir>... [options]`: serve models over HTTP (see src/serve/server.ts).
 *
 * Flags map one-to-one onto ServeConfig keys (--max-batch-size → maxBatchSize); a boolean
 * key is a bare flag (--insecure-no-auth) and --no-<key> turns it off (--no-ui).
 * API keys come from HEED_API_KEYS (comma-separated) and/or --api-key-file; the admin key
 * for /v1/admin/reload from HEED_ADMIN_KEY. Keys are never accepted as flags, so they do not
 * end up in shell history or `ps`.
 *
 * Signals: SIGTERM/SIGINT drain and exit 0; SIGHUP reloads every model from its directory.
 */
import { SERVE_OPTION_TYPES, parseModelSpecs, type ServeConfig } from '../serve/config.js';
import { loadApiKeys } from '../serve/auth.js';
import { createServer, type HeedServer } from '../serve/server.js';
import { ConfigError } from '../errors.js';

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

export interface ParsedServeArgs {
  positional: string[];
  config: Partial<ServeConfig>;
  apiKeyFile?: string;
  logLevel: string;
}

/** Parses flags against ServeConfig's keys (plus --api-key-file and --log-level). */
export function parseServeArgs(args: readonly string[]): ParsedServeArgs {
  const out: ParsedServeArgs = { positional: [], config: {}, logLevel: 'info' };
  const valid = [...Object.keys(SERVE_OPTION_TYPES).map((k) => '--' + kebab(k)), '--api-key-file', '--log-level'];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) { out.positional.push(arg); continue; }
    const [flag, value] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined as string | undefined];
    const takeValue = () => {
      if (value !== undefined) return value;
      if (i + 1 >= args.length) throw new ConfigError(`${flag} needs a value.`);
      return args[++i];
    };
    if (flag === '--api-key-file') { out.apiKeyFile = takeValue(); continue; }
    if (flag === '--log-level') { out.logLevel = takeValue(); continue; }
    const negated = flag.startsWith('--no-');
    const key = camel((negated ? flag.slice(5) : flag.slice(2))) as keyof ServeConfig;
    const type = Object.hasOwn(SERVE_OPTION_TYPES, key) ? SERVE_OPTION_TYPES[key] : undefined;
    if (type === undefined) throw new ConfigError(`unknown option ${flag}. Valid options: ${valid.join(', ')}.`);
    const cfg = out.config as Record<string, unknown>;
    if (type === 'boolean') cfg[key] = !negated;
    else if (negated) throw new ConfigError(`${flag} is not a switch; give --${kebab(key)} <value>.`);
    else if (type === 'number') {
      const raw = takeValue();
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`${flag} must be a number, received '${raw}'.`);
      cfg[key] = n;
    } else cfg[key] = takeValue();
  }
  return out;
}

/** Installs SIGTERM/SIGINT (drain, exit 0) and SIGHUP (reload) handlers. */
export function handleSignals(server: HeedServer, log: (msg: string) => void): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: draining in-flight requests, then exiting`);
    // Never hang forever. The drain itself is bounded (a stuck forward pass is stopped after
    // timeoutMs, idle and slow sockets are closed within a second), so this only catches bugs.
    setTimeout(() => { log('drain timed out; exiting'); process.exit(1); }, server.config.timeoutMs + 10_000).unref();
    server.close().then(() => process.exit(0), (e: Error) => { log(`shutdown failed: ${e.message}`); process.exit(1); });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    log('SIGHUP: reloading every model');
    server.reload().then(() => log('reload done'), (e: Error) => log(`reload failed, previous versions keep serving: ${e.message}`));
  });
}

/**
 * Waits for every model to load. When one fails, the worker threads are stopped before the
 * error goes on to the CLI, which prints its one line and exits non-zero (live workers would
 * otherwise keep the process running).
 */
export async function startOrClose(server: HeedServer): Promise<void> {
  try {
    await server.ready;
  } catch (e) {
    await server.close().catch(() => undefined);
    throw e;
  }
}

export async function runServe(args: string[]): Promise<number> {
  const parsed = parseServeArgs(args);
  if (parsed.positional.length === 0) throw new ConfigError('give at least one model directory: heed serve runs/g2p [name=dir ...].');
  const models = parseModelSpecs(parsed.positional);
  const apiKeys = loadApiKeys(process.env, parsed.apiKeyFile);
  if (parsed.config.insecureNoAuth === true) {
    console.error([
      '',
      '  ##########################################################################',
      '  WARNING: --insecure-no-auth: every route answers anyone who can reach it.',
      '  Use it only on 127.0.0.1 for local testing; never expose this server.',
      '  ##########################################################################',
      '',
    ].join('\n'));
  }
  const server = createServer({
    models, apiKeys, adminKey: process.env.HEED_ADMIN_KEY, config: parsed.config,
    logger: { level: parsed.logLevel },
  });
  handleSignals(server, (msg) => server.app.log.info(msg));
  await startOrClose(server);
  const url = await server.listen();
  server.app.log.info(`heed serve: ${models.map((m) => m.name).join(', ')} ready at ${url} (${server.config.workers} workers × ${server.config.threadsPerWorker} threads)`);
  return new Promise<number>(() => undefined); // runs until a signal
}
