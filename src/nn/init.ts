/**
 * Parameter initializers, in place, with PyTorch's formulas (torch.nn.init).
 * Every draw comes from the global generator (manualSeed) unless one is passed.
 *
 * Fans of a weight (out, in, *kernel): fanIn = in·∏kernel, fanOut = out·∏kernel.
 *
 *   manualSeed(0);
 *   xavierUniform(linear.weight);
 */
import type { Tensor } from '../tensor/tensor.js';
import { defaultGenerator, type Generator } from '../tensor/rng.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';

export type Nonlinearity = 'linear' | 'conv1d' | 'conv2d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';

export interface InitOptions {
  generator?: Generator;
}

/** (fanIn, fanOut) of a weight of at least 2 dims, as torch's _calculate_fan_in_and_fan_out. */
export function calculateFans(t: Tensor): [number, number] {
  if (t.ndim < 2) {
    throw new ShapeError(`init: fan in and fan out need a tensor of at least 2 dims, received shape ${fmtShape(t.shape)}. Fix: use uniform/normal/zeros for biases.`);
  }
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return [t.shape[1] * receptive, t.shape[0] * receptive];
}

/** The recommended gain for a nonlinearity, as torch.nn.init.calculate_gain. */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear': case 'conv1d': case 'conv2d': case 'sigmoid': return 1;
    case 'tanh': return 5 / 3;
    case 'relu': return Math.SQRT2;
    case 'leaky_relu': { const a = param ?? 0.01; return Math.sqrt(2 / (1 + a * a)); }
    case 'selu': return 3 / 4;
    default: throw new ValueError(`calculateGain: unknown nonlinearity '${String(nonlinearity)}', expected one of linear, conv1d, conv2d, sigmoid, tanh, relu, leaky_relu, selu.`);
  }
}

/** Fills with U(low, high). */
export function uniform(t: Tensor, low = 0, high = 1, o: InitOptions = {}): Tensor {
  const g = o.generator ?? defaultGenerator;
  for (let i = 0; i < t.size; i++) t.data[i] = low + (high - low) * g.uniform();
  return t;
}

/** Fills with N(mean, std²). */
export function normal(t: Tensor, mean = 0, std = 1, o: InitOptions = {}): Tensor {
  const g = o.generator ?? defaultGenerator;
  for (let i = 0; i < t.size; i++) t.data[i] = mean + std * g.normal();
  return t;
}

/** Fills with N(mean, std²) redrawn until inside [a, b] (absolute bounds, as torch.nn.init.trunc_normal_). */
export function truncNormal(t: Tensor, mean = 0, std = 1, a = -2, b = 2, o: InitOptions = {}): Tensor {
  if (!(a < b)) throw new ValueError(`truncNormal: bounds a=${a}, b=${b}, expected a < b.`);
  const g = o.generator ?? defaultGenerator;
  for (let i = 0; i < t.size; i++) {
    let v = mean + std * g.normal();
    for (let tries = 0; (v < a || v > b) && tries < 1000; tries++) v = mean + std * g.normal();
    t.data[i] = Math.min(b, Math.max(a, v));
  }
  return t;
}

export function constant(t: Tensor, value: number): Tensor {
  t.data.fill(value);
  return t;
}

export function zeros(t: Tensor): Tensor {
  return constant(t, 0);
}

export function ones(t: Tensor): Tensor {
  return constant(t, 1);
}

/** U(−a, a) with a = gain·√(6 / (fanIn + fanOut)) (Glorot & Bengio 2010). */
export function xavierUniform(t: Tensor, gain = 1, o: InitOptions = {}): Tensor {
  const [fi, fo] = calculateFans(t);
  const a = gain * Math.sqrt(6 / (fi + fo));
  return uniform(t, -a, a, o);
}

/** N(0, std²) with std = gain·√(2 / (fanIn + fanOut)). */
export function xavierNormal(t: Tensor, gain = 1, o: InitOptions = {}): Tensor {
  const [fi, fo] = calculateFans(t);
  return normal(t, 0, gain * Math.sqrt(2 / (fi + fo)), o);
}

export interface KaimingOptions extends InitOptions {
  /** Negative slope of the leaky ReLU after this layer (torch's a). */
  a?: number;
  mode?: 'fanIn' | 'fanOut';
  nonlinearity?: Nonlinearity;
}

function kaimingStd(t: Tensor, o: KaimingOptions): number {
  const [fi, fo] = calculateFans(t);
  const fan = (o.mode ?? 'fanIn') === 'fanIn' ? fi : fo;
  return calculateGain(o.nonlinearity ?? 'leaky_relu', o.a ?? 0) / Math.sqrt(fan);
}

/** U(−bound, bound) with bound = √3·gain/√fan (He et al. 2015). */
export function kaimingUniform(t: Tensor, o: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(t, o);
  return uniform(t, -bound, bound, o);
}

/** N(0, (gain/√fan)²). */
export function kaimingNormal(t: Tensor, o: KaimingOptions = {}): Tensor {
  return normal(t, 0, kaimingStd(t, o), o);
}
