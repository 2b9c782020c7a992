/**
 * Training-time image augmentation on (B, C, H, W) float batches, seeded by the caller's
 * generator so that a run repeats:
 *
 *   shiftImages(x, s, rng)   each image moved by (dy, dx) ∈ [−s, s]², zero-filled (a random crop of the
 *                            image padded by s, as torchvision's RandomCrop(padding=s))
 *   flipImages(x, p, rng)    each image mirrored left–right with probability p (RandomHorizontalFlip)
 *
 * Letters: B images, C channels, H W size.
 */
import { Tensor } from '../tensor/tensor.js';
import type { Generator } from '../tensor/rng.js';
import { ShapeError, fmtShape } from '../errors.js';

function dims(op: string, x: Tensor): [number, number, number, number] {
  if (x.ndim !== 4) throw new ShapeError(`${op}: images have shape ${fmtShape(x.shape)}, expected (B, C, H, W).`);
  return x.shape as [number, number, number, number];
}

/** Each image shifted by a random (dy, dx) in [−s, s]², the uncovered border zero. */
export function shiftImages(x: Tensor, s: number, rng: Generator): Tensor {
  const [B, C, H, W] = dims('shiftImages', x);
  const out = new Float32Array(x.size), src = x.data;
  for (let b = 0; b < B; b++) {
    const dy = rng.randint(2 * s + 1) - s, dx = rng.randint(2 * s + 1) - s;
    const x0 = Math.max(0, dx), x1 = Math.min(W, W + dx); // destination columns that have a source
    for (let c = 0; c < C; c++) {
      const plane = (b * C + c) * H * W;
      for (let r = Math.max(0, dy); r < Math.min(H, H + dy); r++) {
        const from = plane + (r - dy) * W - dx;
        for (let col = x0; col < x1; col++) out[plane + r * W + col] = src[from + col];
      }
    }
  }
  return new Tensor(out, x.shape);
}

/** Each image mirrored left–right with probability p. */
export function flipImages(x: Tensor, p: number, rng: Generator): Tensor {
  const [B, C, H, W] = dims('flipImages', x);
  const out = Float32Array.from(x.data as Float32Array), src = x.data;
  for (let b = 0; b < B; b++) {
    if (rng.uniform() >= p) continue;
    for (let row = b * C * H; row < (b + 1) * C * H; row++) {
      for (let col = 0; col < W; col++) out[row * W + col] = src[row * W + W - 1 - col];
    }
  }
  return new Tensor(out, x.shape);
}
