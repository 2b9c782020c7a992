/**
 * Reads a model directory's metrics.jsonl into chart series for the attention page.
 *
 * One JSON object per line. Two kinds of record are recognized, by their fields:
 *   - a step record has a numeric `step` and a numeric `loss` (optionally `lr`):
 *       {"step": 120, "epoch": 1, "loss": 2.31, "lr": 0.0005}
 *   - an epoch record has a numeric `epoch` and no `loss` of its own next to `step`, and
 *     carries validation metrics either flat or nested under `valid`:
 *       {"epoch": 1, "validLoss": 1.9, "validWer": 0.62}   or   {"epoch": 1, "valid": {"loss": 1.9, "wer": 0.62}}
 *     Every numeric field but `epoch`/`step` becomes a series (nested keys are joined with '.').
 * Lines that are neither, or not JSON, are skipped and counted.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface TrainingCurves {
  steps: { step: number[]; loss: number[]; lr: (number | null)[] };
  epochs: { epoch: number[]; series: Record<string, (number | null)[]> };
  skippedLines: number;
}

/** Largest metrics.jsonl read (a long run at one line per step stays well below). */
const MAX_BYTES = 32 << 20;

function flatten(obj: Record<string, unknown>, prefix: string, out: Record<string, number>): void {
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'epoch' || k === 'step') continue;
    const key = prefix === '' ? k : `${prefix}.${k}`;
    if (typeof v === 'number' && Number.isFinite(v)) out[key] = v;
    else if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, key, out);
  }
}

export function parseTrainingCurves(text: string): TrainingCurves {
  const curves: TrainingCurves = { steps: { step: [], loss: [], lr: [] }, epochs: { epoch: [], series: {} }, skippedLines: 0 };
  const epochRows: Record<string, number>[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line) as Record<string, unknown>;
    } catch {
      curves.skippedLines++;
      continue;
    }
    if (r === null || typeof r !== 'object') { curves.skippedLines++; continue; }
    if (typeof r.step === 'number' && typeof r.loss === 'number') {
      curves.steps.step.push(r.step);
      curves.steps.loss.push(r.loss);
      curves.steps.lr.push(typeof r.lr === 'number' ? r.lr : null);
    } else if (typeof r.epoch === 'number') {
      const row: Record<string, number> = {};
      flatten(r, '', row);
      curves.epochs.epoch.push(r.epoch);
      epochRows.push(row);
    } else {
      curves.skippedLines++;
    }
  }
  const keys = [...new Set(epochRows.flatMap((row) => Object.keys(row)))].sort();
  for (const k of keys) curves.epochs.series[k] = epochRows.map((row) => row[k] ?? null);
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
