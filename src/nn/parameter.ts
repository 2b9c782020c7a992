/**
 * Parameter: a leaf Tensor that a Module owns and an optimizer updates.
 *
 * Assigning a Parameter to a field of a Module registers it under the field's
 * name (see module.ts). It shares storage with the tensor it wraps, so
 * `new Parameter(randn([4, 4]))` copies nothing.
 */
import { Tensor } from '../tensor/tensor.js';

export class Parameter extends Tensor {
  /**
   * Args:
   *   data: the initial values (float32 or float64); storage is shared, not copied.
   *   requiresGrad: whether the optimizer should train it (default true).
   */
  constructor(data: Tensor, requiresGrad = true) {
    super(data.data, data.shape, false);
    this.requiresGrad = requiresGrad;
  }

  override toString(): string {
    return `Parameter(shape=[${this.shape.join(', ')}], dtype=${this.dtype}${this.requiresGrad ? '' : ', frozen'})`;
  }
}
