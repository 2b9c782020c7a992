/**
 * heed export onnx <model-dir> [--out file.onnx]
 *
 * Writes the model of a directory as ONNX (opset 17, standard operators only; see
 * src/compress/onnx/export.ts). Default output: <model-dir>/model.onnx; a sequence-to-sequence
 * model writes two graphs, <stem>.encoder.onnx and <stem>.decoder.onnx. Existing files are never
 * replaced. Prints each file with its inputs and outputs.
 */
import { join } from 'node:path';
import { parseArgs } from '../args.js';
import { loadTaskModel } from '../../tasks/index.js';
import { exportOnnx, writeOnnx } from '../../compress/onnx/export.js';
import { ConfigError } from '../../errors.js';
import type { Command } from './command.js';

const FLAGS = { out: 'string' } as const;
const FORMATS = ['onnx'];
const USAGE = 'heed export onnx <model-dir> [--out file.onnx]';

export async function runExport(args: string[]): Promise<number> {
  const parsed = parseArgs(args, null, FLAGS, 'heed export');
  const [format, dir, ...extra] = parsed.positional;
  if (format === undefined || !FORMATS.includes(format)) {
    throw new ConfigError(`heed export: format ${format === undefined ? 'missing' : `'${format}'`}, expected one of ${FORMATS.join(', ')}. Usage: ${USAGE}`);
  }
  if (dir === undefined || extra.length > 0) throw new ConfigError(`heed export: expected one model directory, received ${parsed.positional.length - 1}. Usage: ${USAGE}`);
  if (parsed.flags.out === true || parsed.flags.out === '') throw new ConfigError(`heed export: --out needs a file name. Usage: ${USAGE}`);
  const out = typeof parsed.flags.out === 'string' ? parsed.flags.out : join(dir, 'model.onnx');
  const { model, sampleInputs } = await loadTaskModel(dir);
  const exp = exportOnnx(model, sampleInputs);
  const paths = await writeOnnx(exp, out);
  const sig = (vs: { name: string; type: string; dims: (number | string)[] }[]) => vs.map((v) => `${v.name} ${v.type}[${v.dims.join(', ')}]`).join(', ');
  exp.graphs.forEach((g, k) => {
    console.log(`${paths[k]}\t${exp.model} ${g.name}, ${g.bytes.length} bytes, opset 17`);
    console.log(`  inputs:  ${sig(g.inputs)}`);
    console.log(`  outputs: ${sig(g.outputs)}`);
  });
  return 0;
}

export const exportCommand: Command = {
  summary: 'export a model directory to ONNX (opset 17), for onnxruntime and other runtimes',
  usage: USAGE,
  run: runExport,
};
