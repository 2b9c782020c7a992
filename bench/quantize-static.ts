/**
 * Static against dynamic int8 quantization on trained spam and digits models (issue 15): validation
 * accuracy of the fp32 model, its dynamic int8 copy (`heed compress --quantize int8`) and its static
 * copy (`--quantize int8-static --calibrate N`: activation scales calibrated on the first N
 * validation examples; the accuracy is read on the same split, so N ≪ its size keeps it honest).
 *
 *   node --import tsx bench/quantize-static.ts --spam <dir> --digits <dir> [--calibrate 256] [--out bench/results/quantize-static-<date>.json]
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir, loadavg } from 'node:os';
import { compressModelDir } from '../src/tasks/compress.js';
import { evaluate } from '../src/tasks/index.js';
import { readArgs } from './args.ts';

const args = process.argv.slice(2);
const flags = readArgs(import.meta.url, {
  spam: { kind: 'string', help: 'the trained spam model directory' },
  digits: { kind: 'string', help: 'the trained digits model directory' },
  calibrate: { kind: 'int', default: 256, min: 1, help: 'inputs the static scales are calibrated on' },
  out: { kind: 'string', help: 'results file (JSON)' },
});
const N = flags.calibrate;
const tmp = mkdtempSync(join(tmpdir(), 'heed-quantize-static-'));
const rows: Record<string, unknown>[] = [];
const loadBefore = loadavg();
for (const task of ['spam', 'digits']) {
  const dir = flags[task as 'spam' | 'digits'];
  if (dir === undefined) continue;
  const dyn = join(tmp, `${task}-int8`), stat = join(tmp, `${task}-int8-static`);
  await compressModelDir(dir, dyn, { quantize: 'int8' });
  await compressModelDir(dir, stat, { quantize: 'int8-static', calibrate: N });
  for (const [variant, d] of [['fp32', dir], ['int8 dynamic', dyn], [`int8 static (calibrated on ${N})`, stat]]) {
    const r = await evaluate(d, { split: 'valid' });
    rows.push({ task, variant, split: 'valid', accuracy: r.metrics.accuracy, examples: r.metrics.examples });
    console.log(`${task}  ${variant}: valid accuracy ${(100 * r.metrics.accuracy).toFixed(2)}% (${r.metrics.examples} examples)`);
  }
}
const out = flags.out;
if (out) writeFileSync(out, `${JSON.stringify({ command: `node --import tsx bench/quantize-static.ts ${args.join(' ')}`, date: new Date().toISOString(), calibrate: N, loadavgBefore: loadBefore, loadavgAfter: loadavg(), rows }, null, 1)}\n`);
