/**
 * Entity-level NER metrics against hand-worked examples (each expectation is worked out in the
 * comment beside it, following seqeval's rules; the first two are seqeval's own docstring examples).
 * test/fixtures/train/seqeval-sacrebleu.json adds randomized cases scored by seqeval itself.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import * as h from '../../src/index.js';

const { getEntities, getEntitiesStrict, detectScheme, entityReport, formatEntityReport } = h;

const spans = (es: h.EntitySpan[]) => es.map((e) => `${e.type}@${e.sentence}:${e.start}-${e.end}`);
const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} !== ${b}`);

describe('entity spans, default (conlleval) mode', () => {
  it('reads B-/I- spans and closes them at O', () => {
    assert.deepEqual(spans(getEntities([['B-PER', 'I-PER', 'O', 'B-LOC']])), ['PER@0:0-1', 'LOC@0:3-3']);
  });

  it('an I- after O starts an entity', () => {
    // O → I-PER: start_of_chunk (prev O, tag I); I-PER I-PER continues.
    assert.deepEqual(spans(getEntities([['O', 'I-PER', 'I-PER', 'O']])), ['PER@0:1-2']);
    assert.deepEqual(spans(getEntities([['I-PER', 'O']])), ['PER@0:0-0']);
  });

  it('a type change inside a span starts a new entity', () => {
    // B-PER → I-LOC: the type differs, so PER ends at 0 and LOC starts at 1.
    assert.deepEqual(spans(getEntities([['B-PER', 'I-LOC', 'I-LOC']])), ['PER@0:0-0', 'LOC@0:1-2']);
    assert.deepEqual(spans(getEntities([['I-PER', 'I-ORG']])), ['PER@0:0-0', 'ORG@0:1-1']);
  });

  it('B- after B- or I- of the same type starts a new entity', () => {
    assert.deepEqual(spans(getEntities([['B-PER', 'B-PER', 'I-PER', 'B-PER']])), ['PER@0:0-0', 'PER@0:1-2', 'PER@0:3-3']);
  });

  it('entities at sentence ends close there and never join the next sentence', () => {
    // Sentence 0 ends inside PER; sentence 1 opens with I-PER, which starts a new entity.
    assert.deepEqual(spans(getEntities([['O', 'B-PER', 'I-PER'], ['I-PER', 'O'], ['B-LOC']])), ['PER@0:1-2', 'PER@1:0-0', 'LOC@2:0-0']);
  });

  it('reads BIOES: E- and S- close a span, and E-/I- after E-/S- start one', () => {
    // B-PER E-PER | S-LOC | E-ORG (E after S starts) | I-ORG E-ORG (I after E starts)
    assert.deepEqual(spans(getEntities([['B-PER', 'E-PER', 'S-LOC', 'E-ORG', 'I-ORG', 'E-ORG']])), ['PER@0:0-1', 'LOC@0:2-2', 'ORG@0:3-3', 'ORG@0:4-5']);
    assert.deepEqual(spans(getEntities([['S-PER', 'S-PER']])), ['PER@0:0-0', 'PER@0:1-1']);
  });

  it('reads suffix-style tags (TYPE-B) when asked', () => {
    assert.deepEqual(spans(getEntities([['PER-B', 'PER-I', 'O', 'LOC-S']], { suffix: true })), ['PER@0:0-1', 'LOC@0:3-3']);
  });

  it('rejects a tag that is not an entity tag', () => {
    assert.throws(() => getEntities([['O', 'X-PER']]), (e: Error) => e instanceof h.ValueError && /sentence 0, token 1 is 'X-PER'/.test(e.message));
    assert.throws(() => getEntities([['O', '']]), h.ValueError);
  });
});

describe('entity spans, strict mode', () => {
  it('IOB2: an entity must open with B-, and a type change ends it', () => {
    assert.deepEqual(spans(getEntitiesStrict([['O', 'I-PER', 'I-PER', 'O']], 'IOB2')), []);
    // B-PER then I-LOC: PER ends at 0 (B, I, DIFF is an end pattern); I-LOC never starts an entity.
    assert.deepEqual(spans(getEntitiesStrict([['B-PER', 'I-LOC', 'I-LOC']], 'IOB2')), ['PER@0:0-0']);
    assert.deepEqual(spans(getEntitiesStrict([['B-PER', 'I-PER'], ['B-LOC']], 'IOB2')), ['PER@0:0-1', 'LOC@1:0-0']);
  });

  it('IOBES: a span counts only if it closes with E- or S-', () => {
    // B-PER E-PER ✓; S-LOC ✓; E-ORG after S- does not start; I-ORG E-ORG lack their B-.
    assert.deepEqual(spans(getEntitiesStrict([['B-PER', 'E-PER', 'S-LOC', 'E-ORG', 'I-ORG', 'E-ORG']], 'BIOES')), ['PER@0:0-1', 'LOC@0:2-2']);
    // B-PER I-PER then O: never closed by E-, so no entity.
    assert.deepEqual(spans(getEntitiesStrict([['B-PER', 'I-PER', 'O']], 'IOBES')), []);
  });

  it('rejects prefixes the scheme does not have, and detects the scheme', () => {
    assert.throws(() => getEntitiesStrict([['B-PER', 'E-PER']], 'IOB2'), /token 1 is "E-PER", whose prefix is not allowed in scheme IOB2/);
    assert.equal(detectScheme([['B-PER', 'I-PER', 'O']]), 'IOB2');
    assert.equal(detectScheme([['B-PER', 'E-PER', 'S-LOC', 'O']]), 'IOBES');
    assert.throws(() => detectScheme([['B-PER', 'E-PER', 'U-LOC']]), /match no supported scheme/);
  });
});

describe('entityReport (seqeval classification_report numbers)', () => {
  it("matches seqeval's docstring example, text included", () => {
    const yTrue = [['O', 'O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'O'], ['B-PER', 'I-PER', 'O']];
    const yPred = [['O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'I-MISC', 'O'], ['B-PER', 'I-PER', 'O']];
    const r = entityReport(yTrue, yPred);
    assert.deepEqual(r.types, ['MISC', 'PER']);
    assert.deepEqual(r.perType.map((s) => [s.precision, s.recall, s.f1, s.support]), [[0, 0, 0, 1], [1, 1, 1, 1]]);
    assert.deepEqual(r.microAvg, { precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
    assert.equal(formatEntityReport(r), [
      '              precision    recall  f1-score   support',
      '',
      '        MISC       0.00      0.00      0.00         1',
      '         PER       1.00      1.00      1.00         1',
      '',
      '   micro avg       0.50      0.50      0.50         2',
      '   macro avg       0.50      0.50      0.50         2',
      'weighted avg       0.50      0.50      0.50         2',
      '',
    ].join('\n'));
  });

  it("matches seqeval's f1_score docstring example (micro 2/3, macro 0.75)", () => {
    const yTrue = [['O', 'O', 'B-MISC', 'I-MISC', 'B-MISC', 'O', 'O'], ['B-PER', 'I-PER', 'O']];
    const yPred = [['O', 'O', 'B-MISC', 'I-MISC', 'B-MISC', 'I-MISC', 'O'], ['B-PER', 'I-PER', 'O']];
    // MISC: true (2,3) (4,4), pred (2,3) (4,5) → tp 1 of 2 and 2. PER: 1 of 1.
    const r = entityReport(yTrue, yPred);
    assert.deepEqual(r.perType.map((s) => s.f1), [0.5, 1]);
    close(r.microAvg.f1, 2 / 3);
    close(r.macroAvg.f1, 0.75);
    close(r.weightedAvg.f1, 2 / 3);
  });

  it('per type, micro, macro and weighted on a hand-worked case, with zeroDivision 0 and 1', () => {
    // true: PER(0,1) LOC(3,3) ORG(5,5); pred: PER(0,1) LOC(3,4) PER(5,5)
    // PER tp 1 / pred 2 / true 1 → p ½, r 1, f ⅔;  LOC 0/1/1 → 0;  ORG 0/0/1 → p 0/0, r 0, f 0
    // micro: 1/3, 1/3 → f 1/3;  macro = weighted (supports equal): p 1/6, r 1/3, f 2/9
    const yTrue = [['B-PER', 'I-PER', 'O', 'B-LOC', 'O', 'B-ORG']];
    const yPred = [['B-PER', 'I-PER', 'O', 'B-LOC', 'I-LOC', 'B-PER']];
    const r = entityReport(yTrue, yPred);
    assert.deepEqual(r.types, ['LOC', 'ORG', 'PER']);
    assert.deepEqual(r.perType.map((s) => s.precision), [0, 0, 0.5]);
    assert.deepEqual(r.perType.map((s) => s.recall), [0, 0, 1]);
    close(r.perType[2].f1, 2 / 3);
    close(r.microAvg.f1, 1 / 3);
    for (const avg of [r.macroAvg, r.weightedAvg]) {
      close(avg.precision, 1 / 6);
      close(avg.recall, 1 / 3);
      close(avg.f1, 2 / 9);
      assert.equal(avg.support, 3);
    }
    // zeroDivision 1: ORG's undefined precision counts 1 (its F1 stays 0 since recall is 0).
    const r1 = entityReport(yTrue, yPred, { zeroDivision: 1 });
    assert.equal(r1.perType[1].precision, 1);
    assert.equal(r1.perType[1].f1, 0);
    close(r1.macroAvg.precision, 0.5);
  });

  it('empty predictions score 0 everywhere, never NaN', () => {
    const r = entityReport([['B-PER', 'I-PER', 'O']], [['O', 'O', 'O']]);
    assert.deepEqual(r.perType, [{ precision: 0, recall: 0, f1: 0, support: 1 }]);
    assert.deepEqual(r.microAvg, { precision: 0, recall: 0, f1: 0, support: 1 });
    // No entities anywhere: seqeval's macro is NaN (mean of nothing); here it is 0.
    const none = entityReport([['O', 'O']], [['O', 'O']]);
    assert.deepEqual(none.types, []);
    for (const avg of [none.microAvg, none.macroAvg, none.weightedAvg]) {
      assert.deepEqual(avg, { precision: 0, recall: 0, f1: 0, support: 0 });
    }
    assert.ok(!formatEntityReport(none).includes('NaN'));
  });

  it('strict mode scores only well-formed spans', () => {
    // Default mode reads 'O I-PER I-PER' as PER(1,2) = the gold entity; strict IOB2 rejects it.
    const yTrue = [['O', 'B-PER', 'I-PER']];
    const yPred = [['O', 'I-PER', 'I-PER']];
    assert.equal(entityReport(yTrue, yPred).microAvg.f1, 1);
    const strict = entityReport(yTrue, yPred, { mode: 'strict', scheme: 'IOB2' });
    assert.deepEqual(strict.microAvg, { precision: 0, recall: 0, f1: 0, support: 1 });
    // With no scheme, strict mode detects it from yTrue, as seqeval's classification_report.
    assert.deepEqual(entityReport(yTrue, yPred, { mode: 'strict' }).microAvg, strict.microAvg);
  });

  it('rejects mismatched shapes with the sentence named', () => {
    assert.throws(() => entityReport([['O']], [['O'], ['O']]), (e: Error) => e instanceof h.ShapeError && /1 sentences but yPred has 2/.test(e.message));
    assert.throws(() => entityReport([['O', 'B-X']], [['O']]), /sentence 0 has 2 true tags but 1 predicted/);
    assert.throws(() => entityReport([['O']], [['O']], { mode: 'lenient' as 'strict' }), /mode 'lenient' is unknown/);
  });
});
