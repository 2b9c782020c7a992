/**
 * The JavaScript of one attentionMergedHeads call on the training step's shapes (issue 16: the step's
 * JS outside kernels), this tree against another checkout in ONE process: every kernel a no-op (the
 * values are garbage; only the op's own JS runs), the forward and its backward closure inside a storage
 * scope (as a training step's: the pool serves the buffers), on a fused q|k|v tensor (B 64, L 11, 4 heads
 * of 64, keyPaddingMask with valid-then-padding rows, causal, dropout 0.1). Rounds of `--calls` calls per
 * tree, the order of the trees rotating; process CPU time, medians over rounds.
 *
 *   node --import tsx bench/attention-merged-js.ts --base /tmp/heed-main [--calls 20000] [--rounds 9]
 */
import { resolve } from 'node:path';
import { readArgs } from './args.ts';
import { median } from './peers/common.ts';

const flags = readArgs(import.meta.url, {
  base: { kind: 'string', default: '/tmp/heed-main', help: 'the other checkout of heed (src/ and its build/Release/heed.node)' },
  calls: { kind: 'int', default: 20000, min: 1, help: 'calls per tree per round' },
  rounds: { kind: 'int', default: 9, min: 1, help: 'interleaved rounds' },
});

async function load(dir: string): Promise<() => void> {
  const reg = await import(`${dir}/src/backend/registry.ts`);
  reg.setBackend('native');
  const table = reg.k as Record<string, unknown>;
  for (const n of Object.keys(table)) table[n] = () => undefined;
  const { Tensor } = await import(`${dir}/src/tensor/tensor.ts`);
  const { attentionMergedHeads } = await import(`${dir}/src/ops/attention.ts`);
  const { openStorageScope } = await import(`${dir}/src/tensor/storage-pool.ts`);
  const B = 64, L = 11, H = 4, d = 64;
  const qkv = new Tensor(new Float32Array(B * L * 3 * H * d), [B, L, 3 * H * d]);
  qkv.requiresGrad = true;
  const pad = new Uint8Array(B * L);
  for (let b = 0; b < B; b++) for (let j = L - (b % 4); j < L; j++) pad[b * L + j] = 1;
  const padT = new Tensor(pad, [B, L]);
  const cols = (offset: number) => ({ tensor: qkv, offset, heads: H, width: d });
  return () => {
    const scope = openStorageScope();
    const y = attentionMergedHeads(cols(0), cols(H * d), cols(2 * H * d), { keyPaddingMask: padT, isCausal: true, dropoutP: 0.1 });
    y.gradFn!.backward(y);
    scope.close([qkv.data, pad]);
  };
}

const arms = [{ name: 'base', run: await load(resolve(flags.base)), us: [] as number[] }, { name: 'this', run: await load(resolve(import.meta.dirname, '..')), us: [] as number[] }];
for (const a of arms) for (let i = 0; i < flags.calls; i++) a.run(); // warm-up
for (let r = 0; r < flags.rounds; r++) {
  for (let j = 0; j < 2; j++) {
    const a = arms[(r + j) % 2];
    const t0 = process.cpuUsage();
    for (let i = 0; i < flags.calls; i++) a.run();
    const t = process.cpuUsage(t0);
    a.us.push((t.user + t.system) / flags.calls);
  }
}
for (const a of arms) console.log(`${a.name.padEnd(4)}: ${median(a.us).toFixed(2)} µs CPU per call (forward + backward closure, no-op kernels; median of ${flags.rounds} rounds × ${flags.calls} calls; min ${Math.min(...a.us).toFixed(2)})`);
