/**
 * Evaluation metrics: edit distance, G2P word and phoneme error rates, and a classification
 * report laid out like scikit-learn's `classification_report`.
 *
 * G2P conventions follow cmusphinx/g2p-seq2seq (g2p_seq2seq/g2p.py `calc_errors`): a word with
 * several reference pronunciations is correct if the prediction equals any of them (WER), and
 * its phoneme errors are the edit distance to the closest reference, divided by the summed
 * lengths of those closest references (PER).
 *
 * Classification follows sklearn.metrics.precision_recall_fscore_support / classification_report:
 * an undefined precision or recall (0/0) counts as 0 (sklearn's zero_division default).
 */

import { ShapeError, ValueError } from '../errors.js';

/** Levenshtein distance between two sequences (unit cost insert, delete, substitute). */
export function editDistance<T>(a: ArrayLike<T>, b: ArrayLike<T>): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length];
}

function sameLength(op: string, preds: unknown[], refs: unknown[]): void {
  if (preds.length !== refs.length) throw new ShapeError(`${op}: preds has ${preds.length} items but refs has ${refs.length}; expected one reference list per prediction.`);
  refs.forEach((r, i) => {
    if (!Array.isArray(r) || r.length === 0) throw new ValueError(`${op}: refs[${i}] must be a non-empty array of reference sequences, received ${JSON.stringify(r)}.`);
  });
}

/** Fraction of words whose prediction equals none of its references. preds[i]: symbols; refs[i]: reference symbol lists. */
export function wordErrorRate(preds: readonly string[][], refs: readonly string[][][]): number {
  sameLength('wordErrorRate', preds as string[][], refs as string[][][]);
  if (preds.length === 0) return 0;
  let errors = 0;
  preds.forEach((p, i) => {
    const key = p.join(' ');
    if (!refs[i].some((r) => r.join(' ') === key)) errors++;
  });
  return errors / preds.length;
}

/** Σ (edit distance to the closest reference) / Σ (length of that reference). */
export function phonemeErrorRate(preds: readonly string[][], refs: readonly string[][][]): number {
  sameLength('phonemeErrorRate', preds as string[][], refs as string[][][]);
  let errors = 0;
  let total = 0;
  preds.forEach((p, i) => {
    let best = Infinity;
    let bestLength = 0;
    for (const r of refs[i]) {
      const d = editDistance(p, r);
      if (d < best) {
        best = d;
        bestLength = r.length;
      }
    }
    errors += best;
    total += bestLength;
  });
  return total === 0 ? 0 : errors / total;
}

/** Precision, recall, F1 and support of one class (or of an average). */
export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** What classificationReport returns; formatClassificationReport prints it like scikit-learn. */
export interface ClassificationReport {
  labels: number[];
  /** Display name of each label (targetNames, or the label as a string). */
  names: string[];
  perClass: ClassScores[];
  accuracy: number;
  /** Micro average over `labels`; equals accuracy when `labels` covers every class present. */
  microAvg: ClassScores;
  macroAvg: ClassScores;
  weightedAvg: ClassScores;
  /** confusion[i][j] = count of true labels[i] predicted as labels[j]. */
  confusion: number[][];
  /** Whether micro average equals accuracy (sklearn then prints an "accuracy" row instead). */
  microIsAccuracy: boolean;
}

/** Options of classificationReport. */
export interface ClassificationReportOptions {
  /** Labels to report, in order. Default: every label in yTrue or yPred, sorted. */
  labels?: number[];
  /** Names printed for each label, same order as labels. */
  targetNames?: string[];
}

const safeDiv = (a: number, b: number): number => (b === 0 ? 0 : a / b);
const f1Of = (p: number, r: number): number => safeDiv(2 * p * r, p + r);

/** Accuracy, per-class precision / recall / F1 / support, averages and the confusion matrix. */
export function classificationReport(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, options: ClassificationReportOptions = {}): ClassificationReport {
  if (yTrue.length !== yPred.length) throw new ShapeError(`classificationReport: yTrue has ${yTrue.length} items but yPred has ${yPred.length}; expected equal lengths.`);
  const present = [...new Set([...Array.from(yTrue), ...Array.from(yPred)])].sort((a, b) => a - b);
  const labels = options.labels ?? present;
  if (options.targetNames && options.targetNames.length !== labels.length) {
    throw new ValueError(`classificationReport: targetNames has ${options.targetNames.length} names for ${labels.length} labels [${labels.join(', ')}]; expected one name per label.`);
  }
  const names = options.targetNames ?? labels.map(String);
  const index = new Map(labels.map((l, i) => [l, i]));

  const K = labels.length;
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  let correct = 0;
  for (let i = 0; i < yTrue.length; i++) {
    if (yTrue[i] === yPred[i]) correct++;
    const t = index.get(yTrue[i]);
    const p = index.get(yPred[i]);
    if (t !== undefined && p !== undefined) confusion[t][p]++;
  }
  // Per-class counts over all samples (a prediction of an unlisted label is still a miss).
  const tp = new Array<number>(K).fill(0);
  const predicted = new Array<number>(K).fill(0);
  const support = new Array<number>(K).fill(0);
  for (let i = 0; i < yTrue.length; i++) {
    const t = index.get(yTrue[i]);
    const p = index.get(yPred[i]);
    if (t !== undefined) support[t]++;
    if (p !== undefined) predicted[p]++;
    if (t !== undefined && yTrue[i] === yPred[i]) tp[t]++;
  }

  const perClass = labels.map((_, k) => {
    const precision = safeDiv(tp[k], predicted[k]);
    const recall = safeDiv(tp[k], support[k]);
    return { precision, recall, f1: f1Of(precision, recall), support: support[k] };
  });
  const totalSupport = support.reduce((a, b) => a + b, 0);
  const sum = (f: (s: ClassScores) => number, weighted: boolean) =>
    perClass.reduce((acc, s) => acc + f(s) * (weighted ? s.support : 1), 0) / (weighted ? totalSupport || 1 : K || 1);
  const average = (weighted: boolean): ClassScores => ({
    precision: sum((s) => s.precision, weighted),
    recall: sum((s) => s.recall, weighted),
    f1: sum((s) => s.f1, weighted),
    support: totalSupport,
  });
  const tpAll = tp.reduce((a, b) => a + b, 0);
  const microP = safeDiv(tpAll, predicted.reduce((a, b) => a + b, 0));
  const microR = safeDiv(tpAll, totalSupport);

  return {
    labels,
    names,
    perClass,
    accuracy: safeDiv(correct, yTrue.length),
    microAvg: { precision: microP, recall: microR, f1: f1Of(microP, microR), support: totalSupport },
    macroAvg: average(false),
    weightedAvg: average(true),
    confusion,
    microIsAccuracy: present.every((l) => index.has(l)),
  };
}

/**
 * The confusion matrix C[i][j] = examples of true label i predicted as j, rows and columns in the
 * order of `options.labels` (default: the sorted labels present), as sklearn's confusion_matrix.
 */
export function confusionMatrix(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, options: { labels?: number[] } = {}): number[][] {
  return classificationReport(yTrue, yPred, { labels: options.labels }).confusion;
}

/** x with `digits` decimals, ties to even like Python's format(x, '.2f') (JavaScript's toFixed rounds ties up). */
export function formatFixed(x: number, digits: number): string {
  // An exact tie is a dyadic rational: x · 2^(digits+1) is an odd integer (e.g. 0.125 at 2 digits).
  const t = x * 2 ** (digits + 1);
  if (Number.isInteger(t) && t % 2 !== 0) {
    const scaled = Math.floor(x * 10 ** digits);
    const even = scaled % 2 === 0 ? scaled : scaled + 1;
    return (even / 10 ** digits).toFixed(digits);
  }
  return x.toFixed(digits);
}

/**
 * The report as text, laid out exactly like sklearn's `classification_report(..., digits)`,
 * then the confusion matrix (rows: true label, columns: predicted label).
 */
export function formatClassificationReport(report: ClassificationReport, digits = 2): string {
  const headers = ['precision', 'recall', 'f1-score', 'support'];
  const width = Math.max(...report.names.map((n) => n.length), 'weighted avg'.length, digits);
  const num = (x: number) => formatFixed(x, digits).padStart(9);
  const row = (name: string, s: ClassScores) => `${name.padStart(width)}  ${num(s.precision)} ${num(s.recall)} ${num(s.f1)} ${String(s.support).padStart(9)}\n`;

  let out = `${''.padStart(width)} ${headers.map((h) => ` ${h.padStart(9)}`).join('')}\n\n`;
  report.perClass.forEach((s, k) => (out += row(report.names[k], s)));
  out += '\n';
  if (report.microIsAccuracy) {
    out += `${'accuracy'.padStart(width)}  ${''.padStart(9)} ${''.padStart(9)} ${num(report.accuracy)} ${String(report.microAvg.support).padStart(9)}\n`;
  } else {
    out += row('micro avg', report.microAvg);
  }
  out += row('macro avg', report.macroAvg);
  out += row('weighted avg', report.weightedAvg);

  out += '\nconfusion matrix (rows: true, columns: predicted)\n';
  const cell = Math.max(...report.names.map((n) => n.length), ...report.confusion.flat().map((c) => String(c).length), 1);
  const nameWidth = Math.max(...report.names.map((n) => n.length), 1);
  out += `${''.padStart(nameWidth)} ${report.names.map((n) => ` ${n.padStart(cell)}`).join('')}\n`;
  report.confusion.forEach((r, k) => (out += `${report.names[k].padStart(nameWidth)} ${r.map((c) => ` ${String(c).padStart(cell)}`).join('')}\n`));
  return out;
}
