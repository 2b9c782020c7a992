/**
 * BPRMF: matrix factorisation trained with Bayesian Personalized Ranking (Rendle et al., UAI 2009),
 * the classic non-sequential baseline of SASRec's paper. A user u and an item i meet in a dot
 * product plus an item bias; BPR pushes each consumed item above a sampled unconsumed one:
 *
 *   x̂_ui = p_u · q_i + b_i          loss = −log σ(x̂_u,pos − x̂_u,neg)
 *
 * It ignores order: a user's factors summarize the whole train part.
 *
 * Letters: B triples in a batch, U users, N items (item rows N + 1, row 0 = padding), D dim.
 */
import { Tensor, empty } from '../tensor/tensor.js';
import { add, mul, sub } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { matmul } from '../ops/matmul.js';
import { embedding } from '../ops/indexing.js';
import { reshape, transpose } from '../ops/shape.js';
import { binaryCrossEntropyWithLogits } from '../ops/loss.js';
import { zeros } from '../tensor/creation.js';
import { Parameter } from '../nn/parameter.js';
import { normal } from '../nn/init.js';
import { ConfiguredModel, defineModelConfig, type ModelInit } from './config.js';

export interface BPRMFConfig {
  numUsers: number;
  numItems: number;
  dim: number;
}

export const BPRMF_CONFIG = defineModelConfig<BPRMFConfig, 'numUsers' | 'numItems'>({
  model: 'BPRMF',
  schema: { numUsers: 'number', numItems: 'number', dim: 'number' },
  defaults: Object.freeze({ dim: 64 }), // the width of the SASRec it is compared with
  positiveInts: ['numUsers', 'numItems', 'dim'],
});

export class BPRMF extends ConfiguredModel<BPRMFConfig> {
  userEmbed: Parameter;
  itemEmbed: Parameter;
  itemBias: Parameter;

  constructor(config: ModelInit<BPRMFConfig, 'numUsers' | 'numItems'>) {
    super(BPRMF_CONFIG, config);
    const c = this.config;
    this.userEmbed = new Parameter(normal(empty([c.numUsers, c.dim]), 0, 0.1)); // (U, D)
    this.itemEmbed = new Parameter(normal(empty([c.numItems + 1, c.dim]), 0, 0.1)); // (N + 1, D)
    this.itemBias = new Parameter(zeros([c.numItems + 1, 1])); // (N + 1, 1)
  }

  /** users, items (B,) int32 → x̂ (B,). */
  override forward(users: Tensor, items: Tensor): Tensor {
    const [B] = users.shape;
    const dot = sum(mul(embedding(users, this.userEmbed), embedding(items, this.itemEmbed)), -1); // (B,)
    return add(dot, reshape(embedding(items, this.itemBias), [B])); // (B,)
  }

  /**
   * The mean BPR loss of (user, positive, negative) triples, each (B,) int32, plus BPR's L2 term
   * λ·(‖p_u‖² + ‖q_pos‖² + ‖q_neg‖²) on the factors the batch touches (averaged over the batch).
   */
  loss(users: Tensor, pos: Tensor, neg: Tensor, l2 = 0): Tensor {
    const diff = sub(this.forward(users, pos), this.forward(users, neg)); // (B,)
    const bpr = binaryCrossEntropyWithLogits(diff, new Tensor(new Float32Array(diff.size).fill(1), diff.shape)); // ()
    if (l2 === 0) return bpr;
    const sq = (t: Tensor) => sum(mul(t, t)); // ()
    const reg = add(add(sq(embedding(users, this.userEmbed)), sq(embedding(pos, this.itemEmbed))), sq(embedding(neg, this.itemEmbed))); // ()
    return add(bpr, mul(reg, l2 / diff.size));
  }

  /** users (B,) int32 → scores of every item (B, N + 1). */
  scoreAll(users: Tensor): Tensor {
    const s = matmul(embedding(users, this.userEmbed), transpose(this.itemEmbed, 0, 1)); // (B, N + 1)
    return add(s, reshape(this.itemBias, [1, this.config.numItems + 1])); // (B, N + 1)
  }
}
