/**
 * ONNX exporters for the recurrent layers (nn/lstm.ts, nn/gru.ts) and the LSTM sequence-to-sequence
 * model with Luong / Bahdanau attention (models/lstm-seq2seq.ts).
 *
 *   LSTM                  model:  x (B, T, I) float32 → output (B, T, Dn·H), h, c (N·Dn, B, H)
 *   GRU                   model:  x (B, T, I) float32 → output (B, T, Dn·H), h (N·Dn, B, H)
 *   LstmAttentionSeq2Seq  encoder: src_ids (B, S) → memory (B, S, H), memory_key_padding_mask (B, S) bool, h, c (N, B, H)
 *                         decoder: input_ids (B, T), memory, memory_key_padding_mask, h, c
 *                                  → logits (B, T, V), h_out, c_out (N, B, H)  (one or more steps)
 *
 * Each layer is one ONNX LSTM / GRU node (time-major, as the operator wants), so runtimes use their
 * fused recurrent kernels. The weights are PyTorch's, re-ordered into ONNX's gate order:
 *   LSTM  PyTorch i, f, g, o → ONNX i, o, f, c
 *   GRU   PyTorch r, z, n    → ONNX z, r, h, with linear_before_reset = 1 (PyTorch applies r to
 *         h·W_hnᵀ + b_hn, after the linear map, which is ONNX's linear_before_reset)
 * The encoder passes each source's length (after its last real token, at least 1) as
 * sequence_lens, exactly as LstmAttentionSeq2Seq.encode runs each row only up to its length.
 *
 * Letters: B batch, T / S time, I input size, H hidden size, G gates, N layers, Dn directions, V vocabulary.
 */
import { OnnxGraph } from '../../io/onnx/graph.js';
import type { Module } from '../../nn/module.js';
import type { Parameter } from '../../nn/parameter.js';
import { LSTM } from '../../nn/lstm.js';
import { GRU } from '../../nn/gru.js';
import { RNNBase } from '../../nn/rnn.js';
import { LuongAttention } from '../../nn/attention/luong.js';
import { AdditiveAttention } from '../../nn/attention/additive.js';
import { LstmAttentionSeq2Seq } from '../../models/lstm-seq2seq.js';
import { expectModule, unsupported, linearOnnx, embeddingOnnx, dropoutOnnx, dimOf } from './layers.js';
import { finish, type OnnxGraphFile } from './graph-file.js';

/** For each ONNX gate block, the PyTorch block it comes from. */
const GATE_ORDER = { LSTM: [0, 3, 1, 2], GRU: [1, 0, 2] } as const;

/** Rows of a (G·H, ·) weight (or a (G·H) bias) re-ordered block by block. */
function reorderGates(src: Float32Array, order: readonly number[], H: number): Float32Array {
  const rowLen = src.length / (order.length * H), out = new Float32Array(src.length), block = H * rowLen;
  order.forEach((from, to) => out.set(src.subarray(from * block, (from + 1) * block), to * block));
  return out;
}

/**
 * An LSTM or GRU (every layer and direction): x (B, T, I) (or (T, B, I) without batchFirst) →
 * output and each state component's final value (N·Dn, B, H). `initial`: one (N·Dn, B, H) value
 * per state component (h, and c for an LSTM), or null for zeros. `lengths`: (B) int32 or null.
 */
export function recurrentOnnx(g: OnnxGraph, m: Module, path: string, x: string, initial: string[] | null, lengths: string | null): { output: string; finals: string[] } {
  const kind = m.constructor === LSTM ? 'LSTM' : m.constructor === GRU ? 'GRU' : null;
  if (kind === null) expectModule(m, LSTM, path); // throws, naming the module
  const rnn = m as RNNBase, H = rnn.hiddenSize, Dn = rnn.numDirections, order = GATE_ORDER[kind!];
  const param = (name: string): Parameter | null => (rnn as unknown as Record<string, Parameter | undefined>)[name] ?? null;
  const sfx = Dn === 2 ? ['', 'Reverse'] : [''];
  const finals: string[][] = (kind === 'LSTM' ? [[], []] : [[]]);
  let seq = rnn.batchFirst ? g.node('Transpose', [x], { perm: { ints: [1, 0, 2] } }) : x; // (T, B, I)
  for (let l = 0; l < rnn.numLayers; l++) {
    g.scoped(`${path}.l${l}`, () => {
      const stack = (name: string): { data: Float32Array; dims: number[] } => {
        const parts = sfx.map((s) => param(`${name}L${l}${s}`)!);
        const data = new Float32Array(parts.reduce((a, p) => a + p.size, 0));
        let at = 0;
        for (const p of parts) { data.set(reorderGates(p.data as Float32Array, order, H), at); at += p.size; }
        return { data, dims: [Dn, ...parts[0].shape] };
      };
      const W = stack('weightIh'), R = stack('weightHh');
      const w = g.initializer(`${path}.weightIhL${l}.onnx`, W.data, W.dims), r = g.initializer(`${path}.weightHhL${l}.onnx`, R.data, R.dims);
      let b = '';
      if (param(`biasIhL${l}`)) {
        const bi = stack('biasIh'), bh = stack('biasHh'), G = order.length * H, both = new Float32Array(Dn * 2 * G);
        for (let d = 0; d < Dn; d++) { both.set(bi.data.subarray(d * G, (d + 1) * G), d * 2 * G); both.set(bh.data.subarray(d * G, (d + 1) * G), d * 2 * G + G); }
        b = g.initializer(`${path}.biasL${l}.onnx`, both, [Dn, 2 * G]);
      }
      const init = (initial ?? []).map((s) => g.node('Slice', [s, g.int64([l * Dn]), g.int64([(l + 1) * Dn]), g.int64([0])])); // each (Dn, B, H)
      const attrs = { hidden_size: { i: H }, direction: { s: Dn === 2 ? 'bidirectional' : 'forward' }, ...(kind === 'GRU' ? { linear_before_reset: { i: 1 } } : {}) };
      const inputs = [seq, w, r, b, lengths ?? '', ...(initial ? init : [])];
      const outs = g.nodeN(kind!, inputs, kind === 'LSTM' ? 3 : 2, attrs); // Y (T, Dn, B, H), Y_h, [Y_c] (Dn, B, H)
      outs.slice(1).forEach((s, i) => finals[i].push(s));
      seq = g.node('Reshape', [g.node('Transpose', [outs[0]], { perm: { ints: [0, 2, 1, 3] } }), g.int64([0, 0, -1])]); // (T, B, Dn·H)
    });
  }
  const output = rnn.batchFirst ? g.node('Transpose', [seq], { perm: { ints: [1, 0, 2] } }) : seq; // (B, T, Dn·H)
  return { output, finals: finals.map((f) => (f.length === 1 ? f[0] : g.node('Concat', f, { axis: { i: 0 } }))) }; // each (N·Dn, B, H)
}

/** A bare LSTM or GRU as its own graph (zero initial state). */
export function recurrentModuleOnnx(m: LSTM | GRU): OnnxGraphFile[] {
  const kind = m.constructor.name, H = m.hiddenSize, N = m.numLayers * m.numDirections;
  const g = new OnnxGraph(kind);
  const x = g.input('x', 'float32', m.batchFirst ? ['batch', 'sequence', m.inputSize] : ['sequence', 'batch', m.inputSize]);
  const r = recurrentOnnx(g, m, '', x, null, null);
  g.output('output', r.output, 'float32', m.batchFirst ? ['batch', 'sequence', m.numDirections * H] : ['sequence', 'batch', m.numDirections * H]);
  ['h', 'c'].slice(0, r.finals.length).forEach((n, i) => g.output(n, r.finals[i], 'float32', [N, 'batch', H]));
  return [finish(g, 'model', `heed ${kind} (PyTorch gate order re-ordered to ONNX's); zero initial state`)];
}

/** Luong ('dot', 'general', 'concat') or additive attention with padded keys masked: → context (B, L, Dv). */
function simpleAttentionOnnx(g: OnnxGraph, m: Module, path: string, query: string, keys: string, pad: string): string {
  return g.scoped(path, () => {
    let scores: string; // (B, L, S)
    const keysT = (k: string): string => g.node('Transpose', [k], { perm: { ints: [0, 2, 1] } });
    if (m.constructor === AdditiveAttention) {
      const a = m as AdditiveAttention;
      const q = g.node('Unsqueeze', [linearOnnx(g, a.queryProj, `${path}.queryProj`, query), g.int64([2])]); // (B, L, 1, A)
      const k = g.node('Unsqueeze', [linearOnnx(g, a.keyProj, `${path}.keyProj`, keys), g.int64([1])]); // (B, 1, S, A)
      scores = g.node('Squeeze', [linearOnnx(g, a.v, `${path}.v`, g.node('Tanh', [g.node('Add', [q, k])])), g.int64([3])]); // (B, L, S)
    } else {
      const a = expectModule(m, LuongAttention, path);
      if (a.score === 'dot') scores = g.node('MatMul', [query, keysT(keys)]);
      else if (a.score === 'general') scores = g.node('MatMul', [query, keysT(linearOnnx(g, a.W, `${path}.W`, keys))]);
      else {
        const one = g.int64([1]);
        const qe = g.node('Expand', [g.node('Unsqueeze', [query, g.int64([2])]), g.node('Concat', [one, one, dimOf(g, keys, 1), one], { axis: { i: 0 } })]); // (B, L, S, Dq)
        const ke = g.node('Expand', [g.node('Unsqueeze', [keys, g.int64([1])]), g.node('Concat', [one, dimOf(g, query, 1), one, one], { axis: { i: 0 } })]); // (B, L, S, Dk)
        const h = g.node('Tanh', [linearOnnx(g, a.W, `${path}.W`, g.node('Concat', [qe, ke], { axis: { i: -1 } }))]); // (B, L, S, A)
        scores = g.node('Squeeze', [linearOnnx(g, a.v, `${path}.v`, h), g.int64([3])]); // (B, L, S)
      }
    }
    const masked = g.node('Where', [g.node('Unsqueeze', [pad, g.int64([1])]), g.float(-Infinity), scores]); // (B, L, S)
    return g.node('MatMul', [g.node('Softmax', [masked], { axis: { i: -1 } }), keys]); // (B, L, Dv): values = keys
  });
}

export function lstmSeq2SeqOnnx(model: LstmAttentionSeq2Seq): OnnxGraphFile[] {
  const c = model.config, H = c.hiddenSize, N = c.numLayers;
  for (const [name, rnn] of [['encoder', model.encoder], ['decoder', model.decoder]] as const) {
    if (rnn.numDirections !== 1 || !rnn.batchFirst) unsupported(name, 'LSTM', 'a bidirectional or time-major layer inside LstmAttentionSeq2Seq');
  }

  // Encoder: each source runs up to its length (after the last real token, at least 1).
  const e = new OnnxGraph('LstmSeq2SeqEncoder');
  const src = e.input('src_ids', 'int32', ['batch', 'src_sequence']);
  const srcPad = e.node('Equal', [src, e.int32([c.padId], [])]); // (B, S)
  const S = e.node('Cast', [e.node('Squeeze', [dimOf(e, src, 1), e.int64([0])])], { to: { i: 6 } }); // () int32
  const after = e.node('Range', [e.int32([1], []), e.node('Add', [S, e.int32([1], [])]), e.int32([1], [])]); // (S): 1…S
  const real = e.node('Cast', [e.node('Not', [srcPad])], { to: { i: 6 } }); // (B, S) int32
  const lengths = e.node('Max', [e.node('ReduceMax', [e.node('Mul', [real, after])], { axes: { ints: [1] }, keepdims: { i: 0 } }), e.int32([1], [])]); // (B)
  const x = dropoutOnnx(model.drop, 'drop', embeddingOnnx(e, model.srcEmbed, 'srcEmbed', src)); // (B, S, E)
  const enc = recurrentOnnx(e, model.encoder, 'encoder', x, null, lengths);
  e.output('memory', enc.output, 'float32', ['batch', 'src_sequence', H]);
  e.output('memory_key_padding_mask', srcPad, 'bool', ['batch', 'src_sequence']);
  e.output('h', enc.finals[0], 'float32', [N, 'batch', H]);
  e.output('c', enc.finals[1], 'float32', [N, 'batch', H]);

  // Decoder steps from a state: logits and the next state.
  const d = new OnnxGraph('LstmSeq2SeqDecoder');
  const ids = d.input('input_ids', 'int32', ['batch', 'sequence']);
  const memory = d.input('memory', 'float32', ['batch', 'src_sequence', H]);
  const pad = d.input('memory_key_padding_mask', 'bool', ['batch', 'src_sequence']);
  const h0 = d.input('h', 'float32', [N, 'batch', H]), c0 = d.input('c', 'float32', [N, 'batch', H]);
  const dec = recurrentOnnx(d, model.decoder, 'decoder', dropoutOnnx(model.drop, 'drop', embeddingOnnx(d, model.tgtEmbed, 'tgtEmbed', ids)), [h0, c0], null); // (B, T, H)
  const ctx = simpleAttentionOnnx(d, model.attn, 'attn', dec.output, memory, pad); // (B, T, H)
  const hTilde = d.node('Tanh', [linearOnnx(d, model.combine, 'combine', d.node('Concat', [dec.output, ctx], { axis: { i: -1 } }))]); // (B, T, H)
  d.output('logits', linearOnnx(d, model.outProj, 'outProj', dropoutOnnx(model.drop, 'drop', hTilde)), 'float32', ['batch', 'sequence', c.tgtVocabSize]);
  d.output('h_out', dec.finals[0], 'float32', [N, 'batch', H]);
  d.output('c_out', dec.finals[1], 'float32', [N, 'batch', H]);
  return [
    finish(e, 'encoder', `heed LstmAttentionSeq2Seq encoder; padding = src_ids == ${c.padId}`),
    finish(d, 'decoder', 'heed LstmAttentionSeq2Seq decoder: start from the encoder\'s h, c; feed h_out, c_out back for the next step'),
  ];
}
