/**
 * Small-op dispatch in one tree, standalone: `node --import tsx bench/dispatch-ab.ts <tree root>`
 * prints the median µs of an add of 64 floats without and with autograd recording, timed as
 * bench/dispatch.ts times it. Run it for two trees in alternating processes to A/B a change
 * without the rest of `npm run bench` in the same process (whose first rows read 1.6–5 µs).
 */
import { resolve } from 'node:path';
import { readArgs } from './args.ts';

const flags = readArgs(import.meta.url, {}, { positional: { name: 'tree root', help: 'the checkout of heed to time (default .)', max: 1 } });
const root = resolve(flags._[0] ?? '.');
const h = await import(root + '/src/index.ts');
const { microsPerOp } = await import(root + '/bench/dispatch.ts');
const out: string[] = [];
for (const grad of [false, true]) {
  const a = h.randn([64], { requiresGrad: grad }), b = h.randn([64], { requiresGrad: grad });
  out.push(`${grad ? '+grad' : 'no grad'} ${microsPerOp(() => h.add(a, b), false).toFixed(2)} µs`);
}
console.log(`${root} (${h.backendInfo().backend}): add of 64 floats ${out.join(', ')}`);
