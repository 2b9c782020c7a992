/**
 * heed predict <model-dir>[,<model-dir>...] <input...> [--n-best K] [--attention] [--json]
 * With no inputs and a non-TTY stdin, reads one input per line from stdin.
 * Several comma-separated directories form a checkpoint ensemble (probabilities averaged).
 */
import { modelDirsArg, parseArgs } from '../args.js';
import { loadPredictor } from '../../tasks/index.js';
import { ConfigError, ValueError } from '../../errors.js';
import type { Command } from './command.js';

const FLAGS = { nBest: 'string', attention: 'boolean', json: 'boolean' } as const;

async function readStdinLines(): Promise<string[]> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
}

export async function runPredict(args: string[]): Promise<number> {
  const parsed = parseArgs(args, null, FLAGS, 'heed predict');
  const [dirArg, ...given] = parsed.positional;
  if (dirArg === undefined) throw new ConfigError('heed predict: missing the model directory. Usage: heed predict <model-dir> <input...>');
  let inputs = given;
  if (inputs.length === 0) {
    if (process.stdin.isTTY) throw new ValueError('heed predict: no inputs. Give them as arguments (heed predict runs/demo hello world) or one per line on stdin.');
    inputs = await readStdinLines();
    if (inputs.length === 0) throw new ValueError('heed predict: stdin held no inputs (empty input). Give one input per line.');
  }
  const nBest = parsed.flags.nBest === undefined ? 1 : Number(parsed.flags.nBest);
  if (!Number.isInteger(nBest) || nBest < 1) throw new ConfigError(`heed predict: --n-best must be a positive integer, received '${String(parsed.flags.nBest)}'.`);
  const predictor = await loadPredictor(modelDirsArg(dirArg));
  for (const x of inputs) predictor.validateInput(x); // fail before any work, naming the bad input
  const preds = predictor.predict(inputs, { nBest, attention: parsed.flags.attention === true });
  for (const p of preds) {
    if (parsed.flags.json) {
      console.log(JSON.stringify(p));
      continue;
    }
    // Structured outputs (a forecast's timestamps and quantiles) print as one JSON line.
    console.log(`${String(p.input)}\t${typeof p.output === 'object' && p.output !== null ? JSON.stringify(p.output) : String(p.output)}`);
    for (const a of p.alternatives?.slice(1, nBest) ?? []) console.log(`  alt\t${String(a.output)}\t(score ${a.score.toFixed(3)})`);
  }
  return 0;
}

export const predictCommand: Command = {
  summary: 'run a trained model on inputs (arguments, or one per line on stdin)',
  usage: 'heed predict <model-dir>[,<model-dir>...] <input...> [--n-best K] [--attention] [--json]',
  run: runPredict,
};
