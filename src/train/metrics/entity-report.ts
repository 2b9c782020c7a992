/**
 * Entity-level precision, recall, F1 and support, per type and averaged, exactly as seqeval's
 * `classification_report` / `precision_recall_fscore_support` (seqeval/metrics/sequence_labeling.py
 * for the default conlleval-compatible mode, seqeval/metrics/v1.py for mode='strict').
 *
 * For each entity type t, with T_t the true spans and P_t the predicted spans of that type
 * (a span is (sentence, start, end, type); see ./entity-spans.ts):
 *   tp_t = |T_t ∩ P_t|,  precision_t = tp_t / |P_t|,  recall_t = tp_t / |T_t|,
 *   F1_t = 2·p·r / (p + r),  support_t = |T_t|.
 * micro:    the same formulas on the sums Σtp, Σ|P|, Σ|T|;
 * macro:    the unweighted mean of the per-type values;
 * weighted: the mean weighted by support.
 * A 0/0 ratio is `zeroDivision` (default 0, seqeval's "warn" value); F1 with p + r = 0 is 0.
 * Types are every type seen in yTrue or yPred, sorted by code unit (Python's sorted()).
 *
 * One deliberate difference: with no entity at all in yTrue and yPred, seqeval's macro average is
 * NaN (numpy's mean of nothing); here every average is 0, so a report never holds NaN.
 *
 *   const r = entityReport([['B-PER', 'I-PER', 'O']], [['B-PER', 'I-PER', 'O']]);
 *   r.microAvg.f1;   // 1
 */
import type { ClassScores } from '../metrics.js';
import { formatFixed } from '../metrics.js';
import { ValueError } from '../../errors.js';
import { checkSameShape, detectScheme, getEntities, getEntitiesStrict, TAG_SCHEMES } from './entity-spans.js';
import type { EntitySpan, TagScheme } from './entity-spans.js';

export interface EntityReportOptions {
  /** 'default' (conlleval-compatible, seqeval mode=None) or 'strict' (seqeval mode='strict'). */
  mode?: 'default' | 'strict';
  /** The scheme for strict mode; default: detected from yTrue, as seqeval's classification_report. */
  scheme?: TagScheme;
  /** Tags are written TYPE-B instead of B-TYPE. Default false. */
  suffix?: boolean;
  /** The value of an undefined (0/0) precision or recall: 0 (seqeval's default) or 1. */
  zeroDivision?: 0 | 1;
}

export interface EntityReport {
  /** Entity types, sorted; perType[k] belongs to types[k]. */
  types: string[];
  perType: ClassScores[];
  microAvg: ClassScores;
  macroAvg: ClassScores;
  weightedAvg: ClassScores;
  /** The spans that were compared, for inspection. */
  trueEntities: EntitySpan[];
  predEntities: EntitySpan[];
}

const spanKey = (e: EntitySpan): string => `${e.sentence}\u0000${e.start}\u0000${e.end}`;

/** Python's sorted() on str: by UTF-16 code unit for the BMP, which is what plain < does. */
const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Entity-level scores of yPred against yTrue (lists of sentences of tags). */
export function entityReport(yTrue: readonly (readonly string[])[], yPred: readonly (readonly string[])[], options: EntityReportOptions = {}): EntityReport {
  checkSameShape('entityReport', yTrue, yPred);
  const mode = options.mode ?? 'default';
  if (mode !== 'default' && mode !== 'strict') throw new ValueError(`entityReport: mode '${String(mode)}' is unknown; expected 'default' or 'strict'.`);
  if (options.scheme !== undefined && !TAG_SCHEMES.includes(options.scheme)) {
    throw new ValueError(`entityReport: scheme '${options.scheme}' is unknown; expected one of ${TAG_SCHEMES.join(', ')}.`);
  }
  const zd = options.zeroDivision ?? 0;
  if (zd !== 0 && zd !== 1) throw new ValueError(`entityReport: zeroDivision=${String(zd)}, expected 0 or 1.`);
  const entityOptions = { suffix: options.suffix ?? false };

  let trueEntities: EntitySpan[];
  let predEntities: EntitySpan[];
  if (mode === 'strict') {
    const scheme = options.scheme ?? detectScheme(yTrue, entityOptions);
    trueEntities = getEntitiesStrict(yTrue, scheme, entityOptions);
    predEntities = getEntitiesStrict(yPred, scheme, entityOptions);
  } else {
    trueEntities = getEntities(yTrue, entityOptions);
    predEntities = getEntities(yPred, entityOptions);
  }

  // Per type: sets of span keys (a set, as seqeval's, so a duplicate span counts once).
  const group = (spans: EntitySpan[]): Map<string, Set<string>> => {
    const m = new Map<string, Set<string>>();
    for (const e of spans) {
      if (!m.has(e.type)) m.set(e.type, new Set());
      m.get(e.type)!.add(spanKey(e));
    }
    return m;
  };
  const trueByType = group(trueEntities);
  const predByType = group(predEntities);
  const types = [...new Set([...trueByType.keys(), ...predByType.keys()])].sort(byCodeUnit);

  const ratio = (a: number, b: number): number => (b === 0 ? zd : a / b);
  const f1 = (p: number, r: number): number => (p + r === 0 ? 0 : (2 * p * r) / (p + r));
  const tp: number[] = [], nPred: number[] = [], nTrue: number[] = [];
  for (const t of types) {
    const ts = trueByType.get(t) ?? new Set<string>();
    const ps = predByType.get(t) ?? new Set<string>();
    let hit = 0;
    for (const k of ps) if (ts.has(k)) hit++;
    tp.push(hit);
    nPred.push(ps.size);
    nTrue.push(ts.size);
  }
  const perType: ClassScores[] = types.map((_, k) => {
    const precision = ratio(tp[k], nPred[k]);
    const recall = ratio(tp[k], nTrue[k]);
    return { precision, recall, f1: f1(precision, recall), support: nTrue[k] };
  });

  const total = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  const support = total(nTrue);
  const predicted = total(nPred);
  const microP = ratio(total(tp), predicted);
  const microR = ratio(total(tp), support);
  const mean = (pick: (s: ClassScores) => number, weight: (k: number) => number): number => {
    const w = types.reduce((a, _, k) => a + weight(k), 0);
    return w === 0 ? 0 : perType.reduce((a, s, k) => a + pick(s) * weight(k), 0) / w;
  };
  const macroAvg: ClassScores = {
    precision: mean((s) => s.precision, () => 1),
    recall: mean((s) => s.recall, () => 1),
    f1: mean((s) => s.f1, () => 1),
    support,
  };
  // seqeval: with zero total support the weighted scores are zeroDivision (precision and F1
  // only when nothing was predicted either, else 0), not a weighted mean.
  const weightedAvg: ClassScores = support === 0
    ? { precision: predicted === 0 ? zd : 0, recall: zd, f1: predicted === 0 ? zd : 0, support }
    : { precision: mean((s) => s.precision, (k) => nTrue[k]), recall: mean((s) => s.recall, (k) => nTrue[k]), f1: mean((s) => s.f1, (k) => nTrue[k]), support };
  return {
    types,
    perType,
    microAvg: { precision: microP, recall: microR, f1: f1(microP, microR), support },
    macroAvg,
    weightedAvg,
    trueEntities,
    predEntities,
  };
}

/**
 * The report as text, laid out exactly like seqeval's `classification_report(..., digits)`
 * (its StringReporter): per-type rows, a blank line, micro / macro / weighted avg rows.
 */
export function formatEntityReport(report: EntityReport, digits = 2): string {
  const width = Math.max(...report.types.map((t) => t.length), 'weighted avg'.length, digits);
  const num = (x: number) => ` ${formatFixed(x, digits).padStart(9)}`;
  const row = (name: string, s: ClassScores) => `${name.padStart(width)} ${num(s.precision)}${num(s.recall)}${num(s.f1)} ${String(s.support).padStart(9)}`;
  const header = `${''.padStart(width)} ${['precision', 'recall', 'f1-score', 'support'].map((h) => ` ${h.padStart(9)}`).join('')}\n\n`;
  const lines = report.types.map((t, k) => row(t, report.perType[k]));
  lines.push('', row('micro avg', report.microAvg), row('macro avg', report.macroAvg), row('weighted avg', report.weightedAvg), '');
  return header + lines.join('\n');
}
