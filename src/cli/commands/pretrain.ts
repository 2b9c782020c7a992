/**
 * heed pretrain mlm|clm [--corpus sotu,moby-dick,spam] [--text-files a.txt,...] [--<key> value ...] [--out dir]
 *
 * Pretrains a small language model on plain text: `mlm` a BERT-style masked LM (a
 * TransformerTextEncoder whose weights a classifier's backbone starts from with
 * `heed train <task> --init-from <dir>`), `clm` a GPT-style causal LM. The same as
 * `heed train mlm` / `heed train clm`: every config key is a flag, and --resume works.
 */
import { TASKS } from '../../tasks/index.js';
import { ConfigError } from '../../errors.js';
import { runTrain } from './train.js';
import type { Command } from './command.js';

/** The pretraining objectives; each is a task of the same name. */
export const PRETRAIN_OBJECTIVES = Object.freeze(['mlm', 'clm'] as const);

export async function runPretrain(args: string[]): Promise<number> {
  const objective = args[0];
  const known = PRETRAIN_OBJECTIVES.filter((o) => Object.hasOwn(TASKS, o));
  if (objective === undefined || objective.startsWith('--')) {
    throw new ConfigError(`heed pretrain: missing the objective. Usage: heed pretrain <${known.join('|')}> [--corpus ...] [--key value ...]. Valid objectives: ${known.join(', ')}.`);
  }
  if (!known.includes(objective as (typeof PRETRAIN_OBJECTIVES)[number])) {
    throw new ConfigError(`heed pretrain: unknown objective '${objective}'. Valid objectives: ${known.join(', ')}.`);
  }
  return runTrain(args);
}

export const pretrainCommand: Command = {
  summary: 'pretrain a small language model on plain text (mlm: masked LM, clm: causal LM) for --init-from',
  usage: 'heed pretrain <mlm|clm> [--corpus spam,sotu,moby-dick] [--text-files a.txt,b.txt] [--<key> value ...] [--out dir] [--resume]\n\n' +
    'The config keys are those of `heed train mlm` (see heed train --help).',
  run: runPretrain,
};
