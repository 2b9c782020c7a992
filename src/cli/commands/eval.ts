/** heed eval <model-dir> [--split test] [--limit N] [--beam-size K] [--json] */
import { parseArgs } from '../args.js';
import { getTask } from '../../tasks/index.js';
import { readModelConfig } from '../../io/checkpoint.js';
import { ConfigError } from '../../errors.js';
import type { Command } from '../main.js';

const FLAGS = { split: 'string', limit: 'string', beamSize: 'string', json: 'boolean' } as const;

export async function runEval(args: string[]): Promise<number> {
  const parsed = parseArgs(args, null, FLAGS, 'heed eval');
  if (parsed.positional.length !== 1) throw new ConfigError(`heed eval: expected one model directory, received ${parsed.positional.length}. Usage: heed eval <model-dir> [--split test]`);
  const dir = parsed.positional[0];
  const task = getTask(readModelConfig(dir).task);
  const int = (name: string, v: unknown): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new ConfigError(`heed eval: --${name} must be a non-negative integer, received '${String(v)}'.`);
    return n;
  };
  const r = await task.evaluate(dir, { split: String(parsed.flags.split ?? 'test'), limit: int('limit', parsed.flags.limit), beamSize: int('beam-size', parsed.flags.beamSize) });
  console.log(parsed.flags.json ? JSON.stringify({ split: r.split, ...r.metrics }) : r.report);
  return 0;
}

export const evalCommand: Command = {
  summary: 'evaluate a model directory on a split (default test)',
  usage: 'heed eval <model-dir> [--split train|valid|test] [--limit N] [--beam-size K] [--json]',
  run: runEval,
};
