#!/usr/bin/env node
// Builds the native addon with node-gyp during `npm install`.
// A failed build must never fail the install: heed then runs on its TypeScript kernels.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (process.env.HEED_SKIP_NATIVE === '1') {
  console.log('heed: HEED_SKIP_NATIVE=1, skipping the native build; the TypeScript backend will be used.');
  process.exit(0);
}
if (!existsSync(join(root, 'binding.gyp'))) {
  console.log('heed: no binding.gyp, skipping the native build.');
  process.exit(0);
}

function findNodeGyp() {
  // npm ships node-gyp; npm_config_node_gyp points at it during lifecycle scripts.
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  try {
    return createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    const guess = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    return existsSync(guess) ? guess : undefined;
  }
}

const gyp = findNodeGyp();
if (!gyp) {
  console.warn('heed: node-gyp not found; skipping the native build. heed will use its TypeScript backend.');
  process.exit(0);
}
// In a development checkout (tsx installed), regenerate native/kernel_specs.gen.h from the
// kernel specs first; an installed package builds the committed header as it is.
let tsx;
try { tsx = createRequire(import.meta.url).resolve('tsx'); } catch { tsx = undefined; }
if (tsx && existsSync(join(root, 'scripts', 'gen-native-specs.ts')) && existsSync(join(root, 'src', 'backend', 'specs', 'index.ts'))) {
  const g = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'gen-native-specs.ts')], { cwd: root, stdio: 'inherit' });
  if (g.status !== 0) console.warn('heed: regenerating native/kernel_specs.gen.h failed (see above); building the committed header.');
}
const jobs = process.env.JOBS ?? 'max';
const args = [gyp, 'rebuild', '--release', `--jobs=${jobs}`];
// Offline machines: build against the headers installed with Node instead of downloading them.
const prefix = join(dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.warn('heed: the native build failed (see above); heed will run on its TypeScript backend. ' +
    'Install a C++17 compiler (g++ or clang) and python3, then run `npm run build:native`.');
}
process.exit(0);
