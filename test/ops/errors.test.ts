/**
 * Errors teach: each message names the op and argument, says what was received and what
 * was expected, and gives the fix. These tests pin the content, not the exact wording.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from '../../src/index.ts';

/** Runs fn, expects an error of class `cls`, and checks the message contains every fragment. */
function expectError(fn: () => unknown, cls: new (...a: never[]) => Error, fragments: (string | RegExp)[]): string {
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  assert.ok(err instanceof cls, `expected ${cls.name}, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  const msg = (err as Error).message;
  for (const f of fragments) {
    if (typeof f === 'string') assert.ok(msg.includes(f), `message lacks "${f}": ${msg}`);
    else assert.match(msg, f);
  }
  return msg;
}

const int = (data: number[], shape?: number[]) => h.tensor(data, shape, { dtype: 'int32' });

test('matmul with mismatched inner dims names both shapes, the dims and the fix', () => {
  expectError(() => h.matmul(h.zeros([2, 4]), h.zeros([3, 5])), h.ShapeError, ['matmul', '[2, 4]', '[3, 5]', '(4)', '(3)', 'Fix:']);
  expectError(() => h.zeros([2, 4]).matmul(h.zeros([3])), h.ShapeError, ['matmul', '[2, 4]', 'Fix:']);
  expectError(() => h.linear(h.zeros([2, 5]), h.zeros([3, 4])), h.ShapeError, ['linear', '[2, 5]', 'inFeatures=4']);
});

test('a dim out of range names the op, the dim, the rank and the valid range', () => {
  expectError(() => h.softmax(h.zeros([2, 3]), 2), h.IndexError, ['softmax', 'dim=2', '2 dims', '[-2, 1]', 'Fix:']);
  expectError(() => h.sum(h.zeros([2, 3]), [0, -3]), h.IndexError, ['sum', 'dim=-3', '[-2, 1]']);
  expectError(() => h.transpose(h.zeros([2, 3]), 0, 5), h.IndexError, ['transpose', 'dim1=5']);
  expectError(() => h.cat([h.zeros([2])], 1), h.IndexError, ['cat', 'dim=1']);
});

test('float targets to crossEntropy are a DTypeError that says to use int32 class indices', () => {
  expectError(() => h.crossEntropy(h.zeros([4, 3]), h.zeros([4])), h.DTypeError, ['crossEntropy', 'target', 'float32', 'int32', '[4]', 'Fix:']);
  expectError(() => h.nllLoss(h.zeros([4, 3]), h.zeros([4], { dtype: 'bool' })), h.DTypeError, ['nllLoss', 'bool', 'int32']);
  expectError(() => h.crossEntropy(h.zeros([4, 3]), int([0, 1])), h.ShapeError, ['crossEntropy', '[4, 3]', '[4]', '[2]']);
  expectError(() => h.crossEntropy(h.zeros([2, 3]), int([0, 3])), h.IndexError, ['target 3', '3 classes', 'ignoreIndex']);
});

test('a mask that does not broadcast names the mask shape, the expected shapes and the fix', () => {
  const q = h.zeros([2, 4, 7, 16]);
  expectError(() => h.scaledDotProductAttention(q, q, q, { attnMask: h.ones([2, 7], { dtype: 'bool' }) }), h.ShapeError,
    ['scaledDotProductAttention', 'attnMask has shape [2, 7]', '[7, 7]', '[B, H, 7, 7]', '[2, 4, 7, 16]', 'Fix:']);
  expectError(() => h.scaledDotProductAttentionReference(q, q, q, { attnMask: h.zeros([3, 7, 7]) }), h.ShapeError, ['attnMask has shape [3, 7, 7]']);
  expectError(() => h.scaledDotProductAttention(q, q, q, { attnMask: int([1], [1]) }), h.DTypeError, ['attnMask', 'bool', 'int32']);
  expectError(() => h.maskedFill(h.zeros([3, 5]), h.ones([4], { dtype: 'bool' }), 0), h.ShapeError,
    ['maskedFill', 'mask has shape [4]', '[3, 5]', 'Fix:']);
  expectError(() => h.maskedFill(h.zeros([3, 5]), h.ones([5]), 0), h.DTypeError, ['maskedFill', 'bool', 'float32', 'Fix:']);
});

test('out-of-range indices in gather, indexSelect and embedding give the index, its position and the valid range', () => {
  expectError(() => h.gather(h.zeros([2, 4]), 1, int([0, 1, 7, 2], [2, 2])), h.IndexError, ['gather', 'holds 7', 'position 2', 'size 4', '0 ≤ index < 4', 'Fix:']);
  expectError(() => h.indexSelect(h.zeros([3, 2]), 0, int([-1])), h.IndexError, ['indexSelect', 'holds -1', 'Fix:']);
  expectError(() => h.embedding(int([1, 10]), h.zeros([10, 4])), h.IndexError, ['embedding', 'holds 10', '0 ≤ index < 10', 'numEmbeddings', 'Fix:']);
});

test('non-integer indices are a DTypeError with the conversion to use', () => {
  expectError(() => h.gather(h.zeros([2, 4]), 1, h.zeros([2, 2])), h.DTypeError, ['gather', 'index', 'int32', 'float32', 'Fix:']);
  expectError(() => h.embedding(h.tensor([1, 2]), h.zeros([4, 3])), h.DTypeError, ['embedding', 'indices', 'int32', 'Fix:']);
  expectError(() => h.tensor([1, 2.5], undefined, { dtype: 'int32' }), h.DTypeError, ['tensor', '2.5', 'int32', 'Fix:']);
});

test('reductions with no identity refuse empty tensors', () => {
  expectError(() => h.max(h.zeros([0, 3])), h.ShapeError, ['max', 'empty', '[0, 3]', 'Fix:']);
  expectError(() => h.argmax(h.zeros([0])), h.ShapeError, ['argmax', 'empty', '[0]']);
  expectError(() => h.min(h.zeros([2, 0]), 1), h.ShapeError, ['min', 'empty']);
  assert.equal(h.sum(h.zeros([0, 3])).item(), 0, 'sum of nothing is 0');
});

test('ragged nested arrays say where the rows differ', () => {
  expectError(() => h.tensor([[1, 2], [3]]), h.ShapeError, ['tensor', 'ragged', 'depth 1', 'expected 2', 'received 1', 'Fix:']);
  expectError(() => h.tensor([[1, 2], 3] as never), h.ShapeError, ['ragged', 'a scalar']);
  expectError(() => h.tensor([1, [2, 3]] as never), h.ShapeError, ['ragged', 'depth 1']);
});

test('reshape to a different number of elements names both shapes and both counts', () => {
  expectError(() => h.reshape(h.zeros([2, 3]), [4, 2]), h.ShapeError, ['reshape', '[2, 3]', '6 elements', '[4, 2]', '8 elements', 'Fix:', '-1']);
  expectError(() => h.reshape(h.zeros([2, 3]), [4, -1]), h.ShapeError, ['reshape', '[4, -1]']);
  expectError(() => h.reshape(h.zeros([2, 3]), [-1, -1]), h.ShapeError, ['more than one -1']);
  expectError(() => h.expand(h.zeros([2, 3]), [4, 3]), h.ShapeError, ['expand', '[2, 3]', '[4, 3]']);
});

test('bad dtype strings list the valid dtypes and suggest the close one', () => {
  expectError(() => h.zeros([2], { dtype: 'float16' as h.DType }), h.DTypeError, ["'float16'", 'float32, float64, int32, bool, int8', 'Fix:']);
  expectError(() => h.tensor([1], undefined, { dtype: 'float' as h.DType }), h.DTypeError, ['tensor', "'float'", "'float32'"]);
  expectError(() => h.arange(3, undefined, 1, { dtype: 'int64' as h.DType }), h.DTypeError, ['arange', "'int64'", "'int32'"]);
});

test('other argument errors: broadcasting, probabilities, options', () => {
  expectError(() => h.add(h.zeros([2, 3]), h.zeros([4])), h.ShapeError, ['add', '[2, 3]', '[4]', 'do not broadcast', 'Fix:']);
  expectError(() => h.dropout(h.zeros([2]), 1.5), h.ValueError, ['dropout', 'p=1.5', '[0, 1]']);
  expectError(() => h.gelu(h.zeros([2]), { approximate: 'erf' as 'none' }), h.ValueError, ['gelu', "'erf'", "'none' or 'tanh'"]);
  expectError(() => h.crossEntropy(h.zeros([2, 3]), int([0, 1]), { reduction: 'avg' as 'mean' }), h.ValueError, ['crossEntropy', "'avg'"]);
  const q = h.zeros([1, 4, 3, 8]), kv = h.zeros([1, 2, 3, 8]);
  expectError(() => h.scaledDotProductAttention(q, kv, kv), h.ShapeError, ['4 heads', '2', 'enableGqa']);
  expectError(() => h.relu(h.zeros([2], { dtype: 'int32' })), h.DTypeError, ['relu', 'int32', 'float', 'Fix:']);
});

test('cat of mixed dtypes is a DTypeError; embedding paddingIdx is range-checked and may count from the end', () => {
  expectError(() => h.cat([h.zeros([2]), h.zeros([2], { dtype: 'int32' })]), h.DTypeError, ['cat', 'tensor 1', 'int32', 'float32', 'Fix:']);
  expectError(() => h.embedding(int([0]), h.zeros([3, 2]), { paddingIdx: 3 }), h.IndexError, ['embedding', 'paddingIdx=3', '[-3, 2]']);
  const w = h.ones([3, 2], { requiresGrad: true });
  h.embedding(int([0, 2, 2]), w, { paddingIdx: -1 }).sum().backward();
  assert.deepEqual(Array.from(w.grad!.data), [1, 1, 0, 0, 0, 0], 'row 2 = row -1 is the padding row');
});

test('layer-size mistakes say which layout was expected and how to get there', () => {
  expectError(() => h.linear(h.zeros([2, 5]), h.zeros([5, 3])), h.ShapeError, ['linear', '[2, 5]', 'inFeatures=3', '(outFeatures, inFeatures)', 'Fix:']);
  expectError(() => h.layerNorm(h.zeros([2, 5]), [4]), h.ShapeError, ['layerNorm', '[2, 5]', 'normalizedShape [4]', 'Fix:', '[5]']);
  expectError(() => h.crossEntropy(h.zeros([2, 5, 7]), int(new Array(10).fill(0), [2, 5])), h.ShapeError, ['target must have shape [2, 7]', 'permute', 'Fix:']);
  expectError(() => h.mseLoss(h.zeros([4, 1]), h.zeros([4])), h.ShapeError, ['mseLoss', '[4, 1]', '[4]', 'Fix:']);
  const q = h.zeros([1, 2, 3, 8]);
  expectError(() => h.scaledDotProductAttention(q, h.zeros([1, 2, 3, 4]), q), h.ShapeError, ['key has shape [1, 2, 3, 4]', 'last dim 8', 'Fix:']);
  expectError(() => h.scaledDotProductAttention(q, h.zeros([2, 3, 8]), q), h.ShapeError, ['same number of dims', 'Fix:', '(B, H, L, E)']);
});
