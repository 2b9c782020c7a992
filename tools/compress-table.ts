/**
 * Prints BENCHMARKS.md's compression trade-off table from raw bench/compress.ts results files:
 *   node --import tsx tools/compress-table.ts bench/results/compress-<task>-<date>.json ...
 * A record with `missing` (a variant that cannot exist for its task, or was not measured) prints its
 * reason in place of figures. Ratios in parentheses are against the same task's fp32 row. The
 * onnx row's p50 is on pre-encoded inputs, so without a forward-only figure of its own its whole p50
 * fills the model-forward-only column.
 */
import { readFileSync } from 'node:fs';
import { metricText } from '../bench/compress.js';

interface Rec { task: string; variant: string; missing?: string; metrics: Record<string, number>; checkpointBytes: number; p50Ms: number; modelP50Ms?: number | null; throughput: number; peakRssBytes: number }
const records = process.argv.slice(2).flatMap((file) => (JSON.parse(readFileSync(file, 'utf8')) as { records: Rec[] }).records);
const lines = ['| task | variant | metric | checkpoint bytes | p50 latency, 1 request (ms) | p50, model forward only (ms) | throughput, batch 64 (inputs/s) | peak RSS (MiB) |', '|---|---|---|---:|---:|---:|---:|---:|'];
for (const r of records) {
  if (r.missing !== undefined) {
    lines.push(`| ${r.task} | ${r.variant} | — (${r.missing}) | | | | | |`);
    continue;
  }
  const fp32 = records.find((x) => x.task === r.task && x.variant === 'fp32' && x.missing === undefined);
  const rel = (a: number, b: number | undefined) => (b && r.variant !== 'fp32' ? ` (${(a / b).toFixed(2)}×)` : '');
  lines.push(`| ${r.task} | ${r.variant} | ${metricText(r.task, r.metrics)} | ${r.checkpointBytes.toLocaleString('en-US')}${rel(r.checkpointBytes, fp32?.checkpointBytes)} | ${r.p50Ms.toFixed(2)}${rel(r.p50Ms, fp32?.p50Ms)} | ${modelOnly(r, fp32)} | ${r.throughput.toFixed(0)}${rel(r.throughput, fp32?.throughput)} | ${(r.peakRssBytes / 2 ** 20).toFixed(0)} |`);
}
console.log(lines.join('\n'));

/**
 * The model-forward-only p50: heed's classifiers and tagger time it on the encoded input;
 * onnxruntime's rows on pre-encoded inputs, so an onnx row without its own figure (older files; g2p's
 * greedy loop) shows its whole p50 here. The tag onnx row times the graph alone (Viterbi excluded,
 * as from heed's forward). Ratios against heed's fp32 forward.
 */
function modelOnly(r: Rec, fp32: Rec | undefined): string {
  const ms = r.modelP50Ms ?? (r.variant === 'onnx' ? r.p50Ms : null);
  if (ms === undefined || ms === null) return '';
  const base = fp32?.modelP50Ms;
  return `${ms.toFixed(2)}${base && r.variant !== 'fp32' ? ` (${(ms / base).toFixed(2)}×)` : ''}`;
}
