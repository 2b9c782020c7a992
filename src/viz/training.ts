/**
 * Reads a model directory's metrics.jsonl (written by src/train/trainer.ts) into chart series
 * for the attention page.
 *
 * One JSON object per line, told apart by `type`:
 *   {"type": "step",  "step": 120, "epoch": 1, "loss": 2.31, "lr": 0.0005, ...}  → per-step loss and lr
 *   {"type": "eval",  "step": 500, "epoch": 1, "wer": 0.62, "per": 0.21, ...}    → validation metrics
 *   {"type": "epoch", "step": 812, "epoch": 1, "meanLoss": 2.0}                   → mean training loss per epoch
 * Every other numeric field of an eval or epoch record becomes a series, plotted against step
 * (eval series are prefixed 'valid.', epoch ones 'train.'; nested objects are joined with '.').
 * Lines without a known type, or not JSON, are skipped and counted.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface TrainingCurves {
  steps: { step: number[]; loss: number[]; lr: (number | null)[] };
  /** Eval and epoch records, by step; each series has one value (or null) per entry of `step`. */
  evals: { step: number[]; epoch: (number | null)[]; series: Record<string, (number | null)[]> };
  skippedLines: number;
}

/** Largest metrics.jsonl read (a long run at one line per logged step stays well below). */
const MAX_BYTES = 32 << 20;
const NOT_SERIES = new Set(['step', 'epoch', 'best', 'time', 'type']);

function flatten(obj: Record<string, unknown>, prefix: string, out: Record<string, number>): void {
  for (const [k, v] of Object.entries(obj)) {
    if (NOT_SERIES.has(k)) continue;
    const key = `${prefix}.${k}`;
    if (typeof v === 'number' && Number.isFinite(v)) out[key] = v;
    else if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, key, out);
  }
}

export function parseTrainingCurves(text: string): TrainingCurves {
  const curves: TrainingCurves = { steps: { step: [], loss: [], lr: [] }, evals: { step: [], epoch: [], series: {} }, skippedLines: 0 };
  const rows: { step: number; epoch: number | null; values: Record<string, number> }[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line) as Record<string, unknown>;
    } catch {
      curves.skippedLines++;
      continue;
    }
    if (r === null || typeof r !== 'object' || typeof r.step !== 'number') { curves.skippedLines++; continue; }
    const epoch = typeof r.epoch === 'number' ? r.epoch : null;
    if (r.type === 'step' && typeof r.loss === 'number') {
      curves.steps.step.push(r.step);
      curves.steps.loss.push(r.loss);
      curves.steps.lr.push(typeof r.lr === 'number' ? r.lr : null);
    } else if (r.type === 'eval' || r.type === 'epoch') {
      const values: Record<string, number> = {};
      flatten(r, r.type === 'eval' ? 'valid' : 'train', values);
      rows.push({ step: r.step, epoch, values });
    } else {
      curves.skippedLines++;
    }
  }
  rows.sort((a, b) => a.step - b.step);
  const keys = [...new Set(rows.flatMap((row) => Object.keys(row.values)))].sort();
  curves.evals.step = rows.map((row) => row.step);
  curves.evals.epoch = rows.map((row) => row.epoch);
  for (const k of keys) curves.evals.series[k] = rows.map((row) => row.values[k] ?? null);
  return curves;
}

/** The curves of a model directory; empty series when it has no metrics.jsonl. */
export async function readTrainingCurves(dir: string): Promise<TrainingCurves> {
  const path = join(dir, 'metrics.jsonl');
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return parseTrainingCurves('');
  }
  const text = await readFile(path, 'utf8');
  // Keep the tail of an oversized file: the recent part of the run.
  return parseTrainingCurves(size > MAX_BYTES ? text.slice(text.length - MAX_BYTES) : text);
}
