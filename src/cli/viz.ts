/**
 * `heed viz <model-dir> [--port 8081] [--host 127.0.0.1]`: the attention-map page for one
 * model, on a local server without auth. It is `heed serve` with one worker and no keys,
 * so the page and its API are exactly those of /ui on a production server.
 */
import { isIP } from 'node:net';
import { parseModelSpecs } from '../serve/config.js';
import { createServer } from '../serve/server.js';
import { ConfigError } from '../errors.js';
import { handleSignals, parseServeArgs, startOrClose } from './serve.js';

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

export async function runViz(args: string[]): Promise<number> {
  const parsed = parseServeArgs(args);
  if (parsed.positional.length !== 1) throw new ConfigError(`give exactly one model directory, received ${parsed.positional.length}: heed viz runs/g2p.`);
  const config = { port: 8081, workers: 1, ...parsed.config, insecureNoAuth: true, ui: true };
  if (!isLoopback(config.host ?? '127.0.0.1')) {
    console.error(`\n  WARNING: heed viz has no authentication and is listening on ${config.host}; anyone who can reach it can run the model.\n`);
  }
  const server = createServer({ models: parseModelSpecs(parsed.positional), config, logger: { level: parsed.logLevel === 'info' ? 'warn' : parsed.logLevel } });
  handleSignals(server, (msg) => console.error(`heed viz: ${msg}`));
  await startOrClose(server);
  const url = await server.listen();
  console.log(`heed viz: open ${url}/ui/`);
  return new Promise<number>(() => undefined);
}
