/**
 * LstmAttentionSeq2Seq: the pre-Transformer baseline (Luong et al. 2015): an LSTM encoder,
 * an LSTM decoder started from the encoder's final state, and global attention after the
 * decoder: h̃_t = tanh(Wc [h_t; c_t]), logits = Wo h̃_t, with c_t = attention(h_t, encoder states).
 *
 * Padding: sources are right-padded with padId. The encoder runs each source only up to its
 * last real token (as torch's pack_padded_sequence), so the state the decoder starts from,
 * and so the output, does not depend on how much padding the batch added.
 *
 *   const m = new LstmAttentionSeq2Seq({ srcVocabSize: 30, tgtVocabSize: 45 });
 *   const logits = m.forward(src, tgtIn);                     // (B, T, V)
 *   const { tokens } = m.greedyDecode(src, { bos: 1, eos: 2, maxLen: 30 });
 *
 * Letters: B batch, S source length, T target length, E embedDim, H hiddenSize, V target vocabulary.
 */
import { Tensor } from '../tensor/tensor.js';
import { eq, tanh } from '../ops/elementwise.js';
import { cat, narrow } from '../ops/shape.js';
import { indexSelect } from '../ops/indexing.js';
import { logSoftmax } from '../ops/softmax.js';
import { noGrad } from '../autograd/mode.js';
import { tensor, zeros } from '../tensor/creation.js';
import { Embedding } from '../nn/embedding.js';
import { Linear } from '../nn/linear.js';
import { Dropout } from '../nn/dropout.js';
import { LSTM, type LSTMState } from '../nn/lstm.js';
import { LuongAttention } from '../nn/attention/luong.js';
import { AdditiveAttention } from '../nn/attention/additive.js';
import { ConfiguredModel, defineModelConfig, type ModelInit } from './config.js';
import { greedyLoop } from './greedy.js';

export interface LstmSeq2SeqConfig {
  srcVocabSize: number;
  tgtVocabSize: number;
  embedDim: number;
  hiddenSize: number;
  numLayers: number;
  attention: 'dot' | 'general' | 'concat' | 'additive';
  dropout: number;
  padId: number;
}

export const LSTM_SEQ2SEQ_DEFAULTS: Readonly<Omit<LstmSeq2SeqConfig, 'srcVocabSize' | 'tgtVocabSize'>> = Object.freeze({
  embedDim: 128, // symbol vocabularies are tiny; 128 is plenty
  hiddenSize: 256, // matches the Transformer baseline's width for a fair comparison
  numLayers: 1, // g2p LSTMs gain little from depth
  attention: 'general', // Luong's best-performing global score
  dropout: 0.2, // LSTMs overfit CMUdict faster than Transformers
  padId: 0, // the vocab module reserves id 0 for padding
});

export const LSTM_SEQ2SEQ_CONFIG = defineModelConfig<LstmSeq2SeqConfig, 'srcVocabSize' | 'tgtVocabSize'>({
  model: 'LstmAttentionSeq2Seq',
  schema: {
    srcVocabSize: 'number', tgtVocabSize: 'number', embedDim: 'number', hiddenSize: 'number', numLayers: 'number',
    attention: ['dot', 'general', 'concat', 'additive'], dropout: 'number', padId: 'number',
  },
  defaults: LSTM_SEQ2SEQ_DEFAULTS,
  positiveInts: ['srcVocabSize', 'tgtVocabSize', 'embedDim', 'hiddenSize', 'numLayers'],
});

export class LstmAttentionSeq2Seq extends ConfiguredModel<LstmSeq2SeqConfig> {
  srcEmbed: Embedding;
  tgtEmbed: Embedding;
  encoder: LSTM;
  decoder: LSTM;
  attn: LuongAttention | AdditiveAttention;
  combine: Linear;
  drop: Dropout;
  outProj: Linear;

  /** Args: config: srcVocabSize and tgtVocabSize are required; the rest default to LSTM_SEQ2SEQ_DEFAULTS. */
  constructor(config: ModelInit<LstmSeq2SeqConfig, 'srcVocabSize' | 'tgtVocabSize'>) {
    super(LSTM_SEQ2SEQ_CONFIG, config);
    const c = this.config;
    const H = c.hiddenSize;
    this.srcEmbed = new Embedding(c.srcVocabSize, c.embedDim, { paddingIdx: c.padId });
    this.tgtEmbed = new Embedding(c.tgtVocabSize, c.embedDim, { paddingIdx: c.padId });
    this.encoder = new LSTM(c.embedDim, H, { numLayers: c.numLayers, dropout: c.dropout });
    this.decoder = new LSTM(c.embedDim, H, { numLayers: c.numLayers, dropout: c.dropout });
    this.attn = c.attention === 'additive' ? new AdditiveAttention(H, H, H) : new LuongAttention(c.attention, H, H, H);
    this.combine = new Linear(2 * H, H, { bias: false });
    this.drop = new Dropout(c.dropout);
    this.outProj = new Linear(H, c.tgtVocabSize);
  }

  /** Rebuilds a model from a saved config (config.json's `model`). */
  static fromConfig(saved: Record<string, unknown>): LstmAttentionSeq2Seq {
    return new LstmAttentionSeq2Seq(LSTM_SEQ2SEQ_CONFIG.load(saved));
  }

  /** src (B, S) → encoder states (B, S, H), final state, and the (B, S) padding mask (true = pad). */
  encode(src: Tensor): { memory: Tensor; state: LSTMState; srcPad: Tensor } {
    const srcPad = eq(src, this.config.padId); // (B, S)
    const x = this.drop.call(this.srcEmbed.call(src)); // (B, S, E)
    const [B, S] = src.shape;
    const groups = rowsByLength(srcPad);
    if (groups.size === 1 && groups.has(S)) {
      const { output, h, c } = this.encoder.call(x); // (B, S, H)
      return { memory: output, state: { h, c }, srcPad };
    }
    // One encoder run per source length, on the rows of that length cut to it; then the rows
    // go back to their places. Memory past a row's length is zero (attention masks it anyway).
    const outs: Tensor[] = [], hs: Tensor[] = [], cs: Tensor[] = [], order: number[] = [];
    for (const [len, rows] of groups) {
      const idx = tensor(Int32Array.from(rows), [rows.length], { dtype: 'int32' });
      const r = this.encoder.call(narrow(indexSelect(x, 0, idx), 1, 0, len)); // (n, len, H)
      const H = r.output.shape[2];
      outs.push(len === S ? r.output : cat([r.output, zeros([rows.length, S - len, H], { dtype: r.output.dtype })], 1)); // (n, S, H)
      hs.push(r.h); // (N, n, H)
      cs.push(r.c); // (N, n, H)
      order.push(...rows);
    }
    const inverse = new Int32Array(B);
    order.forEach((row, i) => { inverse[row] = i; });
    const back = tensor(inverse, [B], { dtype: 'int32' });
    return {
      memory: indexSelect(cat(outs, 0), 0, back), // (B, S, H)
      state: { h: indexSelect(cat(hs, 1), 1, back), c: indexSelect(cat(cs, 1), 1, back) }, // (N, B, H)
      srcPad,
    };
  }

  /** Decoder steps for tgt ids (B, T) from a state → logits (B, T, V) and the new state. */
  decode(tgt: Tensor, memory: Tensor, srcPad: Tensor, state: LSTMState): { logits: Tensor; state: LSTMState } {
    const dec = this.decoder.call(this.drop.call(this.tgtEmbed.call(tgt)), state); // (B, T, H)
    const ctx = this.attn.call(dec.output, memory, memory, { keyPaddingMask: srcPad }).output; // (B, T, H)
    const hTilde = tanh(this.combine.call(cat([dec.output, ctx], -1))); // (B, T, H)
    return { logits: this.outProj.call(this.drop.call(hTilde)), state: { h: dec.h, c: dec.c } }; // (B, T, V)
  }

  /** Teacher-forced logits: src (B, S), tgtIn (B, T) int32 → (B, T, V). */
  override forward(src: Tensor, tgtIn: Tensor): Tensor {
    const enc = this.encode(src);
    return this.decode(tgtIn, enc.memory, enc.srcPad, enc.state).logits; // (B, T, V)
  }

  /** Greedy decoding until EOS or maxLen; tokens exclude BOS and EOS. */
  greedyDecode(src: Tensor, o: { bos: number; eos: number; maxLen: number }): { tokens: number[][]; scores: number[] } {
    return noGrad(() => {
      const B = src.shape[0], V = this.config.tgtVocabSize;
      const enc = this.encode(src);
      let state = enc.state;
      return greedyLoop(B, V, o.bos, o.eos, o.maxLen, (last) => {
        const step = this.decode(tensor(Int32Array.from(last), [B, 1]), enc.memory, enc.srcPad, state);
        state = step.state;
        return logSoftmax(step.logits, -1).data; // (B, 1, V)
      });
    });
  }
}

/**
 * Rows grouped by source length, the position after their last real token (at least 1, so a
 * row of padding only still runs one step): pad (B, S) bool → length → row indices.
 */
function rowsByLength(pad: Tensor): Map<number, number[]> {
  const [B, S] = pad.shape;
  const groups = new Map<number, number[]>();
  for (let b = 0; b < B; b++) {
    let len = S;
    while (len > 1 && pad.data[b * S + len - 1]) len--;
    const rows = groups.get(len);
    if (rows) rows.push(b); else groups.set(len, [b]);
  }
  return groups;
}
