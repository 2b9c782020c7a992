/**
 * quantizeStatic: int8 quantization with calibrated activation scales (torch.ao.quantization's
 * prepare → calibrate → convert, with a max observer per layer input).
 *
 *   heed.quantizeStatic(model, [[x1], [x2], …]);   // each entry: the arguments of one model.call
 *
 * 1. Calibrate: the fp32 model runs every calibration batch (eval mode, no grad) while a forward
 *    hook on each selected Linear records max |x| over its inputs: one number per layer, per tensor.
 * 2. Convert: the Linears are replaced by QuantizedLinear as quantizeDynamic does (weights per
 *    channel, packed once), and each gets inputScale = max |x| / 127, so at run time every row of
 *    its input is quantized with that one scale (values past the calibrated range clamp) instead
 *    of measuring its own. That saves the per-row max scan and makes a row's rounding independent
 *    of the other values in it; it costs accuracy when run-time inputs leave the calibrated range.
 *
 * The calibration sample should be drawn from the validation split, never the test split.
 * Letters: none (scales are per layer).
 */
import { Module, toRegExp, type NamePattern } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { QuantizedLinear } from '../nn/quantized-linear.js';
import { noGrad } from '../autograd/mode.js';
import { Tensor } from '../tensor/tensor.js';
import { quantizeDynamic } from './quantize-dynamic.js';
import { ValueError } from '../errors.js';

export interface QuantizeStaticOptions {
  /** Which Linear layers, by dotted module name, as quantizeDynamic's option (default: every Linear). */
  modules?: NamePattern | readonly NamePattern[];
}

export interface QuantizeStaticResult {
  /** Dotted names of the layers replaced, in module order. */
  modules: string[];
  /** Each replaced layer's calibrated input scale (max |x| / 127). */
  inputScales: Record<string, number>;
  /** Calibration batches run. */
  batches: number;
}

/**
 * Calibrates `model` on `calibrationBatches` and replaces its selected Linear layers, in place, by
 * static int8 QuantizedLinear layers.
 *
 * Args:
 *   model: an fp32 Module holding Linear layers.
 *   calibrationBatches: a non-empty list; each entry is the argument list of one model.call.
 *   options.modules: which layers (default all).
 * Returns: the names replaced and their input scales.
 * Throws: ValueError for an empty sample, a model already quantized (statically: calibrating
 * twice), or a selected layer that the sample never reaches (it would have no scale).
 */
export function quantizeStatic(model: Module, calibrationBatches: readonly (readonly unknown[])[], options: QuantizeStaticOptions = {}): QuantizeStaticResult {
  if (!(model instanceof Module)) throw new ValueError(`quantizeStatic: expected a Module, received ${model === null ? 'null' : typeof model}.`);
  const calibrated = model.namedModules().filter(([, m]) => m instanceof QuantizedLinear && m.inputScale !== null).map(([n]) => n);
  if (calibrated.length > 0) {
    throw new ValueError(`quantizeStatic: the model is already statically quantized (${calibrated.length} calibrated int8 layer${calibrated.length > 1 ? 's' : ''}, e.g. '${calibrated[0]}'); calibrating twice would measure int8 activations. ` +
      'Fix: reload the fp32 model from its checkpoint and calibrate that once.');
  }
  if (!Array.isArray(calibrationBatches) || calibrationBatches.length === 0) {
    throw new ValueError(`quantizeStatic: the calibration sample is empty (received ${Array.isArray(calibrationBatches) ? 'an empty list' : typeof calibrationBatches}); the activation scales are measured on it. ` +
      'Fix: pass a list of a few batches from the validation split, each the argument list of one model.call, e.g. [[x1], [x2]].');
  }
  calibrationBatches.forEach((b, i) => {
    if (!Array.isArray(b)) throw new ValueError(`quantizeStatic: calibration batch ${i} is ${typeof b}, expected the argument list of one model.call (an array, e.g. [x]).`);
  });
  // quantizeDynamic's own checks first (already quantized, a filter that matches nothing), on a dry selection.
  const raw = options.modules ?? '*';
  const patterns = (Array.isArray(raw) ? raw : [raw]) as NamePattern[];
  const res = patterns.map(toRegExp);
  const chosen = model.namedModules().filter((e): e is [string, Linear] => e[1] instanceof Linear && res.some((re) => re.test(e[0])));

  // 1. Calibrate: max |x| over each chosen layer's inputs (a shared Linear pools all its calls).
  const maxAbs = new Map<Linear, number>();
  const handles = [...new Set(chosen.map(([, l]) => l))].map((l) => l.registerForwardHook((_m, args) => {
    const x = args[0] as Tensor, d = x.data as ArrayLike<number>;
    let m = maxAbs.get(l) ?? 0;
    for (let i = 0; i < d.length; i++) { const a = Math.abs(d[i]); if (a > m) m = a; }
    maxAbs.set(l, m);
  }));
  const wasTraining = model.training;
  try {
    model.eval();
    noGrad(() => { for (const b of calibrationBatches) model.call(...b); });
  } finally {
    for (const h of handles) h.remove();
    if (wasTraining) model.train();
  }
  const unreached = chosen.filter(([, l]) => !maxAbs.has(l)).map(([n]) => n);
  if (unreached.length > 0) {
    throw new ValueError(`quantizeStatic: the calibration sample never ran ${unreached.length} selected layer${unreached.length > 1 ? 's' : ''} (${unreached.slice(0, 3).map((n) => `'${n}'`).join(', ')}${unreached.length > 3 ? ', …' : ''}), so ${unreached.length > 1 ? 'they have' : 'it has'} no input scale. ` +
      'Fix: calibrate on inputs that run them, or leave them out with options.modules (quantizeDynamic quantizes them without calibration).');
  }
  // 2. Convert: the same replacement as quantizeDynamic, then each layer's calibrated scale.
  const scaleOf = new Map<string, number>(chosen.map(([n, l]) => [n, maxAbs.get(l)! > 0 ? maxAbs.get(l)! / 127 : 1]));
  const { modules } = quantizeDynamic(model, options);
  const inputScales: Record<string, number> = {};
  const byName = new Map(model.namedModules());
  for (const n of modules) {
    const q = byName.get(n) as QuantizedLinear;
    const s = Math.fround(scaleOf.get(n)!);
    if (q.inputScale === null) q.setInputScale(s); // a shared layer appears under several names
    inputScales[n] = s;
  }
  return { modules, inputScales, batches: calibrationBatches.length };
}
