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
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readRegularFileTail } from '../io/read-file.js';

export interface TrainingCurves {
  steps: { step: number[]; loss: number[]; lr: (number | null)[] };
  /** Eval and epoch records, by step; each series has one value (or null) per entry of `step`. */
  evals: { step: number[]; epoch: (number | null)[]; series: Record<string, (number | null)[]> };
  skippedLines: number;
  /** True when the file was longer than MAX_TAIL_BYTES and only its tail (the recent part of the run) was read. */
  truncated: boolean;
}

/**
 * Most bytes of metrics.jsonl read per request: its tail, the recent part of the run. A step
 * line is ~150 bytes, so this holds ~13k logged steps and parses in a few ms; a 45 MB file costs
 * the same as a 2 MB one, and the event loop never waits on the read.
 */
export const MAX_TAIL_BYTES = 2 << 20;
/** Most series of eval/epoch records, and how deep nested metric objects are followed. */
export const MAX_SERIES = 64;
const MAX_DEPTH = 4;
const NOT_SERIES = new Set(['step', 'epoch', 'best', 'time', 'type']);

function flatten(obj: Record<string, unknown>, prefix: string, out: Map<string, number>, depth: number): void {
  for (const [k, v] of Object.entries(obj)) {
    if (NOT_SERIES.has(k)) continue;
    const key = `${prefix}.${k}`;
    if (typeof v === 'number' && Number.isFinite(v)) out.set(key, v);
    else if (depth < MAX_DEPTH && v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, key, out, depth + 1);
  }
}

export function parseTrainingCurves(text: string): TrainingCurves {
  const curves: TrainingCurves = { steps: { step: [], loss: [], lr: [] }, evals: { step: [], epoch: [], series: {} }, skippedLines: 0, truncated: false };
  const rows: { step: number; epoch: number | null; values: Map<string, number> }[] = [];
  const keys = new Set<string>();
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
      const values = new Map<string, number>();
      flatten(r, r.type === 'eval' ? 'valid' : 'train', values, 0);
      // A series beyond MAX_SERIES is dropped: a record with thousands of keys cannot blow up the answer.
      for (const k of values.keys()) {
        if (!keys.has(k) && keys.size >= MAX_SERIES) values.delete(k);
        else keys.add(k);
      }
      rows.push({ step: r.step, epoch, values });
    } else {
      curves.skippedLines++;
    }
  }
  rows.sort((a, b) => a.step - b.step);
  curves.evals.step = rows.map((row) => row.step);
  curves.evals.epoch = rows.map((row) => row.epoch);
  // Own data properties only (a key named __proto__ stays a plain key).
  for (const k of [...keys].sort()) Object.defineProperty(curves.evals.series, k, { value: rows.map((row) => row.values.get(k) ?? null), enumerable: true, writable: true, configurable: true });
  return curves;
}

/**
 * The last `maxBytes` of metrics.jsonl as text starting at a line boundary, or null when the file
 * is gone. Anything but a regular file (a FIFO, /dev/zero behind a symlink, a directory) is a
 * CheckpointError (io/read-file.ts).
 */
export async function readFileTail(path: string, maxBytes: number): Promise<{ text: string; truncated: boolean } | null> {
  let tail;
  try {
    tail = await readRegularFileTail(path, { what: 'metrics log (metrics.jsonl written by heed train)', maxBytes });
  } catch (e) {
    if ((await stat(path).catch(() => null)) === null) return null; // removed meanwhile
    throw e;
  }
  let text = tail.bytes.toString('utf8');
  // Starting mid-file, the first line is a fragment: drop it.
  if (tail.start > 0) text = text.slice(text.indexOf('\n') + 1);
  return { text, truncated: tail.start > 0 };
}

/** Parsed curves by path, reused while the file's size and mtime are unchanged (a page polls them). */
const cache = new Map<string, { stamp: string; curves: Promise<TrainingCurves> }>();

/** The curves of a model directory, from the tail of its metrics.jsonl; empty series when it has none. */
export async function readTrainingCurves(dir: string): Promise<TrainingCurves> {
  const path = join(dir, 'metrics.jsonl');
  const st = await stat(path).catch(() => null);
  if (st === null) return parseTrainingCurves('');
  const stamp = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
  const hit = cache.get(path);
  if (hit !== undefined && hit.stamp === stamp) return hit.curves;
  const curves = readFileTail(path, MAX_TAIL_BYTES).then((tail) =>
    tail === null ? parseTrainingCurves('') : { ...parseTrainingCurves(tail.text), truncated: tail.truncated });
  cache.set(path, { stamp, curves });
  curves.catch(() => { if (cache.get(path)?.curves === curves) cache.delete(path); });
  return curves;
}
