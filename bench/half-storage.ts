/**
 * 16-bit weight storage for inference: resident memory and logits of one BERT checkpoint loaded
 * with fromPretrained's dtype 'float32', 'float16' and 'bfloat16', each in its own process.
 *
 *   node --import tsx bench/half-storage.ts [--out bench/results/half-storage-<date>.json]
 *
 * The checkpoint: a BertForMaskedLM of BERT-mini's sizes (d 256, 4 layers, 4 heads, FF 1024) with
 * bert-base's 30,522-word vocabulary, random weights (seed 0), written by savePretrained to a
 * temporary directory. Each child loads it, runs one forward pass on a fixed (2, 64) batch,
 * calls gc() and reports process.memoryUsage(): arrayBuffers holds the typed arrays (the
 * weights), rss the whole process. Reports the max |logit − float32 logit| over the batch and
 * the forward time (one warm-up call, then the median of 5; the machine is shared: load beside it).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as heed from '../src/index.ts';
import { readArgs } from './args.ts';

const args = process.argv.slice(2);
const flags = readArgs(import.meta.url, {
  out: { kind: 'string', help: 'results file (default bench/results/half-storage-<date>.json)' },
}, { argv: args[0] === '--child' ? [] : args });

function batch(): { ids: heed.Tensor; attentionMask: heed.Tensor } {
  const g = new heed.Generator(1);
  const ids = Int32Array.from({ length: 128 }, () => 1000 + Math.floor(g.uniform() * 29000));
  const mask = Int32Array.from({ length: 128 }, (_, i) => (i >= 64 + 40 ? 0 : 1)); // the second row padded after 40 tokens
  return { ids: new heed.Tensor(ids, [2, 64]), attentionMask: new heed.Tensor(mask, [2, 64]) };
}

async function child(dir: string, dtype: 'float32' | 'float16' | 'bfloat16', logitsFile: string): Promise<void> {
  const model = (await heed.fromPretrained(dir, { dtype, onReport: () => {} })) as heed.models.BertForMaskedLM;
  const { ids, attentionMask } = batch();
  let logits = heed.noGrad(() => model.forward(ids, { attentionMask }));
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    logits = heed.noGrad(() => model.forward(ids, { attentionMask }));
    times.push(performance.now() - t);
  }
  writeFileSync(logitsFile, Buffer.from((logits.data as Float32Array).buffer));
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({ dtype, rssMB: m.rss / 2 ** 20, arrayBuffersMB: m.arrayBuffers / 2 ** 20, heapUsedMB: m.heapUsed / 2 ** 20, forwardMs: times[2] }));
}

async function main(): Promise<void> {
  if (args[0] === '--child') return child(args[1], args[2] as 'float32', args[3]);
  const dir = mkdtempSync(join(tmpdir(), 'heed-half-bench-'));
  try {
    heed.manualSeed(0);
    const model = new heed.models.BertForMaskedLM({ vocabSize: 30522, dModel: 256, numLayers: 4, numHeads: 4, dimFeedforward: 1024 });
    const params = model.numParameters();
    await heed.savePretrained(model, dir);
    const runs = [];
    const logits: Record<string, Float32Array> = {};
    for (const dtype of ['float32', 'float16', 'bfloat16']) {
      const file = join(dir, `${dtype}.logits`);
      const loadBefore = loadavg();
      const r = spawnSync('nice', ['-n', '19', process.execPath, '--expose-gc', '--import', 'tsx', 'bench/half-storage.ts', '--child', dir, dtype, file], { encoding: 'utf8', env: { ...process.env, HEED_NUM_THREADS: '1' } });
      if (r.status !== 0) throw new Error(`${dtype}: ${r.stderr}`);
      const b = readFileSync(file);
      logits[dtype] = new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
      runs.push({ ...JSON.parse(r.stdout.trim().split('\n').pop()!), loadBefore, loadAfter: loadavg() });
    }
    for (const run of runs) {
      const a = logits.float32, b = logits[run.dtype];
      let d = 0, m = 0;
      for (let i = 0; i < a.length; i++) {
        d = Math.max(d, Math.abs(a[i] - b[i]));
        m = Math.max(m, Math.abs(a[i]));
      }
      Object.assign(run, { maxAbsDiffVsFloat32: d, maxAbsLogit: m });
    }
    const out = flags.out ?? join('bench', 'results', `half-storage-${new Date().toISOString().slice(0, 10)}.json`);
    const result = {
      bench: 'half-storage', date: new Date().toISOString(), model: 'BertForMaskedLM d256 L4 H4 FF1024 V30522 (random, seed 0)', parameters: params,
      float32WeightMB: (4 * params) / 2 ** 20, batch: '(2, 64), second row padded after 40 tokens', runs,
    };
    writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
    console.log(JSON.stringify(result, null, 2));
    console.log(`wrote ${out}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
