/**
 * QuantizedLinear: y = x·dequant(Wq)ᵀ + b with int8 weights, for inference (torch.ao.nn.quantized.dynamic.Linear).
 *
 * Dynamic quantization (Jacob et al., 2018; PyTorch's quantize_dynamic):
 *   - the weight is quantized once, symmetric per output channel, sw_o = max_i |W_oi| / 127,
 *     and kept packed in the layout the int8 kernel reads (backend kernel int8PackWeights);
 *   - each row of x is quantized at run time with its own scale sx = max_i |x_i| / 127;
 *   - the int8 dot products are exact int32 sums, so y_o = sx · sw_o · Σ_i qx_i · qw_oi + b_o.
 * Static quantization (quantizeStatic, after calibration) replaces sx by one scale per layer,
 * inputScale = max |x| seen on a calibration sample / 127, for every row (values past ±127·inputScale clamp).
 * The bias stays fp32. Error per output is bounded by the two rounding steps: about
 * |x|·|W_o| · (1/127) relative to the row's largest entries, small for the row-normalized
 * activations of a Transformer (test/compress/quantize-dynamic.test.ts measures it).
 *
 * State dict (what a checkpoint stores, as safetensors I8 + F32):
 *   weight       int8 (O, I)   the quantized values q_oi, row-major as a Linear's weight
 *   weightScale  float32 (O)   sw_o
 *   bias         float32 (O)   absent when the layer has no bias
 *   inputScale   float32 (1)   static quantization only: the calibrated activation scale
 * The packed copy the kernel reads is derived from weight after construction and after every
 * loadStateDict (afterLoadStateDict), so a saved and reloaded layer computes the same outputs bit
 * for bit: the stored int8 values and scales are used as they are, never re-quantized.
 *
 * Forward only: the output of a call on an input that requires grad has a backward that
 * throws, so a training step through a quantized layer fails loudly instead of silently
 * leaving the weights unchanged.
 *
 * Letters: N any leading dims, I inFeatures, O outFeatures.
 */
import { Tensor } from '../tensor/tensor.js';
import { k } from '../backend/registry.js';
import { packedLength, packQuantizedWeights } from '../backend/js/int8.js';
import { record } from '../autograd/node.js';
import { requireFloat, emptyFloatTensor, f32 } from '../ops/util.js';
import { Module } from './module.js';
import { Linear } from './linear.js';
import { AutogradError, ShapeError, ValueError, fmtShape } from '../errors.js';

export class QuantizedLinear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** Quantized weight values q_oi (O, I), int8; a buffer, saved in the state dict. */
  weight!: Tensor;
  /** Per-output-channel weight scales sw_o (O), float32; a buffer. */
  weightScale!: Tensor;
  /** fp32 bias (O), or null; a buffer. */
  bias!: Tensor | null;
  /** Static quantization: the calibrated activation scale (1), float32, a buffer; null = dynamic (each row its own scale). */
  inputScale!: Tensor | null;
  /** weight in the layout the int8 kernel reads, ⌈O/32⌉·32 · ⌈I/4⌉·4 bytes (layout: src/backend/js/int8.ts). */
  private readonly _packed: Int8Array;
  /** Σ_i q_oi per output channel (O), used by the VNNI kernel's unsigned shift. */
  private readonly _colSums: Int32Array;

  /**
   * Quantizes a float weight (O, I) per output channel and packs it once; prefer QuantizedLinear.fromLinear.
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
    const q = new Int8Array(outF * inF);
    const scales = new Float32Array(outF);
    k.quantizePerChannel({ w: Float32Array.from(weight.data as ArrayLike<number>), q, scales, n: outF, k: inF });
    this.registerBuffer('weight', new Tensor(q, [outF, inF])); // (O, I) int8
    this.registerBuffer('weightScale', new Tensor(scales, [outF])); // (O)
    if (bias === null) this.bias = null;
    else this.registerBuffer('bias', new Tensor(Float32Array.from(bias.data as ArrayLike<number>), [outF])); // (O)
    this.inputScale = null;
    this._packed = new Int8Array(packedLength(outF, inF));
    this._colSums = new Int32Array(outF);
    this.repack();
  }

  /** The int8 copy of a Linear layer (the Linear itself is left unchanged). */
  static fromLinear(linear: Linear): QuantizedLinear {
    const q = new QuantizedLinear(linear.weight, linear.bias);
    q.training = linear.training; // a replacement keeps the layer's mode (an eval model stays all-eval)
    return q;
  }

  /**
   * Makes the layer static: every input row is quantized with `scale` (the calibrated max |x| / 127)
   * instead of its own. Once per layer (quantizeStatic calls it after calibrating).
   */
  setInputScale(scale: number): void {
    if (!(Number.isFinite(scale) && scale > 0)) throw new ValueError(`QuantizedLinear.setInputScale: scale ${scale}, expected a finite number > 0 (max |x| / 127 of a calibration sample).`);
    if (this.inputScale !== null) {
      throw new ValueError(`QuantizedLinear.setInputScale: the layer already has a calibrated input scale (${(this.inputScale.data as Float32Array)[0]}). Fix: calibrate the fp32 model once (quantizeStatic); to recalibrate, reload the fp32 model and quantize that.`);
    }
    this.registerBuffer('inputScale', new Tensor(Float32Array.of(scale), [1])); // (1)
  }

  /** Bytes held: int8 weights (plain and packed), scales, column sums and bias. */
  get byteLength(): number {
    return this.weight.size + this._packed.byteLength + 4 * this.weightScale.size + this._colSums.byteLength + 4 * (this.bias?.size ?? 0);
  }

  /** Bytes a checkpoint stores for this layer: int8 weights, fp32 scales and bias. */
  get storedBytes(): number {
    return this.weight.size + 4 * this.weightScale.size + 4 * (this.bias?.size ?? 0);
  }

  /**
   * The packed weights and column sums int8GemmPacked reads, for callers that run the kernel
   * themselves (the fused decoding step). Views, not copies: read them, never write them; they
   * are repacked in place when a state dict is loaded.
   */
  get packedWeights(): { packed: Int8Array; colSums: Int32Array; scales: Float32Array; xScale: number } {
    return { packed: this._packed, colSums: this._colSums, scales: this.weightScale.data as Float32Array, xScale: this.xScale };
  }

  /** The kernel's xScale: the static input scale, or 0 (each row its own scale). */
  get xScale(): number {
    return this.inputScale === null ? 0 : (this.inputScale.data as Float32Array)[0];
  }

  /** Re-derives the packed copy from the (reloaded) int8 weight. */
  override afterLoadStateDict(): void {
    this.repack();
  }

  private repack(): void {
    packQuantizedWeights(this.weight.data as Int8Array, this._packed, this._colSums, this.outFeatures, this.inFeatures);
  }

  /**
   * Args:
   *   x: (N…, I) float.
   * Returns: (N…, O) float32 (float64 input runs on the reference kernel and returns float64).
   */
  override forward(x: Tensor): Tensor {
    requireFloat(x, 'QuantizedLinear', 'input');
    if (x.ndim === 0 || x.shape[x.ndim - 1] !== this.inFeatures) {
      throw new ShapeError(`QuantizedLinear: input has shape ${fmtShape(x.shape)}, expected last dim ${this.inFeatures} (inFeatures). Fix: check the layer sizes or reshape the input.`);
    }
    const rows = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const y = emptyFloatTensor(x.dtype, [...x.shape.slice(0, -1), this.outFeatures]); // (N…, O)
    const bias = this.bias === null ? null : (this.bias.data as Float32Array);
    k.int8GemmPacked({ x: f32(x), packed: this._packed, wScales: this.weightScale.data as Float32Array, colSums: this._colSums, out: f32(y), m: rows, n: this.outFeatures, k: this.inFeatures, bias, activation: 0, residual: null, xScale: this.xScale });
    return record(y, 'quantizedLinear', [x], () => {
      throw new AutogradError('QuantizedLinear: no gradient; int8 layers are for inference only. ' +
        'Fix: run the quantized model under noGrad(), and fine-tune the fp32 model before quantizeDynamic().');
    });
  }
}
