import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  classificationReport,
  editDistance,
  formatClassificationReport,
  formatFixed,
  phonemeErrorRate,
  wordErrorRate,
} from '../../src/train/metrics.js';

describe('edit distance and G2P error rates', () => {
  it('editDistance matches hand-computed Levenshtein distances', () => {
    assert.equal(editDistance([...'kitten'], [...'sitting']), 3);
    assert.equal(editDistance([...'flaw'], [...'lawn']), 2);
    assert.equal(editDistance([], ['a', 'b']), 2);
    assert.equal(editDistance(['K', 'AE', 'T'], ['K', 'AE', 'T']), 0);
    assert.equal(editDistance(['AH', 'B'], ['B', 'AH']), 2);
  });

  it('a word is correct if it equals ANY reference pronunciation', () => {
    const refs = [[['T', 'AH', 'M', 'EY', 'T', 'OW'], ['T', 'AH', 'M', 'AA', 'T', 'OW']], [['K', 'AE', 'T']]];
    assert.equal(wordErrorRate([['T', 'AH', 'M', 'AA', 'T', 'OW'], ['K', 'AE', 'T']], refs), 0);
    assert.equal(wordErrorRate([['T', 'AH', 'M', 'AA', 'T', 'OW'], ['K', 'AH', 'T']], refs), 0.5);
  });

  it('phoneme error rate uses the closest reference and its length', () => {
    const refs = [[['A', 'B', 'C', 'D'], ['A', 'B']], [['X', 'Y', 'Z']]];
    // word 1: distance 1 to [A, B] (len 2) vs 2 to [A, B, C, D]; word 2: distance 1, len 3.
    assert.equal(phonemeErrorRate([['A', 'B', 'E'], ['X', 'Y']], refs), (1 + 1) / (2 + 3));
    assert.throws(() => phonemeErrorRate([['A']], []), /preds has 1 items but refs has 0/);
  });
});

describe('classificationReport', () => {
  const yTrue = [0, 1, 2, 2, 2];
  const yPred = [0, 0, 2, 2, 1];

  it('computes per-class scores, averages and the confusion matrix (sklearn docs example)', () => {
    const r = classificationReport(yTrue, yPred);
    assert.deepEqual(r.labels, [0, 1, 2]);
    assert.deepEqual(r.perClass.map((s) => s.precision), [0.5, 0, 1]);
    assert.deepEqual(r.perClass.map((s) => s.recall), [1, 0, 2 / 3]);
    assert.deepEqual(r.perClass.map((s) => s.support), [1, 1, 3]);
    assert.equal(r.accuracy, 0.6);
    assert.ok(Math.abs(r.macroAvg.f1 - (2 / 3 + 0 + 0.8) / 3) < 1e-12);
    assert.ok(Math.abs(r.weightedAvg.precision - 0.7) < 1e-12);
    assert.equal(r.microAvg.f1, 0.6);
    assert.deepEqual(r.confusion, [[1, 0, 0], [1, 0, 0], [0, 1, 2]]);
  });

  it('formats exactly like scikit-learn classification_report, then the confusion matrix', () => {
    // From the scikit-learn documentation of sklearn.metrics.classification_report.
    const sklearn = [
      '              precision    recall  f1-score   support',
      '',
      '     class 0       0.50      1.00      0.67         1',
      '     class 1       0.00      0.00      0.00         1',
      '     class 2       1.00      0.67      0.80         3',
      '',
      '    accuracy                           0.60         5',
      '   macro avg       0.50      0.56      0.49         5',
      'weighted avg       0.70      0.60      0.61         5',
      '',
    ].join('\n');
    const text = formatClassificationReport(classificationReport(yTrue, yPred, { targetNames: ['class 0', 'class 1', 'class 2'] }));
    assert.equal(text.slice(0, sklearn.length), sklearn);
    assert.equal(
      text.slice(sklearn.length),
      ['', 'confusion matrix (rows: true, columns: predicted)', '         class 0 class 1 class 2', 'class 0        1       0       0', 'class 1        1       0       0', 'class 2        0       1       2', ''].join('\n'),
    );
  });

  it('prints a micro avg row instead of accuracy when labels leave out a present class (hand-computed: P = 2/4, R = 2/3)', () => {
    const text = formatClassificationReport(classificationReport([1, 1, 2, 3], [1, 2, 2, 1], { labels: [1, 2] }));
    assert.match(text, /\n   micro avg       0\.50      0\.67      0\.57         3\n/);
  });

  it('rounds ties to even like Python formatting', () => {
    assert.equal(formatFixed(0.125, 2), '0.12');
    assert.equal(formatFixed(0.375, 2), '0.38');
    assert.equal(formatFixed(2 / 3, 2), '0.67');
    assert.equal(formatFixed(0.5, 0), '0');
  });
});
