/**
 * channelScale: every channel of every image multiplied by its own gate, the last step of
 * squeeze-and-excitation and CBAM's channel attention.
 *
 *   y[b, c, …] = x[b, c, …] · gate[b, c]
 *   dx[b, c, …] = dy[b, c, …] · gate[b, c],   dgate[b, c] = Σ_… dy[b, c, …] · x[b, c, …]
 *
 * It equals mul(x, gate) with the gate shaped (B, C, 1, …) (test/ops/channel-scale.test.ts),
 * but runs as one kernel each way (channelScaleForward / channelScaleBackward, native where the
 * addon loaded; specs: ../backend/specs/cnn.ts), with no broadcast copy of the gate in the backward.
 *
 * Letters: B batch, C channels, L the positions after the channel dim (H·W).
 */
import { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/node.js';
import { ShapeError, fmtShape } from '../errors.js';
import { requireFloat, emptyFloatTensor, f32 } from './util.js';
import { k } from '../backend/registry.js';

/**
 * Args:
 *   x: (B, C, …)
 *   gate: (B, C) or (B, C, 1, …) — one factor per image and channel.
 * Returns: (B, C, …), the shape of x.
 */
export function channelScale(x: Tensor, gate: Tensor): Tensor {
  requireFloat(x, 'channelScale', 'input');
  requireFloat(gate, 'channelScale', 'gate');
  if (x.ndim < 2 || gate.size !== x.shape[0] * x.shape[1] || gate.shape[0] !== x.shape[0] || gate.shape[1] !== x.shape[1]) {
    throw new ShapeError(`channelScale: input ${fmtShape(x.shape)} and gate ${fmtShape(gate.shape)}; expected the gate to be (B, C) or (B, C, 1, …) for input (B, C, …).`);
  }
  const BC = gate.size, L = BC === 0 ? 0 : x.size / BC;
  const dtype = x.dtype === 'float64' || gate.dtype === 'float64' ? 'float64' : 'float32';
  const y = emptyFloatTensor(dtype, x.shape);
  k.channelScaleForward({ x: f32(x), gate: f32(gate), y: f32(y), rows: BC, L });
  // forward: y = x · gate  →  dx = dy · gate,  dgate = Σ dy · x
  return record(y, 'channelScale', [x, gate], (g) => {
    const dx = x.requiresGrad ? emptyFloatTensor(g.dtype, x.shape) : null;
    const dg = gate.requiresGrad ? emptyFloatTensor(gate.dtype, gate.shape) : null;
    k.channelScaleBackward({ x: f32(x), gate: f32(gate), dy: f32(g), dx: dx ? f32(dx) : null, dGate: dg ? f32(dg) : null, rows: BC, L });
    return [dx, dg];
  });
}
