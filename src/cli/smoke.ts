/**
 * A tiny end-to-end run: a one-layer causal self-attention model on random tokens,
 * one training step, the loss before and after. Stands in for the demo until the
 * G2P task lands.
 */
import * as h from '../index.js';

export async function runSmokeDemo(): Promise<number> {
  h.manualSeed(0);
  const V = 16, D = 32, T = 12, B = 4, H = 4;
  const param = (shape: number[], std: number) => h.mul(h.randn(shape), std).detach();
  const emb = param([V, D], 0.1), wqkv = param([3 * D, D], 0.1), wo = param([D, D], 0.1), head = param([V, D], 0.1);
  const params = [emb, wqkv, wo, head];
  for (const p of params) p.requiresGrad = true;
  const tokens = h.randint(0, V, [B, T + 1]);
  const inputs = h.narrow(tokens, 1, 0, T), targets = h.narrow(tokens, 1, 1, T);
  const forward = () => {
    const x = h.embedding(inputs, emb); // (B, T, D)
    const qkv = h.linear(x, wqkv).reshape([B, T, 3, H, D / H]).permute([2, 0, 3, 1, 4]); // (3, B, H, T, hd)
    const [q, k, v] = h.split(qkv, 1, 0).map((t) => h.squeeze(t, 0));
    const a = h.scaledDotProductAttention(q, k, v, { isCausal: true }).transpose(1, 2).reshape([B, T, D]);
    const y = h.add(x, h.linear(a, wo));
    return h.crossEntropy(h.linear(y, head).reshape([B * T, V]), targets.reshape([B * T]));
  };
  const loss0 = forward();
  loss0.backward();
  h.noGrad(() => { for (const p of params) p.data.set(h.sub(p, h.mul(p.grad!, 0.5)).data); });
  const loss1 = forward();
  console.log(`heed smoke run: causal attention model, ${params.reduce((n, p) => n + p.size, 0)} parameters`);
  console.log(`loss before one SGD step: ${loss0.item().toFixed(4)}  after: ${loss1.item().toFixed(4)}`);
  return 0;
}
