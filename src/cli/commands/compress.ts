/**
 * heed compress <model-dir> --out <dir> [--quantize int8|int8-static [--calibrate n]] [--weights fp32|fp16|bf16] [--sparsity f] [--prune-heads f|n]
 *
 * Writes a compressed copy of a trained model into a new directory (never overwrites): int8
 * dynamic quantization of the Linear layers (or static: activation scales calibrated on n validation examples, spam and digits), float16/bfloat16 weight storage, magnitude
 * pruning and/or attention-head pruning (a fraction of all heads, or a number per layer). The copy loads and serves like the original (heed eval / predict / serve).
 */
import { parseArgs } from '../args.js';
import { compressModelDir, type CompressOptions } from '../../tasks/compress.js';
import type { WeightsDtype } from '../../io/checkpoint.js';
import { ConfigError } from '../../errors.js';
import type { Command } from './command.js';

const FLAGS = { out: 'string', quantize: 'string', calibrate: 'string', weights: 'string', sparsity: 'string', pruneHeads: 'string', json: 'boolean' } as const;
const WEIGHT_FLAGS: Record<string, WeightsDtype> = { fp32: 'float32', float32: 'float32', fp16: 'float16', float16: 'float16', bf16: 'bfloat16', bfloat16: 'bfloat16' };
const USAGE = 'heed compress <model-dir> --out <new-dir> [--quantize int8|int8-static [--calibrate <examples>]] [--weights fp32|fp16|bf16] [--sparsity <fraction>] [--prune-heads <fraction|heads per layer>] [--json]';

export async function runCompress(args: string[]): Promise<number> {
  const parsed = parseArgs(args, null, FLAGS, 'heed compress');
  if (parsed.positional.length !== 1) throw new ConfigError(`heed compress: expected one model directory, received ${parsed.positional.length} arguments. Usage: ${USAGE}`);
  const f = parsed.flags;
  if (f.out === undefined) throw new ConfigError(`heed compress: --out <new-dir> is required (the input is never overwritten). Usage: ${USAGE}`);
  const options: CompressOptions = {};
  if (f.quantize !== undefined) {
    if (f.quantize !== 'int8' && f.quantize !== 'int8-static') throw new ConfigError(`heed compress: --quantize '${String(f.quantize)}', expected int8 (dynamic) or int8-static (calibrated).`);
    options.quantize = f.quantize;
  }
  if (f.calibrate !== undefined) {
    const n = Number(f.calibrate);
    if (String(f.calibrate).trim() === '' || !(Number.isInteger(n) && n > 0)) throw new ConfigError(`heed compress: --calibrate '${String(f.calibrate)}', expected a whole number of validation examples ≥ 1 (the calibration sample of --quantize int8-static).`);
    if (options.quantize !== 'int8-static') throw new ConfigError('heed compress: --calibrate is the calibration sample of static quantization. Fix: add --quantize int8-static, or drop --calibrate.');
    options.calibrate = n;
  }
  if (f.weights !== undefined) {
    const w = WEIGHT_FLAGS[String(f.weights)];
    if (!Object.hasOwn(WEIGHT_FLAGS, String(f.weights))) throw new ConfigError(`heed compress: --weights '${String(f.weights)}', expected fp32, fp16 or bf16.`);
    options.weights = w;
  }
  if (f.sparsity !== undefined) {
    const s = Number(f.sparsity);
    if (String(f.sparsity).trim() === '' || !(s >= 0 && s < 1)) throw new ConfigError(`heed compress: --sparsity '${String(f.sparsity)}', expected a fraction in [0, 1) such as 0.5.`);
    options.sparsity = s;
  }
  const ph = f.pruneHeads;
  if (ph !== undefined) {
    const n = Number(ph);
    if (String(ph).trim() === '' || !(n > 0 && (n < 1 || Number.isInteger(n)))) throw new ConfigError(`heed compress: --prune-heads '${String(ph)}', expected a fraction of all heads in (0, 1) such as 0.3, or a whole number of heads to remove from every layer.`);
    options.pruneHeads = n;
  }
  const r = await compressModelDir(parsed.positional[0], String(f.out), options);
  if (f.json) console.log(JSON.stringify(r));
  else {
    console.log(`heed compress: ${r.task} model → ${r.out}: model.safetensors ${r.bytesBefore.toLocaleString('en-US')} → ${r.bytesAfter.toLocaleString('en-US')} bytes ` +
      `(${(r.bytesAfter / r.bytesBefore * 100).toFixed(1)}%; ${r.headsPruned > 0 ? `${r.headsPruned} heads pruned, ` : ''}${r.quantizedModules} int8 layers, float weights as ${r.weights}). Try: heed eval ${r.out}`);
  }
  return 0;
}

export const compressCommand: Command = {
  summary: 'write a compressed copy of a model: int8 layers, fp16/bf16 weight storage, magnitude and head pruning',
  usage: USAGE,
  run: runCompress,
};
