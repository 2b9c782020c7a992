/**
 * channelScale: every channel of every image multiplied by its own gate, the last step of
 * squeeze-and-excitation and CBAM's channel attention.
 *
 *   y[b, c, …] = x[b, c, …] · gate[b, c]
 *   dx[b, c, …] = dy[b, c, …] · gate[b, c],   dgate[b, c] = Σ_… dy[b, c, …] · x[b, c, …]
 *
 * It equals mul(x, gate) with the gate shaped (B, C, 1, …) (test/ops/channel-scale.test.ts),
 * but runs as one loop each way, with no broadcast copy of the gate in the backward.
 *
 * Letters: B batch, C channels, L the positions after the channel dim (H·W).
 */
import { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/node.js';
import { ShapeError, fmtShape } from '../errors.js';
import { requireFloat, emptyFloatTensor, floatTensor } from './util.js';

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
  const y = emptyFloatTensor(dtype, x.shape), xd = x.data, gd = gate.data, yd = y.data;
  for (let r = 0; r < BC; r++) {
    const s = gd[r];
    for (let i = r * L, e = i + L; i < e; i++) yd[i] = xd[i] * s;
  }
  return record(y, 'channelScale', [x, gate], (g) => {
    const dx = emptyFloatTensor(g.dtype, x.shape), dg = floatTensor(gate.dtype, gate.shape), dd = g.data;
    for (let r = 0; r < BC; r++) {
      const s = gd[r];
      let acc = 0;
      for (let i = r * L, e = i + L; i < e; i++) { dx.data[i] = dd[i] * s; acc += dd[i] * xd[i]; }
      dg.data[r] = acc;
    }
    return [dx, dg];
  });
}
