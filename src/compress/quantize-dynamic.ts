/**
 * quantizeDynamic: replaces a model's Linear layers, in place, by int8 QuantizedLinear
 * layers (torch.ao.quantization.quantize_dynamic). Weights are quantized per output
 * channel and packed once, here; activations are quantized per row at every call.
 *
 *   const model = heed.models.buildModel(...);            // trained, fp32
 *   const { modules } = heed.quantizeDynamic(model);       // every Linear → int8
 *   heed.quantizeDynamic(model2, { modules: 'encoder.*' }); // only the encoder's Linears
 *   const y = heed.noGrad(() => model.call(x));
 *
 * Attention projections (qProj, kProj, vProj, outProj) are Linear layers, so they are
 * covered. The quantized model is for inference: its backward throws.
 */
import { Module, ModuleList, toRegExp, type NamePattern } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { QuantizedLinear } from '../nn/quantized-linear.js';
import { ValueError } from '../errors.js';

export interface QuantizeDynamicOptions {
  /**
   * Which Linear layers to quantize, by dotted module name: a glob ('encoder.*', '*Proj'),
   * a RegExp, or a list of them (a name matching any is quantized). Default: every Linear.
   */
  modules?: NamePattern | readonly NamePattern[];
}

export interface QuantizeDynamicResult {
  /** Dotted names of the layers replaced, in module order. */
  modules: string[];
  /** Bytes of the replaced fp32 weights and biases. */
  fp32Bytes: number;
  /** Bytes held by their int8 replacements (int8 weights plain and packed, scales, column sums, fp32 biases). */
  int8Bytes: number;
}

/** The parent module and field (or ModuleList index) under which each named module sits. */
function parentOf(model: Module, name: string): [Module, string] {
  const dot = name.lastIndexOf('.');
  const parentName = dot < 0 ? '' : name.slice(0, dot);
  const parent = model.namedModules().find(([n]) => n === parentName)![1];
  return [parent, name.slice(dot + 1)];
}

/**
 * Replaces the selected Linear layers of `model` by QuantizedLinear, in place.
 *
 * Args:
 *   model: any Module holding Linear layers (not a Linear itself: use QuantizedLinear.fromLinear).
 *   options.modules: which layers, by dotted name (default all).
 * Returns: the names replaced and the weight bytes before and after.
 * Throws: ValueError when the model is already quantized, or when the filter matches no Linear.
 */
export function quantizeDynamic(model: Module, options: QuantizeDynamicOptions = {}): QuantizeDynamicResult {
  if (!(model instanceof Module)) throw new ValueError(`quantizeDynamic: expected a Module, received ${model === null ? 'null' : typeof model}.`);
  if (model instanceof Linear) {
    throw new ValueError('quantizeDynamic: the model is a single Linear, which cannot be replaced in place. Fix: use nn.QuantizedLinear.fromLinear(layer).');
  }
  const named = model.namedModules();
  const already = named.filter(([, m]) => m instanceof QuantizedLinear).map(([n]) => n);
  if (already.length > 0) {
    throw new ValueError(`quantizeDynamic: the model is already quantized (${already.length} QuantizedLinear layer${already.length > 1 ? 's' : ''}, e.g. '${already[0]}'). ` +
      'Fix: quantize the fp32 model once; to change which layers are quantized, reload the fp32 model from its checkpoint and quantize that.');
  }
  const linears = named.filter((e): e is [string, Linear] => e[1] instanceof Linear);
  const raw = options.modules ?? '*';
  const patterns = (Array.isArray(raw) ? raw : [raw]) as NamePattern[];
  const res = patterns.map(toRegExp);
  const chosen = linears.filter(([n]) => res.some((re) => re.test(n)));
  if (chosen.length === 0) {
    const names = linears.map(([n]) => n);
    throw new ValueError(`quantizeDynamic: modules ${patterns.map(String).join(', ')} match no Linear layer. ` +
      (names.length === 0 ? 'The model has no Linear layers.' : `Its Linear layers are named like ${names.slice(0, 4).map((n) => `'${n}'`).join(', ')}${names.length > 4 ? ', …' : ''}. Fix: use a glob ('encoder.*') or a RegExp.`));
  }
  // A Linear shared by two parents gets one QuantizedLinear, shared the same way.
  const replacement = new Map<Linear, QuantizedLinear>();
  let fp32Bytes = 0, int8Bytes = 0;
  for (const [name, lin] of chosen) {
    let q = replacement.get(lin);
    if (!q) {
      q = QuantizedLinear.fromLinear(lin);
      replacement.set(lin, q);
      fp32Bytes += 4 * (lin.weight.size + (lin.bias?.size ?? 0));
      int8Bytes += q.byteLength;
    }
    const [parent, field] = parentOf(model, name);
    if (parent instanceof ModuleList && /^\d+$/.test(field)) parent.set(Number(field), q);
    else (parent as unknown as Record<string, Module>)[field] = q;
  }
  return { modules: chosen.map(([n]) => n), fp32Bytes, int8Bytes };
}
