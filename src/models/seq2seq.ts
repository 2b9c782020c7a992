/**
 * Seq2SeqTransformer: the encoder–decoder Transformer of Vaswani et al. 2017, sized by
 * default for grapheme-to-phoneme conversion (the cmusphinx g2p-seq2seq anchor: 2 layers,
 * 256 wide). Greedy decoding and batched beam search run on per-layer KV caches.
 *
 *   const model = new Seq2SeqTransformer({ srcVocabSize: 30, tgtVocabSize: 45 });
 *   const logits = model.forward(src, tgtIn);                  // (B, T, V)
 *   const { tokens } = model.greedyDecode(src, { bos: 1, eos: 2, maxLen: 40 });
 *   const hyps = model.beamSearch(src, { beamSize: 4, nBest: 3, bos: 1, eos: 2 });
 *
 * Cross-attention maps: wrap greedyDecode (or forward) in nn.AttentionRecorder.record().
 *
 * Letters: B batch, S source length, T target length, D dModel, V target vocabulary, K beam size.
 * Parameter names: srcEmbed.weight, tgtEmbed.weight, [srcPos.weight, tgtPos.weight when learned],
 * encoder.layers.N.*, encoder.norm.*, decoder.layers.N.*, decoder.norm.*, outProj.weight
 * (tied to tgtEmbed.weight by default). PyTorch mapping: tools/fixtures/make_nn_fixtures.py.
 */
import { Tensor } from '../tensor/tensor.js';
import { mul, eq } from '../ops/elementwise.js';
import { logSoftmax } from '../ops/softmax.js';
import { indexSelect } from '../ops/indexing.js';
import { reshape } from '../ops/shape.js';
import { alloc } from '../tensor/dtype.js';
import { tensor } from '../tensor/creation.js';
import { Embedding } from '../nn/embedding.js';
import { Linear } from '../nn/linear.js';
import { LayerNorm } from '../nn/norm.js';
import { Dropout } from '../nn/dropout.js';
import { isPlainDropout, isPlainLinear } from '../nn/residual-ffn.js';
import { isRecording } from '../nn/attention/recorder.js';
import { deferKernels, flushKernels } from '../backend/registry.js';
import { isGradEnabled, noGrad } from '../autograd/mode.js';
import type { Module } from '../nn/module.js';
import { embedPositions } from '../ops/embed-positions.js';
import { SinusoidalPositionalEncoding, LearnedPositionalEmbedding } from '../nn/positional.js';
import { TransformerEncoder, TransformerDecoder, TransformerEncoderLayer, TransformerDecoderLayer, stackRunsFused, type DecoderLayerCache } from '../nn/transformer.js';
import { runEncoder } from './fused-encoder.js';
import { ConfiguredModel, defineModelConfig, type ModelInit } from './config.js';
import { greedyLoop } from './greedy.js';
import { FusedDecoder, type DecoderParts } from './seq2seq-step.js';
import { fusedGreedy, fusedBeamSearch, BeamState } from './seq2seq-search.js';
import { ConfigError, DTypeError, ShapeError, fmtShape } from '../errors.js';

export interface Seq2SeqConfig {
  srcVocabSize: number;
  tgtVocabSize: number;
  dModel: number;
  numHeads: number;
  /** Key/value heads (GQA); 0 means numHeads. */
  numKvHeads: number;
  numEncoderLayers: number;
  numDecoderLayers: number;
  dimFeedforward: number;
  dropout: number;
  activation: 'relu' | 'gelu' | 'gelu_tanh';
  normFirst: boolean;
  layerNormEps: number;
  positional: 'sinusoidal' | 'learned';
  maxLen: number;
  shareEmbeddings: boolean;
  tieOutput: boolean;
  padId: number;
  scaleEmbeddings: boolean;
}

/** Defaults; the vocabulary sizes have none (they come from the data). */
export const SEQ2SEQ_DEFAULTS: Readonly<Omit<Seq2SeqConfig, 'srcVocabSize' | 'tgtVocabSize'>> = Object.freeze({
  dModel: 256, // the g2p-seq2seq anchor's width (≈31% WER on CMUdict)
  numHeads: 4, // head dim 64, the usual size
  numKvHeads: 0, // 0 = numHeads: plain multi-head attention
  numEncoderLayers: 2, // the anchor's depth; words are short, depth buys little
  numDecoderLayers: 2,
  dimFeedforward: 1024, // 4·dModel, as the original Transformer
  dropout: 0.1, // CMUdict is small (≈130k words); the Transformer's default regularization
  activation: 'relu', // PyTorch's default, so parity fixtures need no flag
  normFirst: true, // pre-norm trains stably without a long warmup
  layerNormEps: 1e-5, // PyTorch's default
  positional: 'sinusoidal', // no parameters, extrapolates past training lengths
  maxLen: 64, // longest CMUdict word/pronunciation is < 40 symbols, plus BOS/EOS
  shareEmbeddings: false, // graphemes and phonemes are different vocabularies
  tieOutput: true, // output projection = target embedding: fewer parameters, better on small data
  padId: 0, // the vocab module reserves id 0 for padding
  scaleEmbeddings: true, // embeddings × √dModel, as the paper, to match the positional scale
});

export const SEQ2SEQ_CONFIG = defineModelConfig<Seq2SeqConfig, 'srcVocabSize' | 'tgtVocabSize'>({
  model: 'Seq2SeqTransformer',
  schema: {
    srcVocabSize: 'number', tgtVocabSize: 'number', dModel: 'number', numHeads: 'number', numKvHeads: 'number',
    numEncoderLayers: 'number', numDecoderLayers: 'number', dimFeedforward: 'number', dropout: 'number',
    activation: ['relu', 'gelu', 'gelu_tanh'], normFirst: 'boolean', layerNormEps: 'number',
    positional: ['sinusoidal', 'learned'], maxLen: 'number', shareEmbeddings: 'boolean', tieOutput: 'boolean',
    padId: 'number', scaleEmbeddings: 'boolean',
  },
  defaults: SEQ2SEQ_DEFAULTS,
  positiveInts: ['srcVocabSize', 'tgtVocabSize', 'dModel', 'numHeads', 'numEncoderLayers', 'numDecoderLayers', 'dimFeedforward', 'maxLen'],
  check: (c) => {
    if (c.shareEmbeddings && c.srcVocabSize !== c.tgtVocabSize) {
      throw new ConfigError(`Seq2SeqTransformer: shareEmbeddings needs srcVocabSize === tgtVocabSize, received ${c.srcVocabSize} and ${c.tgtVocabSize}. Fix: build one joint vocabulary or set shareEmbeddings: false.`);
    }
  },
});

export interface Seq2SeqForwardOptions {
  /** (B) int32 true source lengths; positions at or past them are padding. */
  srcLengths?: Tensor | null;
  /** (B, S) bool, true = padding (PyTorch convention). Default: src == padId. */
  srcPaddingMask?: Tensor | null;
  /** (B, T) bool, true = padding. Default none (the causal mask already hides later pads). */
  tgtPaddingMask?: Tensor | null;
}

export interface DecodeOptions {
  bos: number;
  eos: number;
  /** Maximum generated tokens, EOS included (default config.maxLen − 1). */
  maxLen?: number;
  srcLengths?: Tensor | null;
  srcPaddingMask?: Tensor | null;
  /**
   * Decode on the fused step (./seq2seq-step.ts: a few kernel calls per token on buffers reused
   * across tokens) when the model allows it (default true); false runs the decoder module by
   * module (decodeStep), as forward hooks and attention recorders need, and as tests compare.
   */
  fused?: boolean;
}

export interface BeamSearchOptions extends DecodeOptions {
  /** Beams kept per input (default 4). */
  beamSize?: number;
  /** Hypotheses returned per input (default 1, at most beamSize). */
  nBest?: number;
  /** α in score = Σ log p / length^α (default 1; 0 = raw sum, favours short outputs). */
  lengthPenalty?: number;
}

export interface Hypothesis {
  /** Generated ids without BOS and EOS. */
  tokens: number[];
  /** Length-normalized log-probability (Σ log p for greedy). */
  score: number;
}

export class Seq2SeqTransformer extends ConfiguredModel<Seq2SeqConfig> {
  srcEmbed: Embedding;
  tgtEmbed: Embedding;
  srcPos: SinusoidalPositionalEncoding | LearnedPositionalEmbedding;
  tgtPos: SinusoidalPositionalEncoding | LearnedPositionalEmbedding;
  embDropout: Dropout;
  encoder: TransformerEncoder;
  decoder: TransformerDecoder;
  outProj: Linear;

  /** Args: config: srcVocabSize and tgtVocabSize are required; the rest default to SEQ2SEQ_DEFAULTS. */
  constructor(config: ModelInit<Seq2SeqConfig, 'srcVocabSize' | 'tgtVocabSize'>) {
    super(SEQ2SEQ_CONFIG, config);
    const c = this.config;
    const D = c.dModel;
    const layerOpts = { dimFeedforward: c.dimFeedforward, dropout: c.dropout, activation: c.activation, normFirst: c.normFirst, layerNormEps: c.layerNormEps, numKvHeads: c.numKvHeads || c.numHeads };
    this.srcEmbed = new Embedding(c.srcVocabSize, D, { paddingIdx: c.padId });
    this.tgtEmbed = c.shareEmbeddings ? this.srcEmbed : new Embedding(c.tgtVocabSize, D, { paddingIdx: c.padId });
    const makePos = (): SinusoidalPositionalEncoding | LearnedPositionalEmbedding =>
      c.positional === 'learned' ? new LearnedPositionalEmbedding(c.maxLen, D) : new SinusoidalPositionalEncoding(D, c.maxLen);
    this.srcPos = makePos();
    this.tgtPos = makePos();
    this.embDropout = new Dropout(c.dropout);
    const finalNorm = (): LayerNorm | null => (c.normFirst ? new LayerNorm(D, { eps: c.layerNormEps }) : null);
    this.encoder = new TransformerEncoder(c.numEncoderLayers, () => new TransformerEncoderLayer(D, c.numHeads, layerOpts), finalNorm());
    this.decoder = new TransformerDecoder(c.numDecoderLayers, () => new TransformerDecoderLayer(D, c.numHeads, layerOpts), finalNorm());
    this.outProj = new Linear(D, c.tgtVocabSize, { bias: false });
    if (c.tieOutput) this.outProj.weight = this.tgtEmbed.weight;
  }

  /** Rebuilds a model from config.json (unknown keys → ConfigError listing the valid ones). */
  static fromConfig(saved: Record<string, unknown>): Seq2SeqTransformer {
    return new Seq2SeqTransformer(SEQ2SEQ_CONFIG.load(saved));
  }

  /**
   * Teacher-forced logits.
   * Args:
   *   src: (B, S) int32 source ids.  tgtIn: (B, T) int32 target ids starting with BOS.
   * Returns: (B, T, V) logits.
   */
  override forward(src: Tensor, tgtIn: Tensor, o: Seq2SeqForwardOptions = {}): Tensor {
    this.checkIds('src', src, this.config.srcVocabSize);
    const srcPad = this.paddingMask(src, o); // (B, S), computed now: the layers read it in JS
    // With every part on its fused op, the kernel calls of the rest of the forward are queued and run
    // at its end (src/backend/registry.ts deferKernels): the forward's JS then runs in cache.
    const defer = this.runsFused();
    const was = defer ? deferKernels(true) : false;
    try {
      const memory = this.encodeMemory(src, srcPad); // (B, S, D)
      this.checkIds('tgtIn', tgtIn, this.config.tgtVocabSize);
      const y = this.embed(this.tgtEmbed, this.tgtPos, tgtIn, 0); // (B, T, D)
      const h = this.decoder.call(y, memory, { tgtIsCausal: true, tgtKeyPaddingMask: o.tgtPaddingMask, memoryKeyPaddingMask: srcPad }); // (B, T, D)
      return this.outProj.call(h); // (B, T, V)
    } finally {
      if (defer && !was) flushKernels();
    }
  }

  /** src (B, S) → memory (B, S, D) and the (B, S) padding mask (true = pad) used for it. */
  encode(src: Tensor, o: Seq2SeqForwardOptions = {}): { memory: Tensor; srcPad: Tensor } {
    this.checkIds('src', src, this.config.srcVocabSize);
    const srcPad = this.paddingMask(src, o); // (B, S)
    return { memory: this.encodeMemory(src, srcPad), srcPad };
  }

  /** Embeds src and runs the encoder (fused in inference: fused-encoder.ts). (B, S) → (B, S, D). */
  private encodeMemory(src: Tensor, srcPad: Tensor): Tensor {
    const x = this.embed(this.srcEmbed, this.srcPos, src, 0); // (B, S, D)
    return runEncoder(this.encoder, x, { keyPaddingMask: srcPad }); // (B, S, D)
  }

  /**
   * Whether forward runs fused ops only, none of which reads a tensor's values in JS but the masks
   * computed before: gradients on (so the encoder runs its layers, not the inference plan), no
   * attention recorder, the fused embedding path for both sides, both stacks fused throughout
   * (nn/transformer.ts stackRunsFused) and a plain output projection.
   */
  private runsFused(): boolean {
    return isGradEnabled() && !isRecording() && this.embedsFused(this.srcEmbed, this.srcPos) && this.embedsFused(this.tgtEmbed, this.tgtPos) &&
      stackRunsFused(this.encoder) && stackRunsFused(this.decoder) && isPlainLinear(this.outProj);
  }

  private embedsFused(emb: Embedding, pos: SinusoidalPositionalEncoding | LearnedPositionalEmbedding): pos is SinusoidalPositionalEncoding {
    return isPlain(emb, Embedding) && isPlain(pos, SinusoidalPositionalEncoding) && isPlainDropout(this.embDropout);
  }

  /** One decoding step on the caches: tokens (B, 1) at position `offset` → log-probabilities (B, V). */
  decodeStep(tokens: Tensor, memory: Tensor, srcPad: Tensor, caches: DecoderLayerCache[], offset: number): Tensor {
    const y = this.embed(this.tgtEmbed, this.tgtPos, tokens, offset); // (B, 1, D)
    const h = this.decoder.call(y, memory, { tgtIsCausal: true, memoryKeyPaddingMask: srcPad, caches }); // (B, 1, D)
    const V = this.config.tgtVocabSize;
    return reshape(logSoftmax(this.outProj.call(h), -1), [tokens.shape[0], V]); // (B, V)
  }

  /** Greedy decoding: the most probable token at each step until EOS or maxLen. */
  greedyDecode(src: Tensor, o: DecodeOptions): { tokens: number[][]; scores: number[] } {
    return noGrad(() => {
      const { memory, srcPad } = this.encode(src, o); // (B, S, D)
      const B = src.shape[0], V = this.config.tgtVocabSize, maxLen = this.maxSteps(o);
      const fused = o.fused === false ? null : FusedDecoder.tryCreate(this.stepParts(), memory, srcPad, maxLen);
      if (fused !== null) return fusedGreedy(fused, o.bos, o.eos, maxLen);
      const caches = this.decoder.makeCache();
      return greedyLoop(B, V, o.bos, o.eos, maxLen,
        (last, t) => this.decodeStep(tensor(Int32Array.from(last), [B, 1]), memory, srcPad, caches, t).data); // (B, V)
    });
  }

  /**
   * Batched beam search on the KV caches. Returns, per input, up to nBest hypotheses
   * sorted best first, scored Σ log p / length^lengthPenalty (length counts EOS).
   */
  beamSearch(src: Tensor, o: BeamSearchOptions): Hypothesis[][] {
    const K = o.beamSize ?? 4, nBest = Math.min(o.nBest ?? 1, K), alpha = o.lengthPenalty ?? 1;
    if (!Number.isInteger(K) || K <= 0) throw new ConfigError(`beamSearch: beamSize=${K}, expected a positive integer.`);
    return noGrad(() => {
      const enc = this.encode(src, o);
      const B = src.shape[0], V = this.config.tgtVocabSize, maxLen = this.maxSteps(o);
      const fused = o.fused === false ? null : FusedDecoder.tryCreate(this.stepParts(), enc.memory, enc.srcPad, maxLen, K);
      if (fused !== null) return fusedBeamSearch(fused, B, K, nBest, o.bos, o.eos, maxLen, alpha);
      const rep = tensor(Int32Array.from({ length: B * K }, (_, i) => Math.floor(i / K)), [B * K], { dtype: 'int32' });
      const memory = indexSelect(enc.memory, 0, rep); // (B·K, S, D)
      const srcPad = indexSelect(enc.srcPad, 0, rep); // (B·K, S)
      const caches = this.decoder.makeCache();
      const state = new BeamState(B, K), zeroLse = new Float64Array(B * K);
      for (let t = 0; t < maxLen && state.live; t++) {
        const logp = this.decodeStep(tensor(state.lastTokens(o.bos), [B * K, 1]), memory, srcPad, caches, t); // (B·K, V)
        const order = state.advance(logp.data as ArrayLike<number>, zeroLse, (bk) => bk, V, t, maxLen, o.eos, alpha);
        for (const c of caches) c.self.reorder(new Tensor(order, [B * K]));
      }
      return state.results(nBest);
    });
  }

  /** What the fused decoding step reads. */
  private stepParts(): DecoderParts {
    return { decoder: this.decoder, tgtEmbed: this.tgtEmbed, tgtPos: this.tgtPos, outProj: this.outProj, dModel: this.config.dModel, scaleEmbeddings: this.config.scaleEmbeddings };
  }

  private maxSteps(o: DecodeOptions): number {
    const m = o.maxLen ?? this.config.maxLen - 1;
    if (!Number.isInteger(m) || m <= 0 || m > this.config.maxLen) {
      throw new ConfigError(`Seq2SeqTransformer: maxLen=${m}, expected an integer in [1, ${this.config.maxLen}] (the positional table's size, config.maxLen).`);
    }
    return m;
  }

  /**
   * Embeds ids (B, T) at positions offset… → (B, T, D). With plain modules (no hooks, no subclass) and
   * the fixed sinusoidal table, the lookup, × √D, + positions and dropout run as one op
   * (ops/embed-positions.ts: one kernel forward, one backward); otherwise module by module. Both give
   * the same values and gradients and draw the same dropout seed (test/models/seq2seq-embed.test.ts).
   */
  private embed(emb: Embedding, pos: SinusoidalPositionalEncoding | LearnedPositionalEmbedding, ids: Tensor, offset: number): Tensor {
    if (this.embedsFused(emb, pos)) {
      const T = ids.shape[1];
      return embedPositions(ids, emb.weight, {
        scale: this.config.scaleEmbeddings ? Math.sqrt(this.config.dModel) : 1,
        positions: pos.table(T, offset, emb.weight.dtype), offset,
        p: this.embDropout.p, training: this.embDropout.training, paddingIdx: emb.paddingIdx,
      }); // (B, T, D)
    }
    let x = emb.call(ids); // (B, T, D)
    if (this.config.scaleEmbeddings) x = mul(x, Math.sqrt(this.config.dModel)); // (B, T, D)
    return this.embDropout.call(pos.call(x, offset)); // (B, T, D)
  }

  private paddingMask(src: Tensor, o: Seq2SeqForwardOptions): Tensor {
    const [B, S] = src.shape;
    if (o.srcPaddingMask) {
      if (o.srcPaddingMask.dtype !== 'bool' || o.srcPaddingMask.ndim !== 2 || o.srcPaddingMask.shape[0] !== B || o.srcPaddingMask.shape[1] !== S) {
        throw new ShapeError(`Seq2SeqTransformer: srcPaddingMask is ${o.srcPaddingMask.dtype} ${fmtShape(o.srcPaddingMask.shape)}, expected bool [${B}, ${S}] (true = padding).`);
      }
      return o.srcPaddingMask;
    }
    if (o.srcLengths) {
      const len = o.srcLengths;
      if (len.dtype !== 'int32' || len.ndim !== 1 || len.shape[0] !== B) {
        throw new ShapeError(`Seq2SeqTransformer: srcLengths is ${len.dtype} ${fmtShape(len.shape)}, expected int32 [${B}].`);
      }
      const m = alloc('bool', B * S);
      for (let b = 0; b < B; b++) for (let j = len.data[b]; j < S; j++) m[b * S + j] = 1;
      return new Tensor(m, [B, S]); // (B, S)
    }
    return eq(src, this.config.padId); // (B, S)
  }

  private checkIds(name: string, ids: Tensor, vocab: number): void {
    if (ids.dtype !== 'int32') throw new DTypeError(`Seq2SeqTransformer: ${name} must be int32 token ids, received ${ids.dtype}. Fix: build it with { dtype: 'int32' }.`);
    if (ids.ndim !== 2) throw new ShapeError(`Seq2SeqTransformer: ${name} has shape ${fmtShape(ids.shape)}, expected (B, length) with vocabulary ${vocab}.`);
    if (ids.shape[1] > this.config.maxLen) {
      throw new ShapeError(`Seq2SeqTransformer: ${name} has length ${ids.shape[1]}, longer than maxLen=${this.config.maxLen}. Fix: raise maxLen in the config or truncate the input.`);
    }
  }
}

/** m is exactly a `cls` (no subclass) with no forward hooks: its call() is its class's forward. */
function isPlain<M extends Module>(m: Module, cls: abstract new (...args: never[]) => M): m is M {
  return m instanceof cls && Object.getPrototypeOf(m) === cls.prototype && !m.hasForwardHooks;
}
