/**
 * The d 256 training step's losses, bit for bit, from a given tree's code (its bench/train.ts, src and
 * addon): 8 steps (--steps) from the fixed seed on 1 thread, each loss printed with its float64 bits. Run
 * it against main's tree and this one to check that a change that should not touch the arithmetic
 * (a fold that moves a multiply into another kernel) gives the same losses.
 *
 *   node --import tsx bench/step-losses.ts [--tree /work/main] [--steps 8] [--out file.json]
 *   (a tree other than this one is imported from its own bench/train.ts: run from that tree's directory,
 *   so that its addon is the one loaded)
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {
  tree: { kind: 'string', default: '', help: 'the tree whose bench/train.ts, src and addon run the step (default: this one)' },
  steps: { kind: 'int', default: 8, min: 1, help: 'steps from the fixed seed' },
  d: { kind: 'int', default: 256, help: 'the model width (a bench/train.ts config)' },
  out: { kind: 'string', default: '', help: 'results file (JSON)' },
});
const base = flags.tree ? pathToFileURL(resolve(flags.tree) + '/').href : new URL('../', import.meta.url).href;
const train = await import(new URL('bench/train.ts', base).href) as typeof import('./train.ts');
const reg = await import(new URL('src/backend/registry.ts', base).href) as typeof import('../src/backend/registry.ts');
if (reg.backendInfo().nativeAvailable) reg.setBackend('native');
reg.setNumThreads(1);
const cfg = train.TRAIN_CONFIGS.find((c) => c.dModel === flags.d) ?? train.TRAIN_CONFIGS[0];
const s = await train.heedStep(train.makeTrainBatch(), cfg);
const bits = (x: number) => { const b = new DataView(new ArrayBuffer(8)); b.setFloat64(0, x); return b.getBigUint64(0).toString(16).padStart(16, '0'); };
const losses: { loss: number; bits: string }[] = [];
for (let i = 0; i < flags.steps; i++) {
  s.step();
  const loss = s.loss();
  losses.push({ loss, bits: bits(loss) });
  console.log(`step ${i + 1}: loss ${loss} (0x${bits(loss)})`);
}
if (flags.out) writeFileSync(flags.out, JSON.stringify({ tree: flags.tree || '.', backend: reg.backendInfo().backend, losses }, null, 2) + '\n');
