/**
 * What the fused encoder allocates per batch in a serving-like stream: batches of B words
 * (uniform 1–64, or fixed with --batch) of T tokens (uniform 6–14) with suffix key padding, through
 * a 2-layer encoder of width d (4 heads, FFN 4·d; the G2P models are d 128 and d 256). For each
 * (d, seed): the plan's work-buffer bytes per call (fusedEncoderAllocatedBytes) and the calls that
 * grew a buffer, after `--warm` calls; and the tensor storage per call (storageStats: the result
 * (B, T, d), plus this script's own input x and padding mask). Allocation counts, not times, so
 * the figures do not depend on the machine's load.
 *
 *   node --import tsx bench/serve/encoder-alloc.ts [--d 128,256] [--seeds 1,2,3] [--calls 600] [--warm 50] [--batch 0] [--out file.json]
 */
import { writeFileSync } from 'node:fs';
import * as h from '../../src/index.ts';
import { nn } from '../../src/index.ts';
import { SHRINK_WINDOW, runEncoder, fusedEncoderAllocatedBytes, fusedEncoderWorkBytes } from '../../src/models/fused-encoder.ts';
import { storageStats, resetStorageStats } from '../../src/tensor/storage-pool.ts';
import { readArgs } from '../args.ts';

const flags = readArgs(import.meta.url, {
  d: { kind: 'ints', default: [128, 256], min: 1, help: 'model widths' },
  seeds: { kind: 'ints', default: [1, 2, 3], help: 'seeds of the request-size sequences' },
  calls: { kind: 'int', default: 600, min: 1, help: 'measured calls' },
  warm: { kind: 'int', default: 50, min: 0, help: 'warm-up calls' },
  batch: { kind: 'int', default: 0, min: 0, help: 'a fixed batch size (0: sizes vary call to call)' },
  out: { kind: 'string', default: '', help: 'raw results file (JSON)' },
});
const widths = flags.d, seeds = flags.seeds;
const calls = flags.calls, warm = flags.warm, fixedB = flags.batch, out = flags.out;

function measure(D: number, seed0: number): Record<string, unknown> {
  let seed = seed0;
  const rand = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31; };
  h.manualSeed(seed0);
  const enc = new nn.TransformerEncoder(2, () => new nn.TransformerEncoderLayer(D, 4, { dimFeedforward: 4 * D }), null).eval();
  let outBytes = 0;
  const call = () => {
    const B = fixedB || 1 + Math.floor(rand() * 64), T = 6 + Math.floor(rand() * 9);
    const x = h.randn([B, T, D]);
    const pad = h.tensor(Array.from({ length: B }, () => { const n = 3 + Math.floor(rand() * (T - 2)); return Array.from({ length: T }, (_, t) => t >= n); }), undefined, { dtype: 'bool' });
    outBytes += h.noGrad(() => runEncoder(enc, x, { keyPaddingMask: pad })).size * 4;
  };
  for (let i = 0; i < warm; i++) call();
  const work0 = fusedEncoderAllocatedBytes(enc);
  resetStorageStats();
  outBytes = 0;
  let grew = 0;
  for (let i = 0; i < calls; i++) {
    const before = fusedEncoderAllocatedBytes(enc);
    call();
    if (fusedEncoderAllocatedBytes(enc) > before) grew++;
  }
  const st = storageStats();
  return {
    d: D, seed: seed0, workBytesPerCall: Math.round((fusedEncoderAllocatedBytes(enc) - work0) / calls), callsThatGrewBuffers: grew,
    resultBytesPerCall: Math.round(outBytes / calls), heldWorkBytes: fusedEncoderWorkBytes(enc),
    storageBytesPerCallWithInputs: Math.round(st.bytes / calls), storageAllocationsPerCall: st.allocations / calls,
  };
}

const rows = widths.flatMap((d) => seeds.map((s) => measure(d, s)));
const result = { shrinkWindow: SHRINK_WINDOW, calls, warm, batch: fixedB || 'uniform 1-64', T: 'uniform 6-14', layers: 2, heads: 4, rows };
for (const r of rows) console.log(JSON.stringify(r));
if (out) writeFileSync(out, JSON.stringify(result, null, 1) + '\n');
