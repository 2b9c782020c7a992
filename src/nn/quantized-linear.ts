/**
 * QuantizedLinear: y = x·dequant(Wq)ᵀ + b with int8 weights, for inference (torch.ao.nn.quantized.dynamic.Linear).
 *
 * Dynamic quantization (Jacob et al., 2018; PyTorch's quantize_dynamic):
 *   - the weight is quantized once, symmetric per output channel, sw_o = max_i |W_oi| / 127,
 *     and kept packed in the layout the int8 kernel reads (backend kernel int8PackWeights);
 *   - each row of x is quantized at run time with its own scale sx = max_i |x_i| / 127;
 *   - the int8 dot products are exact int32 sums, so y_o = sx · sw_o · Σ_i qx_i · qw_oi + b_o.
 * The bias stays fp32. Error per output is bounded by the two rounding steps: about
 * |x|·|W_o| · (1/127) relative to the row's largest entries, small for the row-normalized
 * activations of a Transformer (test/compress/quantize-dynamic.test.ts measures it).
 *
 * Forward only: the output of a call on an input that requires grad has a backward that
 * throws, so a training step through a quantized layer fails loudly instead of silently
 * leaving the weights unchanged.
 *
 * The packed weights are held in private fields, outside the state dict. Saving or loading a
 * quantized model is not implemented yet, so stateDict() (and with it saveCheckpoint and
 * loadStateDict) throws a NotImplementedError for a model holding this layer, rather than
 * writing a checkpoint without its weights.
 *
 * Letters: N any leading dims, I inFeatures, O outFeatures.
 */
import { Tensor } from '../tensor/tensor.js';
import { k } from '../backend/registry.js';
import { packedLength } from '../backend/js/int8.js';
import { record } from '../autograd/node.js';
import { requireFloat, emptyFloatTensor, f32 } from '../ops/util.js';
import { Module } from './module.js';
import { Linear } from './linear.js';
import { AutogradError, ShapeError, fmtShape } from '../errors.js';

export class QuantizedLinear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** Packed int8 weights, ⌈O/32⌉·32 · ⌈I/4⌉·4 bytes (layout: src/backend/js/int8.ts). */
  private readonly _packed: Int8Array;
  /** Per-output-channel weight scales (O). */
  private readonly _scales: Float32Array;
  /** Σ_i q_oi per output channel (O), used by the VNNI kernel's unsigned shift. */
  private readonly _colSums: Int32Array;
  /** fp32 bias (O), or null. */
  private readonly _bias: Float32Array | null;

  /**
   * Quantizes and packs a float weight (O, I) once; prefer QuantizedLinear.fromLinear.
   *
   * Args:
   *   weight: (O, I) float tensor; copied, not referenced.
   *   bias: (O) float tensor or null; copied as fp32.
   */
  constructor(weight: Tensor, bias: Tensor | null) {
    super();
    requireFloat(weight, 'QuantizedLinear', 'weight');
    if (weight.ndim !== 2) throw new ShapeError(`QuantizedLinear: weight has shape ${fmtShape(weight.shape)}, expected (outFeatures, inFeatures).`);
    const [outF, inF] = weight.shape;
    if (bias !== null && (bias.ndim !== 1 || bias.shape[0] !== outF)) {
      throw new ShapeError(`QuantizedLinear: bias has shape ${fmtShape(bias.shape)}, expected [${outF}] for weight ${fmtShape(weight.shape)}.`);
    }
    this.inFeatures = inF;
    this.outFeatures = outF;
    this._packed = new Int8Array(packedLength(outF, inF));
    this._scales = new Float32Array(outF);
    this._colSums = new Int32Array(outF);
    k.int8PackWeights({ w: Float32Array.from(weight.data as ArrayLike<number>), packed: this._packed, scales: this._scales, colSums: this._colSums, n: outF, k: inF });
    this._bias = bias === null ? null : Float32Array.from(bias.data as ArrayLike<number>);
  }

  /** The int8 copy of a Linear layer (the Linear itself is left unchanged). */
  static fromLinear(linear: Linear): QuantizedLinear {
    return new QuantizedLinear(linear.weight, linear.bias);
  }

  /** Bytes held: packed int8 weights, scales, column sums and bias. */
  get byteLength(): number {
    return this._packed.byteLength + this._scales.byteLength + this._colSums.byteLength + (this._bias?.byteLength ?? 0);
  }

  /**
   * Args:
   *   x: (N…, I) float.
   * Returns: (N…, O) float32 (float64 input runs on the reference kernel and returns float64).
   */
  override stateDictUnsupported(): string {
    return 'holds packed int8 weights, and saving or loading quantized models is not implemented yet. ' +
      'Fix: save the fp32 model before quantizeDynamic, and quantize again after loading it.';
  }

  override forward(x: Tensor): Tensor {
    requireFloat(x, 'QuantizedLinear', 'input');
    if (x.ndim === 0 || x.shape[x.ndim - 1] !== this.inFeatures) {
      throw new ShapeError(`QuantizedLinear: input has shape ${fmtShape(x.shape)}, expected last dim ${this.inFeatures} (inFeatures). Fix: check the layer sizes or reshape the input.`);
    }
    const rows = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const y = emptyFloatTensor(x.dtype, [...x.shape.slice(0, -1), this.outFeatures]); // (N…, O)
    k.int8GemmPacked({ x: f32(x), packed: this._packed, wScales: this._scales, colSums: this._colSums, out: f32(y), m: rows, n: this.outFeatures, k: this.inFeatures, bias: this._bias });
    return record(y, 'quantizedLinear', [x], () => {
      throw new AutogradError('QuantizedLinear: no gradient; int8 layers are for inference only. ' +
        'Fix: run the quantized model under noGrad(), and fine-tune the fp32 model before quantizeDynamic().');
    });
  }
}
