/**
 * Embedding: a lookup table of learned vectors (torch.nn.Embedding).
 *
 * Letters: N any index dims, V numEmbeddings, D embeddingDim.
 */
import { Tensor, empty } from '../tensor/tensor.js';
import { embedding } from '../ops/indexing.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';
import { normal } from './init.js';
import { checkPositiveInt } from './linear.js';
import { ConfigError } from '../errors.js';

export interface EmbeddingOptions {
  /** This row starts at zero and gets no gradient (padding tokens), as torch's padding_idx. */
  paddingIdx?: number;
}

export class Embedding extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly paddingIdx: number | undefined;
  weight: Parameter;

  /**
   * Args:
   *   numEmbeddings: vocabulary size V.
   *   embeddingDim: vector size D.
   *   options.paddingIdx: row zeroed at init and never updated.
   * Init as PyTorch: N(0, 1).
   */
  constructor(numEmbeddings: number, embeddingDim: number, options: EmbeddingOptions = {}) {
    super();
    checkPositiveInt('Embedding', 'numEmbeddings', numEmbeddings);
    checkPositiveInt('Embedding', 'embeddingDim', embeddingDim);
    let pad = options.paddingIdx;
    if (pad !== undefined) {
      if (!Number.isInteger(pad) || pad < -numEmbeddings || pad >= numEmbeddings) {
        throw new ConfigError(`Embedding: paddingIdx=${pad}, expected an integer in [${-numEmbeddings}, ${numEmbeddings}).`);
      }
      if (pad < 0) pad += numEmbeddings;
    }
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    this.paddingIdx = pad;
    this.weight = new Parameter(normal(empty([numEmbeddings, embeddingDim]))); // (V, D)
    if (pad !== undefined) this.weight.data.fill(0, pad * embeddingDim, (pad + 1) * embeddingDim);
  }

  /**
   * Args:
   *   indices: (N…) int32 in [0, V).
   * Returns: (N…, D).
   */
  override forward(indices: Tensor): Tensor {
    return embedding(indices, this.weight, this.paddingIdx !== undefined ? { paddingIdx: this.paddingIdx } : {}); // (N…, D)
  }
}
