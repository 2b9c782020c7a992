/**
 * The import graph of src/ follows DESIGN.md's layers:
 *
 *   cli → serve → tasks → train → compress → models → nn → ops → autograd → tensor → backend
 *   (io, data and viz sit beside: they use the core up to ops and are used from nn upwards)
 *
 * src/errors.ts and src/version.ts are below everything; src/index.ts, the package entry, is
 * above everything. A folder's subfolders belong to it (nn/attention is nn, train/optim is train).
 * Type-only imports count: a type import is still a dependency a reader has to follow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildImportGraph, cycles } from './import-graph.ts';

/** Bottom-up rank of each layer; a module may import only from its own rank or below. */
const LAYERS = ['backend', 'tensor', 'autograd', 'ops', 'nn', 'models', 'compress', 'train', 'tasks', 'serve', 'cli'] as const;
/** Folders beside the stack: they may use the core up to `BESIDE_MAX`, and are used from `BESIDE_USED_FROM` up. */
const BESIDE = ['io', 'data', 'viz'] as const;
const BESIDE_MAX = 'ops';
const BESIDE_USED_FROM = 'nn';
/** Files at src/ itself. */
const BASE_FILES = ['src/errors.ts', 'src/version.ts'];
const ENTRY = 'src/index.ts';

/**
 * File cycles someone else is removing. Each entry names its owner; the test fails when an entry
 * is no longer a cycle, so the list only shrinks.
 */
const KNOWN_FILE_CYCLES: { files: string[]; why: string }[] = [];

/** 'src/nn/attention/masks.ts' → 'nn'; base files → 'base'; the entry → 'entry'. */
function unitOf(file: string): string {
  if (file === ENTRY) return 'entry';
  if (BASE_FILES.includes(file)) return 'base';
  const parts = file.split('/');
  if (parts.length < 3) throw new Error(`${file}: a new file at src/ itself; put it in a layer folder, or list it here`);
  return parts[1];
}

function rank(unit: string): number {
  return (LAYERS as readonly string[]).indexOf(unit);
}

/** Why importing `to` from `from` breaks the layering, or null when it is allowed. */
function violation(from: string, to: string): string | null {
  if (from === to || to === 'base' || from === 'entry') return null;
  if (to === 'entry') return 'imports the package entry src/index.ts; import the module itself';
  if (from === 'base') return 'errors.ts and version.ts must import nothing from the layers';
  const besideFrom = (BESIDE as readonly string[]).includes(from), besideTo = (BESIDE as readonly string[]).includes(to);
  if (besideFrom && besideTo) return null; // cycles between them are caught below
  if (besideFrom) return rank(to) <= rank(BESIDE_MAX) ? null : `${from} sits beside the stack and may use it up to ${BESIDE_MAX}, not ${to}`;
  if (besideTo) return rank(from) >= rank(BESIDE_USED_FROM) ? null : `${to} is used from ${BESIDE_USED_FROM} upwards, not from ${from}`;
  if (rank(from) < 0 || rank(to) < 0) return `unknown folder (${rank(from) < 0 ? from : to}); add it to LAYERS or BESIDE in this test and to DESIGN.md`;
  return rank(to) <= rank(from) ? null : `${from} is below ${to}: data flows ${LAYERS.slice().reverse().join(' → ')}`;
}

const graph = buildImportGraph();

test('the import graph reads every src file and finds the known edges', () => {
  assert.ok(graph.files.length > 50, `only ${graph.files.length} files under src/`);
  const has = (from: string, to: string) => graph.edges.some((e) => e.from === from && e.to === to);
  assert.ok(has('src/nn/linear.ts', 'src/nn/module.ts'));
  assert.ok(has('src/index.ts', 'src/ops/index.ts'));
  assert.ok(graph.edges.some((e) => e.typeOnly), 'type-only imports are recorded');
});

test('no import breaks the layering (cli → serve → tasks → train → models → nn → ops → autograd → tensor → backend; io, data, viz beside)', () => {
  const bad: string[] = [];
  for (const e of graph.edges) {
    const why = violation(unitOf(e.from), unitOf(e.to));
    if (why !== null) bad.push(`${e.from}:${e.line} imports ${e.to}${e.typeOnly ? ' (type)' : ''}: ${why}`);
  }
  assert.deepEqual(bad, []);
});

test('the layering rule rejects what it should', () => {
  assert.match(violation('ops', 'nn') ?? '', /ops is below nn/);
  assert.match(violation('tensor', 'autograd') ?? '', /tensor is below autograd/);
  assert.match(violation('io', 'train') ?? '', /beside the stack/);
  assert.match(violation('ops', 'data') ?? '', /used from nn upwards/);
  assert.equal(violation('train', 'io'), null);
  assert.equal(violation('cli', 'models'), null);
});

test('no cycle between folders (subfolders count as their folder)', () => {
  const units = [...new Set(graph.files.map(unitOf))];
  const succ = new Map<string, Set<string>>(units.map((u) => [u, new Set()]));
  for (const e of graph.edges) {
    const a = unitOf(e.from), b = unitOf(e.to);
    if (a !== b) succ.get(a)!.add(b);
  }
  const found = cycles(units, (u) => succ.get(u)!);
  const explain = found.map((c) => c.join(' ⇄ ') + ': ' + graph.edges
    .filter((e) => c.includes(unitOf(e.from)) && c.includes(unitOf(e.to)) && unitOf(e.from) !== unitOf(e.to))
    .map((e) => `${e.from} → ${e.to}`).join(', '));
  assert.deepEqual(explain, []);
});

test('no cycle between files, type-only imports included', () => {
  const found = cycles(graph.files, (f) => graph.out.get(f)!.map((e) => e.to));
  const key = (files: string[]) => [...files].sort().join(' ⇄ ');
  const known = new Set(KNOWN_FILE_CYCLES.map((k) => key(k.files)));
  assert.deepEqual(found.map(key).filter((k) => !known.has(k)), []);
  const stale = [...known].filter((k) => !found.some((c) => key(c) === k));
  assert.deepEqual(stale, [], 'these known cycles are gone: remove them from KNOWN_FILE_CYCLES');
});
