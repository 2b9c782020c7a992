/**
 * Self time of a V8 .cpuprofile (bench/profile-js.ts --prof, or node --cpu-prof), split into
 * kernels and everything else, with the top functions outside the kernels.
 *
 *   node --import tsx bench/cpuprofile-summary.ts <file.cpuprofile> [--top 30]
 *
 * Two more tables split the time outside kernels: by the part of a training step it ran in (the
 * nearest enclosing Module.call = forward, autograd backward, Optimizer.step, clipping, the
 * storage scope; a training step's parts as bench/js-share.ts times them) and by the source
 * folder of the function (which layer's code it is).
 *
 * A kernel is a native frame (no script, line -1) called from a kernel's generated dispatch
 * function (src/backend/call.ts: no script URL, named after the kernel's spec); every Node-API
 * function of the addon shows in the profile under one shared name, so the caller is what tells
 * which kernel ran. The dispatch function's own time and the garbage collector count outside the
 * kernels: they are the per-op cost this summary is for.
 *
 * Times come from sample counts, not the samples' time deltas: on a loaded machine a delta also
 * counts the time the process sat preempted, billed to whatever frame it was in. The counts are
 * scaled to the CPU time per iteration that bench/profile-js.ts wrote beside the profile
 * (<file>.json), or shown as shares alone without it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { kernelSpecs } from '../src/backend/registry.js';
import { readArgs } from './args.ts';

interface CallFrame { functionName: string; url: string; lineNumber: number; columnNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[] }

const flags = readArgs(import.meta.url, { top: { kind: 'int', default: 30, min: 1, help: 'functions listed outside the kernels' } },
  { positional: { name: 'file.cpuprofile', help: 'the V8 CPU profile to summarize', min: 1, max: 1 } });
const file = flags._[0];
const top = flags.top;
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const meta = existsSync(`${file}.json`) ? (JSON.parse(readFileSync(`${file}.json`, 'utf8')) as { cpuMsPerIter: number; workload: string; iters: number }) : undefined;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const samples = new Map<number, number>();
for (const s of p.samples) samples.set(s, (samples.get(s) ?? 0) + 1);

const kernels = new Set(kernelSpecs().keys());
const isDispatch = (n: ProfileNode | undefined): boolean => n !== undefined && !n.callFrame.url && kernels.has(n.callFrame.functionName);
const isNativeFrame = (n: ProfileNode): boolean => !n.callFrame.url && n.callFrame.lineNumber < 0 && !n.callFrame.functionName.startsWith('(');
const label = (n: ProfileNode): string => {
  const f = n.callFrame;
  const file = f.url.replace(/^file:\/\/\/work\/wt\/[^/]+\//, '').replace(/^file:\/\//, '');
  const name = f.functionName || '(anonymous)';
  if (!file) return isDispatch(n) ? `${name} (dispatch, src/backend/call.ts)` : name;
  if (f.functionName) return `${name} ${file}`;
  const up = parent.get(n.id);
  return `(anonymous) ${file}:${f.columnNumber} in ${up !== undefined ? byId.get(up)!.callFrame.functionName || '(anonymous)' : '?'}`;
};

/** The part of a training step a sample ran in: its nearest enclosing frame that names one. */
const PARTS: [string, (f: CallFrame) => boolean][] = [
  ['optimizer step', (f) => f.functionName === 'step' && f.url.endsWith('/optim/optimizer.ts')],
  ['clipping', (f) => /^(clipGradNorm|gradNorm)$/.test(f.functionName) && f.url.endsWith('/optim/clip.ts')],
  ['backward', (f) => f.functionName === 'backward' && f.url.endsWith('/autograd/engine.ts')],
  ['scope close', (f) => f.functionName === 'close' && f.url.endsWith('/tensor/storage-pool.ts') || f.functionName === 'liveBuffers'],
  ['forward', (f) => f.functionName === 'call' && f.url.endsWith('/nn/module.ts')],
];
const partOf = (id: number): string => {
  for (let u: number | undefined = id; u !== undefined; u = parent.get(u)) {
    const f = byId.get(u)!.callFrame;
    for (const [name, test] of PARTS) if (test(f)) return name;
  }
  return 'other';
};
const folderOf = (n: ProfileNode): string => {
  const f = n.callFrame;
  if (!f.url) return isDispatch(n) ? 'src/backend (kernel dispatch)' : f.functionName.startsWith('(') ? f.functionName : 'V8 / Node builtins';
  const m = /\/(src\/[^/]+|bench)\//.exec(f.url);
  return m ? m[1] : f.url.startsWith('node:') ? 'node internals' : 'other';
};
const byPart = new Map<string, number>(), byFolder = new Map<string, number>();

let total = 0, inKernels = 0, idle = 0, gc = 0;
const byFn = new Map<string, number>();
const byKernel = new Map<string, number>();
for (const [id, count] of samples) {
  const n = byId.get(id)!;
  total += count;
  const name = n.callFrame.functionName;
  if (name === '(idle)') { idle += count; continue; }
  const up = parent.get(id);
  if (isNativeFrame(n) && isDispatch(up === undefined ? undefined : byId.get(up))) {
    inKernels += count;
    const kn = byId.get(up!)!.callFrame.functionName;
    byKernel.set(kn, (byKernel.get(kn) ?? 0) + count);
    continue;
  }
  if (name === '(garbage collector)') gc += count;
  const part = name === '(garbage collector)' ? 'garbage collector' : partOf(id), folder = folderOf(n);
  byPart.set(part, (byPart.get(part) ?? 0) + count);
  byFolder.set(folder, (byFolder.get(folder) ?? 0) + count);
  const key = label(n);
  byFn.set(key, (byFn.get(key) ?? 0) + count);
}
const busy = total - idle, outside = busy - inKernels;
const share = (c: number): string => `${((100 * c) / busy).toFixed(1)}%`;
const ms = (c: number): string => (meta ? ((meta.cpuMsPerIter * c) / busy).toFixed(3) : '–');
console.log(`${file}${meta ? `: ${meta.workload}, ${meta.iters} iterations, ${meta.cpuMsPerIter.toFixed(3)} ms CPU each` : ''}; ${busy} samples`);
console.log(`kernels ${share(inKernels)} (${ms(inKernels)} ms), outside kernels ${share(outside)} (${ms(outside)} ms), of which the garbage collector ${share(gc)} (${ms(gc)} ms)`);
console.log(`\n| kernel | ms/iter | share |\n|---|---:|---:|`);
for (const [kn, c] of [...byKernel].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`| ${kn} | ${ms(c)} | ${share(c)} |`);
console.log(`\n| function outside kernels (self time) | ms/iter | share |\n|---|---:|---:|`);
for (const [key, c] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`| ${key} | ${ms(c)} | ${share(c)} |`);
console.log(`\n| outside kernels, by part of the step | ms/iter | share |\n|---|---:|---:|`);
for (const [k, c] of [...byPart].sort((a, b) => b[1] - a[1])) console.log(`| ${k} | ${ms(c)} | ${share(c)} |`);
console.log(`\n| outside kernels, by source folder (self time) | ms/iter | share |\n|---|---:|---:|`);
for (const [k, c] of [...byFolder].sort((a, b) => b[1] - a[1])) console.log(`| ${k} | ${ms(c)} | ${share(c)} |`);
