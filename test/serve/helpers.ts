/**
 * Shared setup for the serving tests: toy model directories (./toy-predictor.ts) and a
 * server bound to 127.0.0.1:0 with the toy loader.
 */
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type HeedServer, type ServerOptions } from '../../src/serve/server.js';
import type { ServeConfig } from '../../src/serve/config.js';

export const TOY_LOADER = new URL('./toy-predictor.ts', import.meta.url).href;
export const API_KEY = 'test-key-0123456789abcdef';
export const ADMIN_KEY = 'admin-key-0123456789abcdef';

/** A model directory holding a toy config (and optionally a metrics.jsonl). */
export function toyModelDir(name: string, cfg: { seed?: number; dModel?: number; nHeads?: number; delayMs?: number; crashWord?: string; blockWord?: string } = {}, metricsJsonl?: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'heed-serve-')), name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ task: 'toy-g2p', seed: cfg.seed ?? 1, dModel: cfg.dModel ?? 16, nHeads: cfg.nHeads ?? 4, delayMs: cfg.delayMs ?? 0, crashWord: cfg.crashWord, blockWord: cfg.blockWord }));
  if (metricsJsonl !== undefined) writeFileSync(join(dir, 'metrics.jsonl'), metricsJsonl);
  return dir;
}

export async function startToyServer(models: { name: string; dir: string }[], config: Partial<ServeConfig> = {}, extra: Partial<ServerOptions> = {}): Promise<HeedServer> {
  const server = createServer({
    models, loader: TOY_LOADER, apiKeys: [API_KEY], adminKey: ADMIN_KEY, logger: false,
    config: { host: '127.0.0.1', port: 0, workers: 1, threadsPerWorker: 1, ...config },
    ...extra,
  });
  await server.ready;
  return server;
}

export const auth = { authorization: `Bearer ${API_KEY}` };
