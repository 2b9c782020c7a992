/**
 * PyTorch parity of the CNN layers (BatchNorm, pooling, grouped Conv2d, SqueezeExcitation, CBAM)
 * and of GRU: outputs and every gradient against tools/fixtures/make_cnn_fixtures.py.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';
import { nn } from '../../src/index.ts';
import { TOL, load, T, maxErr, check } from './parity-helpers.ts';

const report: Record<string, number> = {};

/** Runs the fixture's training steps (the last one with gradients), then checks the running statistics and eval output. */
function checkBatchNorm(name: string, m: nn.BatchNorm1d | nn.BatchNorm2d): void {
  const fx = load(name);
  const steps = Object.keys(fx.inputs).filter((k) => /^x\d+$/.test(k)).length;
  m.train();
  report[name] = check(name, m, (i) => {
    for (let s = 0; s < steps - 1; s++) m.forward(i[`x${s}`]);
    return m.forward(i[`x${steps - 1}`]);
  });
  for (const [k, v] of Object.entries(fx.after!)) {
    const e = maxErr(m.stateDict()[k], v, `${name} ${k} after training`);
    assert.ok(e < TOL, `${name}: ${k} after ${steps} training steps differs by ${e}`);
  }
  m.eval();
  const e = maxErr(m.forward(T(fx.inputs.xEval)), fx.evalOutput!, `${name} eval output`);
  assert.ok(e < TOL, `${name}: eval output (running statistics) differs by ${e}`);
}

test('BatchNorm2d (momentum 0.2, eps 1e-3): training output, gradients, running mean/var and eval output match PyTorch', () => {
  checkBatchNorm('cnn_batchnorm2d', new nn.BatchNorm2d(3, { momentum: 0.2, eps: 1e-3 }));
});

test('BatchNorm1d with momentum null keeps the cumulative average of every batch, as PyTorch', () => {
  checkBatchNorm('cnn_batchnorm1d_cumulative', new nn.BatchNorm1d(4, { momentum: null }));
});

test('BatchNorm1d on (B, C) input matches PyTorch', () => {
  checkBatchNorm('cnn_batchnorm1d_2d_input', new nn.BatchNorm1d(5));
});

test('max, average and adaptive pooling (stride, padding, ceilMode, countIncludePad) match PyTorch', () => {
  const cases: [string, nn.Module][] = [
    ['cnn_maxpool2d', new nn.MaxPool2d(3, { stride: 2, padding: 1 })],
    ['cnn_maxpool2d_ceil', new nn.MaxPool2d([2, 3], { stride: 2, ceilMode: true })],
    ['cnn_avgpool2d', new nn.AvgPool2d(3, { stride: 2, padding: 1 })],
    ['cnn_avgpool2d_ceil_nopad', new nn.AvgPool2d(3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false })],
    ['cnn_adaptive_avgpool2d', new nn.AdaptiveAvgPool2d([3, 4])],
    ['cnn_adaptive_maxpool2d', new nn.AdaptiveMaxPool2d([3, 4])],
    ['cnn_adaptive_avgpool2d_global', new nn.AdaptiveAvgPool2d(1)],
  ];
  for (const [name, m] of cases) report[name] = check(name, m, (i) => m.forward(i.x) as h.Tensor);
});

test('Conv2d with groups, and depthwise (groups = inChannels, channel multiplier 2), match PyTorch', () => {
  const g = new nn.Conv2d(4, 6, 3, { stride: 2, padding: 1, groups: 2 });
  report.convGroups = check('cnn_conv2d_groups', g, (i) => g.forward(i.x));
  const d = new nn.Conv2d(3, 6, 3, { padding: 1, groups: 3, bias: false });
  report.convDepthwise = check('cnn_conv2d_depthwise', d, (i) => d.forward(i.x));
});

test('SqueezeExcitation matches torchvision.ops.SqueezeExcitation (same state dict keys)', () => {
  const m = new nn.SqueezeExcitation(8, 2);
  report.squeezeExcitation = check('cnn_squeeze_excitation', m, (i) => m.forward(i.x));
});

test('CBAM (channel then spatial attention) matches the PyTorch module written from the paper', () => {
  const m = new nn.CBAM(8, { reduction: 4, spatialKernelSize: 7 });
  report.cbam = check('cnn_cbam', m, (i) => m.forward(i.x));
});

test('a 2-layer GRU (outputs and final h) matches torch.nn.GRU', () => {
  const m = new nn.GRU(3, 4, { numLayers: 2 });
  report.gru = check('gru_2layer', m, (i) => {
    const r = m.forward(i.x);
    return h.cat([r.output.reshape([-1]), r.h.reshape([-1])], 0);
  });
});

test('a bidirectional 2-layer GRU matches torch.nn.GRU(bidirectional=True)', () => {
  const m = new nn.GRU(3, 2, { numLayers: 2, bidirectional: true });
  report.gruBidirectional = check('gru_bidirectional', m, (i) => {
    const r = m.forward(i.x);
    return h.cat([r.output.reshape([-1]), r.h.reshape([-1])], 0);
  });
});

test('a time-major GRU (batchFirst false) with an initial state matches PyTorch, including the gradient of h0', () => {
  const m = new nn.GRU(2, 3, { batchFirst: false });
  report.gruTimeMajor = check('gru_time_major_h0', m, (i) => {
    const r = m.forward(i.x, i.h0);
    return h.cat([r.output.reshape([-1]), r.h.reshape([-1])], 0);
  });
});

test('cnn parity report', () => {
  console.log('cnn/gru parity max abs errors:', JSON.stringify(report));
});
