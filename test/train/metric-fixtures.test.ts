/**
 * Entity metrics, BLEU and chrF against the reference implementations themselves: seeded random
 * cases scored by seqeval and sacreBLEU (test/fixtures/train/seqeval-sacrebleu.json, made by
 * tools/fixtures/make_metric_fixtures.py).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import * as h from '../../src/index.js';

interface Scores { precision: number; recall: number; f1: number; support: number }
interface NerCase {
  yTrue: string[][]; yPred: string[][]; mode: 'default' | 'strict'; scheme: 'IOB2' | 'IOBES';
  entities: [number, string, number, number][]; micro: Scores; macro: Scores; weighted: Scores; perType: Scores[]; text: string | null;
}
interface MtCase {
  hypotheses: string[]; references: string[][]; bleuOptions: h.BleuOptions; chrfOptions: h.ChrfOptions;
  bleu: { score: number; counts: number[]; totals: number[]; sysLen: number; refLen: number }; chrf: number;
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/train/seqeval-sacrebleu.json', import.meta.url), 'utf8')) as { ner: NerCase[]; mt: MtCase[] };

const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
const sameScores = (a: h.EntityReport['microAvg'], b: Scores, what: string) => {
  near(a.precision, b.precision, `${what} precision`);
  near(a.recall, b.recall, `${what} recall`);
  near(a.f1, b.f1, `${what} f1`);
  assert.equal(a.support, b.support, `${what} support`);
};

describe('metrics match seqeval and sacreBLEU on seeded random cases', () => {
  it(`entity spans and classification_report numbers (${fixture.ner.length} cases, default and strict mode)`, () => {
    let withEntities = 0;
    fixture.ner.forEach((c, i) => {
      const r = h.entityReport(c.yTrue, c.yPred, c.mode === 'strict' ? { mode: 'strict', scheme: c.scheme } : {});
      const what = `case ${i} (${c.mode})`;
      assert.deepEqual(r.trueEntities.map((e) => [e.sentence, e.type, e.start, e.end]), c.entities, `${what} entities`);
      sameScores(r.microAvg, c.micro, `${what} micro`);
      sameScores(r.macroAvg, c.macro, `${what} macro`);
      sameScores(r.weightedAvg, c.weighted, `${what} weighted`);
      assert.equal(r.perType.length, c.perType.length);
      r.perType.forEach((s, k) => sameScores(s, c.perType[k], `${what} type ${r.types[k]}`));
      if (c.text !== null) {
        assert.equal(h.formatEntityReport(r, 4), c.text, `${what} text`);
        withEntities++;
      }
    });
    assert.ok(withEntities > 100, 'the fixture should exercise non-empty reports');
  });

  it(`corpus BLEU and chrF (${fixture.mt.length} cases, every smoothing method, chrF++)`, () => {
    fixture.mt.forEach((c, i) => {
      const b = h.corpusBleu(c.hypotheses, c.references, c.bleuOptions);
      near(b.score, c.bleu.score, `case ${i} BLEU`);
      assert.deepEqual(b.counts, c.bleu.counts, `case ${i} counts`);
      assert.deepEqual(b.totals, c.bleu.totals, `case ${i} totals`);
      assert.equal(b.sysLen, c.bleu.sysLen);
      assert.equal(b.refLen, c.bleu.refLen);
      near(h.corpusChrf(c.hypotheses, c.references, c.chrfOptions).score, c.chrf, `case ${i} chrF`);
    });
    assert.ok(fixture.mt.filter((c) => c.bleu.score > 10).length > 5, 'the fixture should include high BLEU scores');
  });
});
