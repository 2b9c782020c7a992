/**
 * Tensor methods (t.add(u), t.reshape(s), t.backward(), ...) come from src/ops/methods.ts, which
 * installs them on Tensor.prototype. No module may rely on an entry point having loaded it:
 *
 * 1. the type checker finds every call of such a method in src/, and the calling module must load
 *    src/ops/methods.ts through its own imports (type-only imports load nothing);
 * 2. every src module, compiled and imported alone in a fresh process, loads without error, and
 *    tensor methods work right after exactly when its own imports load src/ops/methods.ts;
 * 3. each installed method runs, and none replaces a property the Tensor class defines itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { availableParallelism } from 'node:os';
import { ROOT, buildImportGraph, runtimeClosure } from './import-graph.ts';
import { builtPackage, CANARY_FILE } from '../api/package-build.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { tensor } from '../../src/tensor/creation.ts';
import { TENSOR_METHODS } from '../../src/ops/methods.ts';

const METHODS_FILE = 'src/ops/methods.ts';
const graph = buildImportGraph();

test('every module that calls a Tensor method loads src/ops/methods.ts through its own imports', async () => {
  const callers = new Map(Object.entries((await builtPackage()).methodCallers));
  // The finder must find the canary's calls, or an empty list below would prove nothing.
  assert.match(callers.get(CANARY_FILE) ?? '', /calls \.(sum|reshape)\(\)/);
  const bad = [...callers].filter(([file]) => file.startsWith('src/') && !runtimeClosure(graph, file).has(METHODS_FILE)).map(([, where]) => where);
  assert.deepEqual(bad, [], 'import the ops layer (src/ops/index.ts) in these files, or call the op functions');
});

test('each Tensor method is installed, runs, and replaces nothing the class defines', () => {
  assert.ok(TENSOR_METHODS.length >= 30);
  for (const name of ['item', 'toArray', 'toFloat32Array', 'detach', 'clone', 'retainGrad', 'zeroGrad', 'numel', 'toString']) {
    assert.ok(!TENSOR_METHODS.includes(name), `${name} belongs to the class`);
  }
  for (const name of TENSOR_METHODS) {
    assert.equal(typeof (Tensor.prototype as unknown as Record<string, unknown>)[name], 'function', name);
    assert.ok(!Object.keys(Tensor.prototype).includes(name), `${name} is non-enumerable, like a class method`);
  }
  const x = tensor([[1, -2], [3, 4]], undefined, { requiresGrad: true });
  const y = x.mul(2).add(1).relu().reshape([4]).sum();
  assert.equal(y.item(), 3 + 7 + 9);
  y.backward();
  assert.deepEqual(Array.from(x.grad!.data), [2, 0, 2, 2]);
});

/**
 * Imports `file`, compiled, alone in a fresh Node process, then reports whether tensor methods
 * work: 'methods-ok', 'no-methods' (not installed), or an error.
 */
function importAlone(pkg: string, file: string): Promise<{ code: number | null; out: string }> {
  const compiled = (f: string) => pathToFileURL(join(pkg, 'dist', f.replace(/\.ts$/, '.js'))).href;
  const script = `
    await import(${JSON.stringify(compiled(file))});
    const { tensor } = await import(${JSON.stringify(compiled('src/tensor/creation.ts'))});
    const t = tensor([[1, 2], [3, 4]]);
    if (typeof t.reshape !== 'function') { console.log('no-methods'); process.exit(0); }
    const v = t.reshape([4]).mul(2).sum().item();
    console.log(v === 20 ? 'methods-ok' : 'methods-wrong ' + v);
    process.exit(0);`;
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: pkg, env: { ...process.env, HEED_QUIET: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => { clearTimeout(timer); resolvePromise({ code, out: out.trim() }); });
  });
}

test('every src module imports alone in a fresh process, and tensor methods work right after exactly when its imports load them', async () => {
  const { dir } = await builtPackage();
  const results = new Map<string, { code: number | null; out: string }>();
  const queue = [...graph.files];
  const runners = Array.from({ length: Math.min(2, availableParallelism()) }, async () => {
    for (let f = queue.shift(); f !== undefined; f = queue.shift()) results.set(f, await importAlone(dir, f));
  });
  await Promise.all(runners);
  const bad: string[] = [];
  for (const f of graph.files) {
    const { code, out } = results.get(f)!;
    const last = out.split('\n').pop() ?? '';
    const expected = runtimeClosure(graph, f).has(METHODS_FILE) ? 'methods-ok' : 'no-methods';
    if (code !== 0 || last !== expected) bad.push(`${f}: expected ${expected}, exit ${code}: ${out.slice(-400)}`);
  }
  assert.deepEqual(bad, []);
  // The package entry and the ops barrel load them; the layers below the ops do not.
  for (const f of ['src/index.ts', 'src/ops/index.ts']) assert.equal(results.get(f)!.out, 'methods-ok', f);
  for (const f of ['src/tensor/creation.ts', 'src/autograd/engine.ts', 'src/backend/registry.ts']) assert.equal(results.get(f)!.out, 'no-methods', f);
});
