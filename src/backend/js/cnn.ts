/**
 * Reference batch normalization (optionally with a fused ReLU), max pooling and the per-channel
 * rescaling of squeeze-and-excitation
 * (specs: ../specs/cnn.ts). Plain loops with float64 accumulators; they also run on float64
 * storage, so the ops built on them gradcheck in double precision.
 */
import type { Params } from '../table.js';

export function batchNormForward(p: Params<'batchNormForward'>): void {
  const { x, weight, bias, y, mean, invstd, B, C, L } = p, N = B * L;
  if (p.training) {
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let b = 0; b < B; b++) for (let i = (b * C + c) * L, e = i + L; i < e; i++) s += x[i];
      const m = s / N;
      let ss = 0;
      for (let b = 0; b < B; b++) for (let i = (b * C + c) * L, e = i + L; i < e; i++) { const d = x[i] - m; ss += d * d; }
      mean[c] = m;
      invstd[c] = 1 / Math.sqrt(ss / N + p.eps);
    }
  }
  for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) {
    const scale = invstd[c] * (weight ? weight[c] : 1), shift = (bias ? bias[c] : 0) - mean[c] * scale;
    for (let i = (b * C + c) * L, e = i + L; i < e; i++) {
      const v = x[i] * scale + shift;
      y[i] = p.relu && !(v > 0) ? 0 : v;
    }
  }
}

export function batchNormBackward(p: Params<'batchNormBackward'>): void {
  const { x, dy, y, weight, mean, invstd, dx, dWeight, dBias, B, C, L } = p, N = B * L;
  const g = (i: number) => (y && !(y[i] > 0) ? 0 : dy[i]); // the ReLU's mask, when fused
  for (let c = 0; c < C; c++) {
    const m = mean[c], is = invstd[c], k = is * (weight ? weight[c] : 1);
    let sg = 0, sgx = 0;
    for (let b = 0; b < B; b++) for (let i = (b * C + c) * L, e = i + L; i < e; i++) { const gi = g(i); sg += gi; sgx += gi * (x[i] - m) * is; }
    if (dWeight) dWeight[c] = sgx;
    if (dBias) dBias[c] = sg;
    const mg = sg / N, mgx = sgx / N;
    for (let b = 0; b < B; b++) for (let i = (b * C + c) * L, e = i + L; i < e; i++) {
      dx[i] = p.training ? k * (g(i) - mg - (x[i] - m) * is * mgx) : k * g(i);
    }
  }
}

export function maxPoolForward(p: Params<'maxPoolForward'>): void {
  const { x, y, argmax, planes, H, W, Ho, Wo, kh, kw, strideH, strideW, padH, padW } = p;
  for (let pl = 0; pl < planes; pl++) for (let oh = 0; oh < Ho; oh++) for (let ow = 0; ow < Wo; ow++) {
    const h0 = oh * strideH - padH, w0 = ow * strideW - padW;
    let best = -Infinity, at = -1;
    for (let i = Math.max(h0, 0); i < Math.min(h0 + kh, H); i++) {
      for (let j = Math.max(w0, 0); j < Math.min(w0 + kw, W); j++) {
        const v = x[pl * H * W + i * W + j];
        // strict '>' keeps the first maximum; a NaN wins, so it propagates as in PyTorch
        if (v > best || Number.isNaN(v) || at < 0) { best = v; at = i * W + j; if (Number.isNaN(v)) { i = H; break; } }
      }
    }
    y[(pl * Ho + oh) * Wo + ow] = best;
    argmax[(pl * Ho + oh) * Wo + ow] = at;
  }
}

export function maxPoolBackward(p: Params<'maxPoolBackward'>): void {
  const { dy, argmax, dx, planes, H, W, Ho, Wo } = p;
  dx.fill(0);
  for (let pl = 0; pl < planes; pl++) for (let o = pl * Ho * Wo; o < (pl + 1) * Ho * Wo; o++) dx[pl * H * W + argmax[o]] += dy[o];
}

export function channelScaleForward(p: Params<'channelScaleForward'>): void {
  const { x, gate, y, rows, L } = p;
  for (let r = 0; r < rows; r++) {
    const s = gate[r];
    for (let i = r * L, e = i + L; i < e; i++) y[i] = x[i] * s;
  }
}

export function channelScaleBackward(p: Params<'channelScaleBackward'>): void {
  const { x, gate, dy, dx, dGate, rows, L } = p;
  for (let r = 0; r < rows; r++) {
    const s = gate[r];
    let acc = 0;
    for (let i = r * L, e = i + L; i < e; i++) {
      if (dx) dx[i] = dy[i] * s;
      acc += dy[i] * x[i];
    }
    if (dGate) dGate[r] = acc;
  }
}

export function cbamPoolForward(p: Params<'cbamPoolForward'>): void {
  const { x, fc1W, fc1B, fc2W, fc2B, spatialW, y, mean, B, C, H, W, R, ks, pool, Ho, Wo } = p;
  const L = H * W, half = (ks - 1) / 2;
  const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
  const mlp = (d: number[]): number[] => {
    const h = Array.from({ length: R }, (_, r) => {
      let s = fc1B ? fc1B[r] : 0;
      for (let c = 0; c < C; c++) s += fc1W[r * C + c] * d[c];
      return Math.max(s, 0);
    });
    return Array.from({ length: C }, (_, c) => {
      let s = fc2B ? fc2B[c] : 0;
      for (let r = 0; r < R; r++) s += fc2W[c * R + r] * h[r];
      return s;
    });
  };
  for (let b = 0; b < B; b++) {
    const at = (c: number, q: number) => x[(b * C + c) * L + q];
    // channel gate from the average- and max-pooled descriptors
    const avg: number[] = [], mx: number[] = [];
    for (let c = 0; c < C; c++) {
      let s = 0, m = -Infinity;
      for (let q = 0; q < L; q++) { s += at(c, q); m = Math.max(m, at(c, q)); }
      avg.push(s / L);
      mx.push(m);
    }
    const ma = mlp(avg), mm = mlp(mx);
    const gate = ma.map((v, c) => sigmoid(v + mm[c]));
    // spatial gate from the channel mean and max of x · gate
    const maps = new Float64Array(2 * L);
    for (let q = 0; q < L; q++) {
      let s = 0, m = -Infinity;
      for (let c = 0; c < C; c++) { const v = at(c, q) * gate[c]; s += v; m = Math.max(m, v); }
      maps[q] = s / C;
      maps[L + q] = m;
    }
    const sGate = new Float64Array(L);
    for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
      let s = 0;
      for (let m = 0; m < 2; m++) for (let i = 0; i < ks; i++) {
        const yy = h + i - half;
        if (yy < 0 || yy >= H) continue;
        for (let j = 0; j < ks; j++) {
          const xx = w + j - half;
          if (xx >= 0 && xx < W) s += spatialW[(m * ks + i) * ks + j] * maps[m * L + yy * W + xx];
        }
      }
      sGate[h * W + w] = sigmoid(s);
    }
    // gated map, max-pooled over pool × pool windows
    for (let c = 0; c < C; c++) {
      let total = 0;
      for (let oh = 0; oh < Ho; oh++) for (let ow = 0; ow < Wo; ow++) {
        let m = -Infinity;
        for (let i = 0; i < pool; i++) for (let j = 0; j < pool; j++) {
          const q = (oh * pool + i) * W + ow * pool + j;
          m = Math.max(m, at(c, q) * gate[c] * sGate[q]);
        }
        y[((b * C + c) * Ho + oh) * Wo + ow] = m;
        total += m;
      }
      if (mean) mean[b * C + c] = total / (Ho * Wo);
    }
  }
}
