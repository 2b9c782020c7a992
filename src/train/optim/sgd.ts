/**
 * SGD with momentum, Nesterov momentum and (coupled, L2) weight decay — torch.optim.SGD:
 *
 *   g ← g + λ·p
 *   b ← μ·b + (1 − dampening)·g          (b ← g on the first step)
 *   g ← g + μ·b   (Nesterov)   or   g ← b
 *   p ← p − lr·g
 */
import type { Tensor } from '../../tensor/tensor.js';
import { ValueError } from '../../errors.js';
import { Optimizer, type ParamsInput, requireNumber } from './optimizer.js';

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

type SGDHyper = Required<SGDOptions> & Record<string, number | boolean>;

export class SGD extends Optimizer<SGDHyper> {
  constructor(params: ParamsInput, options: SGDOptions) {
    super(params, { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...options } as SGDHyper, 'SGD');
  }

  protected validate(h: SGDHyper): void {
    requireNumber('SGD', 'lr', h.lr, 0);
    requireNumber('SGD', 'momentum', h.momentum, 0);
    requireNumber('SGD', 'dampening', h.dampening, 0);
    requireNumber('SGD', 'weightDecay', h.weightDecay, 0);
    if (h.nesterov && (h.momentum <= 0 || h.dampening !== 0)) {
      throw new ValueError(`SGD: nesterov=true requires momentum > 0 and dampening = 0, received momentum=${h.momentum}, dampening=${h.dampening}.`);
    }
  }

  protected update(p: Tensor, grad: Float32Array | Float64Array, h: SGDHyper, st: { step: number; buffers: Record<string, Float32Array> }): void {
    const x = p.data as Float32Array;
    const { lr, momentum, dampening, weightDecay, nesterov } = h;
    let buf = st.buffers.momentumBuffer;
    const first = buf === undefined;
    if (momentum !== 0 && first) buf = st.buffers.momentumBuffer = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) {
      let d = grad[i] + weightDecay * x[i];
      if (momentum !== 0) {
        const b = first ? d : momentum * buf[i] + (1 - dampening) * d;
        buf[i] = b;
        d = nesterov ? d + momentum * b : b;
      }
      x[i] = x[i] - lr * d;
    }
  }
}
