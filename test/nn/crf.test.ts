/**
 * nn.CRF against brute force: on short sequences every tag path is enumerated, so log Z, the NLL
 * and the Viterbi path are checked against their definitions; the loss gets a float64 gradcheck.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import * as h from '../../src/index.js';

const { nn } = h;

/** Every path of length L over K tags. */
function allPaths(L: number, K: number): number[][] {
  let paths: number[][] = [[]];
  for (let t = 0; t < L; t++) paths = paths.flatMap((p) => Array.from({ length: K }, (_, k) => [...p, k]));
  return paths;
}

/** s(y) = start[y0] + Σ e_t(y_t) + Σ A[y_{t−1}, y_t] + end[y_{L−1}], from plain arrays. */
function pathScore(y: number[], e: ArrayLike<number>, K: number, A: ArrayLike<number>, start: ArrayLike<number>, end: ArrayLike<number>): number {
  let s = start[y[0]] + end[y[y.length - 1]];
  y.forEach((k, t) => {
    s += e[t * K + k];
    if (t > 0) s += A[y[t - 1] * K + k];
  });
  return s;
}

const logSumExp = (xs: number[]) => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((a, x) => a + Math.exp(x - m), 0));
};

function scoresOf(crf: h.nn.CRF) {
  const s = crf.scores();
  return { A: Array.from(s.transitions.data), start: Array.from(s.start.data), end: Array.from(s.end.data) };
}

/** Brute-force NLL of each sequence (b, length lengths[b]) of emissions (B, T, K). */
function bruteNll(crf: h.nn.CRF, emissions: h.Tensor, tags: number[][], lengths: number[]): number[] {
  const [, T, K] = emissions.shape;
  const { A, start, end } = scoresOf(crf);
  return lengths.map((L, b) => {
    const e = Array.from(emissions.data).slice(b * T * K, b * T * K + L * K);
    const logZ = logSumExp(allPaths(L, K).map((y) => pathScore(y, e, K, A, start, end)));
    return logZ - pathScore(tags[b].slice(0, L), e, K, A, start, end);
  });
}

function prefixMask(lengths: number[], T: number): h.Tensor {
  const m = h.zeros([lengths.length, T], { dtype: 'bool' });
  lengths.forEach((L, b) => m.data.fill(1, b * T, b * T + L));
  return m;
}

describe('nn.CRF', () => {
  const K = 3, T = 4;
  const gen = new h.Generator(7);
  h.manualSeed(3);

  it('the NLL equals log Z − s(gold) by enumerating all K^T paths, with padding masked', () => {
    const crf = new nn.CRF(K);
    const emissions = h.randn([3, T, K], { generator: gen });
    const tagRows = [[0, 2, 1, 1], [2, 2, 0, 0], [1, 0, 0, 0]];
    const lengths = [4, 2, 1];
    const tags = h.tensor(tagRows.flat(), [3, T], { dtype: 'int32' });
    const nll = crf.call(emissions, tags, { mask: prefixMask(lengths, T), reduction: 'none' });
    const expected = bruteNll(crf, emissions, tagRows, lengths);
    Array.from(nll.data).forEach((v, b) => assert.ok(Math.abs(v - expected[b]) < 1e-4, `row ${b}: ${v} vs ${expected[b]}`));
    // reductions
    const mean = crf.call(emissions, tags, { mask: prefixMask(lengths, T) }).item();
    assert.ok(Math.abs(mean - expected.reduce((a, b) => a + b) / 3) < 1e-4);
    const tokenMean = crf.call(emissions, tags, { mask: prefixMask(lengths, T), reduction: 'tokenMean' }).item();
    assert.ok(Math.abs(tokenMean - expected.reduce((a, b) => a + b) / 7) < 1e-4);
  });

  it('padding never changes a sequence’s loss', () => {
    const crf = new nn.CRF(K);
    const emissions = h.randn([1, T, K], { generator: gen });
    const tags = h.tensor([1, 2, 0, 0], [1, T], { dtype: 'int32' });
    const padded = crf.call(emissions, tags, { mask: prefixMask([2], T) }).item();
    const short = crf.call(h.narrow(emissions, 1, 0, 2), h.narrow(tags, 1, 0, 2)).item();
    assert.ok(Math.abs(padded - short) < 1e-5);
  });

  it('Viterbi returns the highest-scoring path of the enumeration', () => {
    const crf = new nn.CRF(K);
    const emissions = h.randn([2, T, K], { generator: gen });
    const lengths = [4, 3];
    const decoded = crf.decodeWithScores(emissions, { mask: prefixMask(lengths, T) });
    const { A, start, end } = scoresOf(crf);
    lengths.forEach((L, b) => {
      const e = Array.from(emissions.data).slice(b * T * K, b * T * K + L * K);
      let best = -Infinity, bestPath: number[] = [];
      for (const y of allPaths(L, K)) {
        const s = pathScore(y, e, K, A, start, end);
        if (s > best) [best, bestPath] = [s, y];
      }
      assert.deepEqual(decoded[b].path, bestPath);
      assert.ok(Math.abs(decoded[b].score - best) < 1e-5);
    });
  });

  it('the loss passes a float64 gradcheck in emissions, transitions, start and end', () => {
    const g64 = new h.Generator(11);
    const r = (shape: number[]) => {
      const t = h.randn(shape, { dtype: 'float64', generator: g64 });
      t.requiresGrad = true;
      return t;
    };
    const tags = h.tensor([0, 2, 1, 1, 2, 1, 0, 0], [2, T], { dtype: 'int32' });
    const mask = prefixMask([4, 2], T);
    const result = h.gradcheck(
      (e, A, s, en) => nn.crfNegativeLogLikelihood(e, tags, { transitions: A, start: s, end: en }, { mask, reduction: 'none' }),
      [r([2, T, K]), r([K, K]), r([K]), r([K])],
    );
    assert.ok(result.ok, JSON.stringify(result));
  });

  it('a constrained CRF moved to float64 passes gradcheck through its own parameters', () => {
    const crf = new nn.CRF(3, { constraints: { labels: ['O', 'B-X', 'I-X'], scheme: 'BIO' } }).to('float64');
    const emissions = h.randn([2, 3, 3], { dtype: 'float64', generator: new h.Generator(4) });
    emissions.requiresGrad = true;
    const tags = h.tensor([0, 1, 2, 1, 2, 0], [2, 3], { dtype: 'int32' });
    const params = [crf.transitions, crf.startTransitions, crf.endTransitions];
    assert.ok(params.every((p) => p.dtype === 'float64'));
    const result = h.gradcheck((e) => crf.call(e, tags, { reduction: 'none' }), [emissions, ...params]);
    assert.ok(result.ok, JSON.stringify(result));
  });

  it('training on one sentence makes Viterbi return its tags', () => {
    const crf = new nn.CRF(K);
    const emissions = h.zeros([1, T, K]); // no per-token evidence: only transitions can learn
    const tags = h.tensor([0, 1, 2, 0], [1, T], { dtype: 'int32' });
    const first = crf.call(emissions, tags).item();
    for (let step = 0; step < 200; step++) {
      for (const p of crf.parameters()) p.grad = null;
      crf.call(emissions, tags).backward();
      for (const p of crf.parameters()) for (let i = 0; i < p.size; i++) p.data[i] -= 0.5 * p.grad!.data[i];
    }
    assert.ok(crf.call(emissions, tags).item() < first / 4);
    assert.deepEqual(crf.decode(emissions), [[0, 1, 2, 0]]);
  });

  it('BIO constraints: decode never breaks the scheme, and the loss matches enumeration with the penalties', () => {
    const labels = ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC'];
    const crf = new nn.CRF(5, { constraints: { labels, scheme: 'BIO' } });
    // Emissions that favour I-LOC right after O, which BIO forbids.
    const emissions = h.tensor([[[5, 0, 0, 0, 0], [0, 0, 0, 0, 9], [0, 0, 0, 0, 9]]]);
    const [path] = crf.decode(emissions);
    const tagsOut = path.map((k) => labels[k]);
    assert.deepEqual(h.repairTags(tagsOut, 'BIO'), tagsOut, `decoded ${tagsOut.join(' ')} is not valid BIO`);
    // Brute force over the valid paths only (unconstrained argmax would be O I-LOC I-LOC).
    const allowed = nn.allowedTransitions(labels, 'BIO');
    const valid = (y: number[]) => allowed.start[y[0]] && allowed.end[y[y.length - 1]] && y.every((k, t) => t === 0 || allowed.transitions[y[t - 1]][k]);
    const own = { A: Array.from(crf.transitions.data), start: Array.from(crf.startTransitions.data), end: Array.from(crf.endTransitions.data) };
    let best = -Infinity, bestPath: number[] = [];
    for (const y of allPaths(3, 5).filter(valid)) {
      const s = pathScore(y, emissions.data, 5, own.A, own.start, own.end);
      if (s > best) [best, bestPath] = [s, y];
    }
    assert.deepEqual(path, bestPath);
    assert.deepEqual(tagsOut, ['B-LOC', 'I-LOC', 'I-LOC']);
    const gold = h.tensor([[0, 3, 4]], [1, 3], { dtype: 'int32' });
    const nll = crf.call(emissions, gold).item();
    const [expected] = bruteNll(crf, emissions, [[0, 3, 4]], [3]);
    assert.ok(Math.abs(nll - expected) < 1e-3, `${nll} vs ${expected}`);
  });

  it('rejects bad inputs with the fix', () => {
    const crf = new nn.CRF(K);
    const e = h.zeros([1, 2, K]);
    const tags = h.tensor([0, 1], [1, 2], { dtype: 'int32' });
    assert.throws(() => crf.call(h.zeros([1, 2, 4]), tags), (err: Error) => err instanceof h.ShapeError && /expected \[B, T, 3\]/.test(err.message));
    assert.throws(() => crf.call(e, h.tensor([0, 5], [1, 2], { dtype: 'int32' })), /holds 5 at \(0, 1\), expected 0 ≤ tag < 3/);
    const holey = h.tensor([1, 0, 1], [1, 3], { dtype: 'bool' });
    assert.throws(() => crf.call(h.zeros([1, 3, K]), h.tensor([0, 0, 0], [1, 3], { dtype: 'int32' }), { mask: holey }), /true after a false/);
    assert.throws(() => new nn.CRF(3, { constraints: { labels: ['O', 'B-X'], scheme: 'BIO' } }), /2 tags but numTags=3/);
    const onlyInside = new nn.CRF(1, { constraints: { labels: ['I-X'], scheme: 'BIO' } });
    assert.throws(() => onlyInside.decode(h.zeros([1, 2, 1])), /no path allowed by the BIO constraints/);
  });
});
