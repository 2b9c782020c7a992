/**
 * Seq2SeqTransformer.beamSearch against exhaustive search on a tiny vocabulary.
 *
 * The rules beamSearch documents (src/models/seq2seq.ts): a hypothesis ends at EOS (which counts
 * in its length) or after maxLen tokens; its score is Σ log p / length^lengthPenalty. Exhaustive
 * search enumerates every sequence under those rules and scores it with the teacher-forced
 * forward pass (no KV cache), so it checks the cached decoding, the beam bookkeeping and the
 * length normalization at once:
 * - with beamSize ≥ V^maxLen nothing is pruned, so beam search returns every complete sequence,
 *   each with its exact score, and its best is the exhaustive argmax;
 * - with small beams every returned hypothesis still carries the exact score of its tokens.
 *
 * Letters: V target vocabulary (5), N maximum generated tokens (3), B sources (2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { models } from '../../src/index.ts';

const V = 5, N = 3, BOS = 1, EOS = 2;
/** Scores equal up to float32 rounding of two different computations (cached steps vs one forward). */
const TOL = 1e-4;

h.manualSeed(5);
const model = new models.Seq2SeqTransformer({
  srcVocabSize: 7, tgtVocabSize: V, dModel: 16, numHeads: 2, numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 32, dropout: 0, maxLen: 8,
});
model.eval();
// Two sources of different lengths (0 = padding), so the batch and the padding mask are exercised.
const SRC = [[3, 4, 5, 6], [6, 3, 0, 0]];
const src = h.tensor(SRC, undefined, { dtype: 'int32' }); // (B, 4)

interface Scored { tokens: number[]; logp: number; length: number }

/** Every complete sequence under beamSearch's rules, with Σ log p from the teacher-forced forward pass. */
function exhaustive(b: number): Scored[] {
  // Every target prefix of length N − 1 after BOS: the causal decoder's logits at position t
  // depend only on tokens ≤ t, so one forward over all V^(N−1) rows scores every prefix.
  const prefixes: number[][] = [];
  const grow = (p: number[]): void => { if (p.length === N - 1) prefixes.push(p); else for (let v = 0; v < V; v++) grow([...p, v]); };
  grow([]);
  const tgtIn = h.tensor(prefixes.map((p) => [BOS, ...p]), undefined, { dtype: 'int32' }); // (V^(N−1), N)
  const srcRep = h.tensor(prefixes.map(() => SRC[b]), undefined, { dtype: 'int32' }); // (V^(N−1), 4)
  const logp = h.noGrad(() => h.logSoftmax(model.forward(srcRep, tgtIn), -1)); // (V^(N−1), N, V)
  const rowOf = (prefix: number[]): number => prefixes.findIndex((p) => prefix.every((v, i) => p[i] === v));
  const score = (seq: number[]): number => {
    const row = rowOf(seq.slice(0, N - 1));
    return seq.reduce((s, v, t) => s + logp.data[(row * N + t) * V + v], 0);
  };
  const out: Scored[] = [];
  const walk = (prefix: number[]): void => {
    out.push({ tokens: prefix, logp: score([...prefix, EOS]), length: prefix.length + 1 }); // ends with EOS
    for (let v = 0; v < V; v++) {
      if (v === EOS) continue;
      if (prefix.length + 1 === N) out.push({ tokens: [...prefix, v], logp: score([...prefix, v]), length: N }); // cut at N
      else walk([...prefix, v]);
    }
  };
  walk([]);
  return out;
}

const normalized = (s: Scored, alpha: number): number => s.logp / Math.pow(s.length, alpha);
const key = (tokens: number[]): string => tokens.join(',');
const EXHAUSTIVE = [0, 1].map(exhaustive);

test('the exhaustive enumeration has every sequence once: Σ_{t ≤ N} (V − 1)^t of them', () => {
  for (const all of EXHAUSTIVE) {
    assert.equal(all.length, 1 + 4 + 16 + 64);
    assert.equal(new Set(all.map((s) => key(s.tokens))).size, all.length);
    // the probabilities of all complete sequences sum to 1 (a distribution over outputs)
    assert.ok(Math.abs(all.reduce((s, x) => s + Math.exp(x.logp), 0) - 1) < 1e-4);
  }
});

for (const alpha of [0, 0.6, 1]) {
  test(`beam search with beamSize ≥ V^N finds every sequence with its exact score, best first (lengthPenalty ${alpha})`, () => {
    const K = V ** N;
    const hyps = model.beamSearch(src, { bos: BOS, eos: EOS, maxLen: N, beamSize: K, nBest: K, lengthPenalty: alpha });
    for (let b = 0; b < 2; b++) {
      const all = EXHAUSTIVE[b];
      const want = new Map(all.map((s) => [key(s.tokens), normalized(s, alpha)]));
      assert.equal(hyps[b].length, all.length, `input ${b}: every complete sequence is a hypothesis`);
      for (const hyp of hyps[b]) {
        const w = want.get(key(hyp.tokens));
        assert.ok(w !== undefined, `input ${b}: hypothesis [${hyp.tokens}] is not a sequence under the rules`);
        assert.ok(Math.abs(hyp.score - w) < TOL, `input ${b} [${hyp.tokens}]: score ${hyp.score}, exact ${w}`);
      }
      assert.equal(new Set(hyps[b].map((x) => key(x.tokens))).size, hyps[b].length, 'no duplicates');
      const best = Math.max(...want.values());
      assert.ok(Math.abs(hyps[b][0].score - best) < TOL, `input ${b}: best ${hyps[b][0].score}, exhaustive argmax ${best}`);
      for (let i = 1; i < hyps[b].length; i++) assert.ok(hyps[b][i].score <= hyps[b][i - 1].score, 'sorted best first');
    }
  });
}

test('with small beams every n-best hypothesis carries the exact log-probability of its tokens', () => {
  for (const alpha of [0, 1]) {
    for (const K of [1, 2, 3, 6]) {
      const hyps = model.beamSearch(src, { bos: BOS, eos: EOS, maxLen: N, beamSize: K, nBest: K, lengthPenalty: alpha });
      for (let b = 0; b < 2; b++) {
        const want = new Map(EXHAUSTIVE[b].map((s) => [key(s.tokens), normalized(s, alpha)]));
        const best = Math.max(...want.values());
        assert.ok(hyps[b].length >= 1 && hyps[b].length <= K, `K=${K}: ${hyps[b].length} hypotheses`);
        assert.equal(new Set(hyps[b].map((x) => key(x.tokens))).size, hyps[b].length, 'no duplicates');
        for (const [i, hyp] of hyps[b].entries()) {
          const w = want.get(key(hyp.tokens));
          assert.ok(w !== undefined, `K=${K} input ${b}: [${hyp.tokens}] is not a sequence under the rules`);
          assert.ok(Math.abs(hyp.score - w) < TOL, `K=${K} α=${alpha} input ${b} [${hyp.tokens}]: score ${hyp.score}, exact ${w}`);
          assert.ok(hyp.score <= best + TOL, 'no hypothesis beats the exhaustive argmax');
          if (i > 0) assert.ok(hyp.score <= hyps[b][i - 1].score, 'sorted best first');
        }
      }
    }
  }
});
