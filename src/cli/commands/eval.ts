/**
 * heed eval <model-dir>[,<model-dir>...] [--split test] [--limit N] [--beam-size K] [--json]
 * Several comma-separated directories are scored as one checkpoint ensemble.
 */
import { modelDirsArg, parseArgs } from '../args.js';
import { evaluate } from '../../tasks/index.js';
import { ConfigError } from '../../errors.js';
import type { Command } from './command.js';

const FLAGS = { split: 'string', limit: 'string', beamSize: 'string', json: 'boolean' } as const;

export async function runEval(args: string[]): Promise<number> {
  const parsed = parseArgs(args, null, FLAGS, 'heed eval');
  if (parsed.positional.length !== 1) {
    throw new ConfigError(`heed eval: expected one model directory (or a comma-separated ensemble), received ${parsed.positional.length} arguments. Usage: heed eval <model-dir> [--split test]`);
  }
  const int = (name: string, v: unknown): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new ConfigError(`heed eval: --${name} must be a non-negative integer, received '${String(v)}'.`);
    return n;
  };
  const options = { split: String(parsed.flags.split ?? 'test'), limit: int('limit', parsed.flags.limit), beamSize: int('beam-size', parsed.flags.beamSize) };
  const r = await evaluate(modelDirsArg(parsed.positional[0]), options);
  console.log(parsed.flags.json ? JSON.stringify({ split: r.split, ...r.metrics }) : r.report);
  return 0;
}

export const evalCommand: Command = {
  summary: 'evaluate a model directory (or a comma-separated checkpoint ensemble) on a split (default test)',
  usage: 'heed eval <model-dir>[,<model-dir>...] [--split train|valid|test] [--limit N] [--beam-size K] [--json]',
  run: runEval,
};
