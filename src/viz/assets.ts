/**
 * Serves the attention-map page (./page/: plain HTML, CSS and JS, no build step) and uPlot's
 * files from node_modules, under one prefix (/ui). Nothing is fetched from a CDN.
 *
 * The page files are read from the package's src/viz/page folder, which ships in the npm
 * package; this module may run from src (tsx) or dist, so it finds the package root first.
 */
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('viz: package.json not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

interface Asset { path: string; type: string }

function assets(): Record<string, Asset> {
  const page = join(packageRoot(), 'src', 'viz', 'page');
  const uplot = dirname(createRequire(import.meta.url).resolve('uplot/package.json'));
  return {
    '': { path: join(page, 'index.html'), type: 'text/html; charset=utf-8' },
    'app.js': { path: join(page, 'app.js'), type: 'text/javascript; charset=utf-8' },
    'style.css': { path: join(page, 'style.css'), type: 'text/css; charset=utf-8' },
    'vendor/uPlot.iife.min.js': { path: join(uplot, 'dist', 'uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
    'vendor/uPlot.min.css': { path: join(uplot, 'dist', 'uPlot.min.css'), type: 'text/css; charset=utf-8' },
  };
}

/** Registers GET {prefix}/ and its asset files. Files are read once, at registration. */
export function registerPage(app: FastifyInstance, prefix: string): void {
  for (const [name, asset] of Object.entries(assets())) {
    const body = readFileSync(asset.path);
    const handler = async (_req: unknown, reply: { header: (k: string, v: string) => unknown; send: (b: Buffer) => unknown }) => {
      reply.header('content-type', asset.type);
      reply.header('cache-control', 'no-cache');
      reply.header('x-content-type-options', 'nosniff');
      // The page only talks to its own origin.
      reply.header('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'");
      return reply.send(body);
    };
    if (name === '') {
      // The page's links are relative, so it must be loaded as {prefix}/.
      app.get(prefix, async (_req, reply) => reply.redirect(`${prefix}/`));
      app.get(`${prefix}/`, handler);
    } else {
      app.get(`${prefix}/${name}`, handler);
    }
  }
}
