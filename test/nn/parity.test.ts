/**
 * PyTorch parity: outputs and every parameter gradient of heed's layers and of a small
 * Seq2SeqTransformer against golden values from tools/fixtures/make_nn_fixtures.py.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { nn, models } from '../../src/index.ts';
import { TOL, load, T, maxErr, check } from './parity-helpers.ts';

const report: Record<string, number> = {};

const modules = { mha: new nn.MultiheadAttention(8, 2) };
test('MultiheadAttention with key padding and causal masks matches torch.nn.MultiheadAttention', () => {
  report.mhaSelf = check('mha_self_padding_causal', modules.mha, (i) => modules.mha.forward(i.x, i.x, i.x, { keyPaddingMask: i.keyPaddingMask, isCausal: true }).output);
});

test('MultiheadAttention per-head attention weights (needWeights, averageAttnWeights: false) match PyTorch', () => {
  const fx = load('mha_self_padding_causal');
  const m = new nn.MultiheadAttention(8, 2);
  m.loadStateDict(Object.fromEntries(Object.entries(fx.weights).map(([k, v]) => [k, T(v)])));
  const x = T(fx.inputs.x);
  const { weights } = m.forward(x, x, x, { keyPaddingMask: T(fx.inputs.keyPaddingMask), isCausal: true, needWeights: true, averageAttnWeights: false });
  report.mhaWeights = maxErr(weights!, fx.attnWeights!, 'attention weights');
  assert.ok(report.mhaWeights < TOL);
});

test('MultiheadAttention with kdim ≠ vdim ≠ embedDim matches PyTorch', () => {
  const m = new nn.MultiheadAttention(8, 2, { kdim: 5, vdim: 3 });
  report.mhaCross = check('mha_cross_kdim_vdim', m, (i) => m.forward(i.q, i.k, i.v, { keyPaddingMask: i.keyPaddingMask }).output);
});

test('grouped-query attention matches the reference written in the fixture script', () => {
  const m = new nn.MultiheadAttention(8, 4, { numKvHeads: 2 });
  report.gqa = check('gqa_causal', m, (i) => m.forward(i.x, i.x, i.x, { isCausal: true }).output);
});

for (const normFirst of [false, true]) {
  const tag = normFirst ? 'prenorm' : 'postnorm';
  test(`TransformerEncoderLayer (${tag}) matches PyTorch`, () => {
    const m = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0, normFirst });
    report[`encoder_${tag}`] = check(`encoder_layer_${tag}`, m, (i) => m.forward(i.x, { keyPaddingMask: i.keyPaddingMask }));
  });
  test(`TransformerDecoderLayer (${tag}, gelu) matches PyTorch`, () => {
    const m = new nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 16, dropout: 0, normFirst, activation: 'gelu' });
    report[`decoder_${tag}`] = check(`decoder_layer_${tag}`, m, (i) => m.forward(i.x, i.memory, { tgtIsCausal: true, memoryKeyPaddingMask: i.memoryKeyPaddingMask }));
  });
}

test('Seq2SeqTransformer logits, loss and every gradient match the PyTorch model', () => {
  const fx = load('seq2seq_prenorm');
  const m = models.Seq2SeqTransformer.fromConfig(fx.config!);
  let tgtOut: h.Tensor | null = null;
  report.seq2seq = check('seq2seq_prenorm', m, (i) => {
    tgtOut = i.tgtOut;
    return m.forward(i.src, i.tgtIn);
  });
  const logits = m.forward(T(fx.inputs.src), T(fx.inputs.tgtIn));
  const loss = h.crossEntropy(logits.reshape([-1, 9]), tgtOut!.reshape([-1]), { ignoreIndex: 0 });
  assert.ok(Math.abs(loss.item() - fx.loss!) < TOL, `loss ${loss.item()} vs ${fx.loss}`);
});


test('Conv1d and Conv2d (stride, padding, dilation) match PyTorch', () => {
  const c1 = new nn.Conv1d(3, 4, 3, { stride: 2, padding: 1 });
  report.conv1d = check('conv1d', c1, (i) => c1.forward(i.x));
  const c2 = new nn.Conv2d(2, 3, 3, { stride: 2, padding: 1, dilation: 2 });
  report.conv2d = check('conv2d', c2, (i) => c2.forward(i.x));
});

test('a 2-layer LSTM (outputs and final h, c) matches torch.nn.LSTM', () => {
  const m = new nn.LSTM(3, 4, { numLayers: 2 });
  report.lstm = check('lstm_2layer', m, (i) => {
    const r = m.forward(i.x);
    return h.cat([r.output.reshape([-1]), r.h.reshape([-1]), r.c.reshape([-1])], 0);
  });
});

test('a 2-layer GPT matches the nanoGPT-style PyTorch model', () => {
  const m = models.GPT.fromConfig(load('gpt_2layer').config!);
  report.gpt = check('gpt_2layer', m, (i) => m.forward(i.idx));
});

test('a bidirectional 2-layer LSTM matches torch.nn.LSTM(bidirectional=True)', () => {
  const m = new nn.LSTM(3, 2, { numLayers: 2, bidirectional: true });
  report.lstmBidirectional = check('lstm_bidirectional', m, (i) => {
    const r = m.forward(i.x);
    return h.cat([r.output.reshape([-1]), r.h.reshape([-1]), r.c.reshape([-1])], 0);
  });
});

// Runs last (node:test runs a file's tests in order): every parity test above must have recorded
// its module's worst error, finite and under TOL, so a test that stops comparing fails here.
test('parity report: every module was compared with PyTorch and every error is finite and under the bound', () => {
  const expected = ['mhaSelf', 'mhaWeights', 'mhaCross', 'gqa', 'encoder_postnorm', 'decoder_postnorm', 'encoder_prenorm', 'decoder_prenorm',
    'seq2seq', 'conv1d', 'conv2d', 'lstm', 'gpt', 'lstmBidirectional'];
  assert.deepEqual(Object.keys(report).sort(), [...expected].sort(), 'modules compared with PyTorch');
  for (const [name, err] of Object.entries(report)) assert.ok(Number.isFinite(err) && err >= 0 && err < TOL, `${name}: max abs error ${err}, bound ${TOL}`);
  console.log('nn parity max abs errors:', JSON.stringify(report));
});
