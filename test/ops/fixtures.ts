/**
 * Loads the PyTorch parity fixtures (test/fixtures/ops/ops.json, written by
 * tools/fixtures/make_op_fixtures.py) and maps each fixture's op name and options onto
 * the heed call that must reproduce it. Shared by parity.test.ts and backends.test.ts.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as h from '../../src/index.ts';
import type { Tensor } from '../../src/index.ts';

export interface PackedTensor {
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
  b64: string;
}

export interface OpCase {
  id: string;
  op: string;
  kw: Record<string, unknown>;
  inputs: (PackedTensor & { name: string })[];
  outputs: PackedTensor[];
  multi: boolean;
  upstream?: (PackedTensor | null)[];
  grads?: Record<string, PackedTensor>;
  note?: string;
}

const path = fileURLToPath(new URL('../fixtures/ops/ops.json', import.meta.url));
export const fixtures = JSON.parse(readFileSync(path, 'utf8')) as { torch: string; cases: OpCase[] };

export function unpack(p: PackedTensor): Float32Array | Int32Array | Uint8Array {
  const buf = Buffer.from(p.b64, 'base64');
  const bytes = new Uint8Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  if (p.dtype === 'float32') return new Float32Array(bytes.buffer);
  if (p.dtype === 'int32') return new Int32Array(bytes.buffer);
  return bytes;
}

/** A fresh heed tensor for a packed input; float inputs require grad unless told otherwise. */
export function toTensor(p: PackedTensor, requiresGrad: boolean): Tensor {
  const data = unpack(p).slice();
  return h.tensor(data, p.shape, { requiresGrad: requiresGrad && p.dtype === 'float32' });
}

type Kw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Runner = (x: Record<string, Tensor>, kw: Kw) => Tensor | Tensor[];

type TensorLike = Tensor | number;

function binaryRunner(f: (a: TensorLike, b: TensorLike) => Tensor): Runner {
  return (x, kw) => f(x.a ?? kw.a, x.b ?? kw.b);
}

function unaryRunner(f: (t: Tensor) => Tensor): Runner {
  return (x) => f(x.x);
}

const reduceOpts = (kw: Kw) => ({ keepDim: kw.keepDim as boolean });
const dimsOf = (kw: Kw) => (kw.dims === null ? undefined : kw.dims);

/** Every op the fixtures exercise, called the way a user would. */
export const RUNNERS: Record<string, Runner> = {
  add: binaryRunner(h.add), sub: binaryRunner(h.sub), mul: binaryRunner(h.mul), div: binaryRunner(h.div), pow: binaryRunner(h.pow),
  maximum: binaryRunner(h.maximum), minimum: binaryRunner(h.minimum),
  eq: binaryRunner(h.eq), ne: binaryRunner(h.ne), lt: binaryRunner(h.lt), le: binaryRunner(h.le), gt: binaryRunner(h.gt), ge: binaryRunner(h.ge),
  logicalAnd: binaryRunner(h.logicalAnd), logicalOr: binaryRunner(h.logicalOr), logicalNot: unaryRunner(h.logicalNot),
  neg: unaryRunner(h.neg), exp: unaryRunner(h.exp), log: unaryRunner(h.log), sqrt: unaryRunner(h.sqrt), tanh: unaryRunner(h.tanh),
  sigmoid: unaryRunner(h.sigmoid), relu: unaryRunner(h.relu), silu: unaryRunner(h.silu), abs: unaryRunner(h.abs),
  gelu: (x, kw) => h.gelu(x.x, { approximate: kw.approximate }),
  toFloat: (x) => h.toFloat(x.x), toInt: (x) => h.toInt(x.x),
  sumToShape: (x, kw) => h.sumToShape(x.g, kw.shape),
  sum: (x, kw) => h.sum(x.x, dimsOf(kw), reduceOpts(kw)),
  mean: (x, kw) => h.mean(x.x, dimsOf(kw), reduceOpts(kw)),
  max: (x, kw) => h.max(x.x, dimsOf(kw), reduceOpts(kw)),
  min: (x, kw) => h.min(x.x, dimsOf(kw), reduceOpts(kw)),
  logsumexp: (x, kw) => h.logsumexp(x.x, dimsOf(kw), reduceOpts(kw)),
  argmax: (x, kw) => h.argmax(x.x, kw.dim === null ? undefined : kw.dim, reduceOpts(kw)),
  variance: (x, kw) => h.variance(x.x, dimsOf(kw), { keepDim: kw.keepDim, correction: kw.correction }),
  reshape: (x, kw) => h.reshape(x.x, kw.shape), view: (x, kw) => h.view(x.x, kw.shape),
  flatten: (x, kw) => h.flatten(x.x, kw.startDim, kw.endDim),
  permute: (x, kw) => h.permute(x.x, kw.perm), transpose: (x, kw) => h.transpose(x.x, kw.dim0, kw.dim1),
  unsqueeze: (x, kw) => h.unsqueeze(x.x, kw.dim), squeeze: (x, kw) => h.squeeze(x.x, kw.dims),
  expand: (x, kw) => h.expand(x.x, kw.shape),
  cat: (x, kw) => h.cat(Object.values(x), kw.dim), stack: (x, kw) => h.stack(Object.values(x), kw.dim),
  narrow: (x, kw) => h.narrow(x.x, kw.dim, kw.start, kw.length),
  slice: (x, kw) => h.slice(x.x, kw.dim, kw.start, kw.end),
  split: (x, kw) => h.split(x.x, kw.sizeOrSections, kw.dim), chunk: (x, kw) => h.chunk(x.x, kw.chunks, kw.dim),
  indexSelect: (x, kw) => h.indexSelect(x.x, kw.dim, x.index), gather: (x, kw) => h.gather(x.x, kw.dim, x.index),
  maskedFill: (x, kw) => h.maskedFill(x.x, x.mask, kw.value),
  where: (x, kw) => h.where(x.cond, x.a ?? kw.a, x.b ?? kw.b),
  embedding: (x, kw) => h.embedding(x.indices, x.weight, { paddingIdx: kw.paddingIdx }),
  matmul: (x) => h.matmul(x.a, x.b),
  linear: (x) => h.linear(x.x, x.weight, x.bias ?? null),
  softmax: (x, kw) => h.softmax(x.x, kw.dim), logSoftmax: (x, kw) => h.logSoftmax(x.x, kw.dim),
  layerNorm: (x, kw) => h.layerNorm(x.x, kw.normalizedShape, x.weight ?? null, x.bias ?? null, kw.eps),
  layerNormReference: (x, kw) => h.layerNormReference(x.x, kw.normalizedShape, x.weight ?? null, x.bias ?? null, kw.eps),
  rmsNorm: (x, kw) => h.rmsNorm(x.x, kw.normalizedShape, x.weight ?? null, kw.eps),
  rmsNormReference: (x, kw) => h.rmsNormReference(x.x, kw.normalizedShape, x.weight ?? null, kw.eps),
  crossEntropy: (x, kw) => h.crossEntropy(x.input, x.target, { ...kw, weight: x.weight ?? null }),
  nllLoss: (x, kw) => h.nllLoss(x.input, x.target, { ...kw, weight: x.weight ?? null }),
  mseLoss: (x, kw) => h.mseLoss(x.input, x.target, kw),
  binaryCrossEntropyWithLogits: (x, kw) => h.binaryCrossEntropyWithLogits(x.input, x.target, { ...kw, weight: x.weight ?? null }),
  batchNorm: (x, kw) => batchNormRunner(h.batchNorm, x, kw),
  batchNormReference: (x, kw) => batchNormRunner(h.batchNormReference, x, kw),
  maxPool2d: (x, kw) => h.maxPool2d(x.x, kw as h.Pool2dOptions), avgPool2d: (x, kw) => h.avgPool2d(x.x, kw as h.AvgPool2dOptions),
  adaptiveMaxPool2d: (x, kw) => h.adaptiveMaxPool2d(x.x, kw.outputSize), adaptiveAvgPool2d: (x, kw) => h.adaptiveAvgPool2d(x.x, kw.outputSize),
  im2col: (x, kw) => h.im2col(x.x, kw as unknown as h.Im2colOptions),
  conv2d: (x, kw) => h.conv2d(x.x, x.weight, x.bias ?? null, kw as h.Conv2dOptions),
  conv1d: (x, kw) => h.conv1d(x.x, x.weight, x.bias ?? null, kw as h.Conv1dOptions),
  scaledDotProductAttention: (x, kw) => h.scaledDotProductAttention(x.q, x.k, x.v, attnOpts(x, kw)),
  scaledDotProductAttentionReference: (x, kw) => h.scaledDotProductAttentionReference(x.q, x.k, x.v, attnOpts(x, kw)),
};

/** y, then the running statistics (updated in place when training), as the fixture lists them. */
function batchNormRunner(f: typeof h.batchNorm, x: Record<string, Tensor>, kw: Kw): Tensor[] {
  const y = f(x.x, x.runningMean, x.runningVar, { ...kw, weight: x.weight ?? null, bias: x.bias ?? null });
  return [y, x.runningMean, x.runningVar];
}

function attnOpts(x: Record<string, Tensor>, kw: Kw): h.AttentionOptions {
  return { ...kw, attnMask: x.attnMask ?? null, keyLengths: x.keyLengths ?? null, alibiSlopes: x.alibiSlopes ?? null };
}

/** Inputs that PyTorch's side did not differentiate (masks, class weights, slopes): no grad on ours either. */
export function runCase(c: OpCase, withGrad: boolean): { inputs: Record<string, Tensor>; outputs: Tensor[] } {
  const inputs: Record<string, Tensor> = {};
  for (const p of c.inputs) inputs[p.name] = toTensor(p, withGrad && c.grads !== undefined && p.name in c.grads);
  const run = RUNNERS[c.op];
  if (run === undefined) throw new Error(`no runner for op '${c.op}' (fixture ${c.id})`);
  const out = run(inputs, c.kw);
  return { inputs, outputs: Array.isArray(out) ? out : [out] };
}
