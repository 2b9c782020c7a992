import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { CheckpointError } from '../../src/errors.js';
import { loadDigits, parseDigitsCsv } from '../../src/data/digits.js';

describe('UCI digits', () => {
  const d = loadDigits();

  it('loads 1797 images of 64 pixels in [0, 1] with labels 0..9', () => {
    assert.equal(d.all.labels.length, 1797);
    assert.equal(d.all.images.length, 1797 * 64);
    assert.ok(d.all.images.every((v) => v >= 0 && v <= 1));
    assert.deepEqual([...new Set(d.all.labels)].sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // First row of the file: 0,0,5,13,9,1,0,0,... label 0.
    assert.deepEqual(Array.from(d.all.images.subarray(0, 4)), [0, 0, 5 / 16, 13 / 16]);
    assert.equal(d.all.labels[0], 0);
  });

  it('splits 1438 / 179 / 180, stratified, disjoint and deterministic', () => {
    assert.deepEqual([d.train.labels.length, d.valid.labels.length, d.test.labels.length], [1438, 179, 180]);
    const rows = [...d.train.indices, ...d.valid.indices, ...d.test.indices].sort((a, b) => a - b);
    assert.deepEqual(rows, Array.from({ length: 1797 }, (_, i) => i));
    for (let c = 0; c < 10; c++) assert.ok(d.test.labels.filter((l) => l === c).length >= 17);
    assert.deepEqual(loadDigits().test.indices, d.test.indices);
    assert.deepEqual(Array.from(d.test.images.subarray(0, 64)), Array.from(d.all.images.subarray(d.test.indices[0] * 64, d.test.indices[0] * 64 + 64)));
  });

  it('rejects malformed rows with the line number', () => {
    const good = Array(64).fill('0').join(',') + ',3';
    assert.throws(() => parseDigitsCsv(`${good}\n1,2,3\n`, 'x.csv'), (e: unknown) => e instanceof CheckpointError && /x\.csv line 2: expected 65/.test(e.message));
    assert.throws(() => parseDigitsCsv(good.replace(/^0/, '17')), /value 1 is "17", expected an integer in \[0, 16\] \(pixel\)/);
    assert.throws(() => parseDigitsCsv(good.replace(/3$/, '10')), /\(label\)/);
  });
});
