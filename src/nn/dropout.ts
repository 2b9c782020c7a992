/**
 * Dropout: zeroes elements with probability p while training, identity in eval mode.
 * Seeded by the global generator (manualSeed).
 */
import { Tensor } from '../tensor/tensor.js';
import { dropout } from '../ops/dropout.js';
import { Module } from './module.js';
import { ConfigError } from '../errors.js';

export class Dropout extends Module {
  readonly p: number;

  constructor(p = 0.5) {
    super();
    if (!(p >= 0 && p < 1)) throw new ConfigError(`Dropout: p=${p}, expected a probability in [0, 1).`);
    this.p = p;
  }

  /** x (any shape) → same shape. */
  override forward(x: Tensor): Tensor {
    return dropout(x, this.p, { training: this.training }); // (same as x)
  }
}
