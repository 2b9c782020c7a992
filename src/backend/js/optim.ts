/**
 * Reference fused AdamW step over flat parameter, gradient and moment buffers,
 * updated in place (PyTorch's torch.optim.AdamW, decoupled weight decay):
 *   p ← p − lr·wd·p
 *   m ← β1 m + (1 − β1) g,   v ← β2 v + (1 − β2) g²
 *   p ← p − lr · (m / (1 − β1^step)) / (sqrt(v / (1 − β2^step)) + eps)
 * step counts from 1.
 */
import type { Params } from '../table.js';
export function adamwStep({ param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step }: Params<'adamwStep'>): void {
  const bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
  for (let i = 0; i < param.length; i++) {
    const g = grad[i];
    let p = param[i];
    p -= lr * weightDecay * p;
    const mi = beta1 * m[i] + (1 - beta1) * g;
    const vi = beta2 * v[i] + (1 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] = p - lr * (mi / bc1) / (Math.sqrt(vi / bc2) + eps);
  }
}
