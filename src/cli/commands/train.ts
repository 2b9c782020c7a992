/**
 * heed train <task> [--config file.json] [--<key> value ...] [--out dir] [--overwrite] [--resume]
 *
 * Config = task defaults ← config file ← flags. Every config key is a flag in kebab-case
 * (`dModel` ↔ `--d-model`; `--dModel` also works). Unknown keys and wrong types are rejected
 * with the list of valid keys. `--out` defaults to runs/<task>; a directory holding a different
 * model is refused unless --overwrite; --resume continues the run saved in <out>/last.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, kebab } from '../args.js';
import { getTask, hasTask, taskNames } from '../../tasks/index.js';
import { resolveTaskConfig } from '../../tasks/common.js';
import { prepareOutDir, readModelConfig, newRunId, recoverCheckpoint } from '../../io/checkpoint.js';
import { ConfigError } from '../../errors.js';
import type { Command } from './command.js';

const FLAGS = { config: 'string', out: 'string', overwrite: 'boolean', resume: 'boolean', progress: 'string' } as const;

export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`--config: cannot read '${path}' (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`);
  }
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`--config: '${path}' is not valid JSON (${(err as Error).message}).`);
  }
  if (j === null || typeof j !== 'object' || Array.isArray(j)) throw new ConfigError(`--config: '${path}' must hold a JSON object of config keys.`);
  return j as Record<string, unknown>;
}

export function trainUsage(): string {
  const lines = [
    'heed train <task> [--config file.json] [--<key> value ...] [--out dir] [--overwrite] [--resume] [--progress auto|plain|none]',
    '',
    'Every config key is a flag in kebab-case (--d-model 128; --dModel also works); --config takes a JSON',
    'object with the same keys in camelCase, and flags override it. --out defaults to runs/<task>; a',
    'directory holding another model is refused unless --overwrite. --resume continues <out>/last.',
    '',
    'Tasks:',
  ];
  for (const name of taskNames()) {
    const t = getTask(name);
    lines.push(`  ${name}  ${t.spec.summary}`, '    keys (flag = default):');
    const d = t.spec.defaults as unknown as Record<string, unknown>;
    const keys = Object.keys(t.spec.schema);
    for (let i = 0; i < keys.length; i += 4) lines.push('      ' + keys.slice(i, i + 4).map((k) => `--${kebab(k)} ${String(d[k])}`).join('  '));
  }
  return lines.join('\n');
}

export async function runTrain(args: string[]): Promise<number> {
  const taskName = args[0];
  if (taskName === undefined || taskName.startsWith('--')) {
    throw new ConfigError(`heed train: missing the task. Usage: heed train <task> [--key value ...]. Valid tasks: ${taskNames().join(', ')}.`);
  }
  if (!hasTask(taskName)) getTask(taskName); // a ConfigError listing the registered tasks
  const task = getTask(taskName);
  const parsed = parseArgs(args.slice(1), task.spec.schema as never, FLAGS, `heed train ${taskName}`);
  if (parsed.positional.length > 0) throw new ConfigError(`heed train: unexpected argument(s) ${parsed.positional.join(' ')}. Config values are given as --key value.`);
  const out = String(parsed.flags.out ?? join('runs', taskName));
  const progress = parsed.flags.progress as 'auto' | 'plain' | 'none' | undefined;
  if (progress !== undefined && !['auto', 'plain', 'none'].includes(progress)) throw new ConfigError(`--progress '${progress}', expected auto, plain or none.`);
  let user: Record<string, unknown> = {};
  let runId = newRunId();
  if (parsed.flags.resume === true) {
    const last = join(out, 'last');
    await recoverCheckpoint(last); // a save killed mid-swap leaves a complete copy beside last/
    if (!existsSync(join(last, 'config.json'))) throw new ConfigError(`--resume: '${last}' holds no checkpoint to resume. Fix: check --out, or train without --resume.`);
    const saved = readModelConfig(last);
    if (saved.task !== taskName) throw new ConfigError(`--resume: '${out}' holds a '${saved.task}' run, not '${taskName}'. Fix: run 'heed train ${saved.task} --out ${out} --resume'.`);
    runId = saved.runId;
    const { model: _model, ...savedConfig } = saved.config;
    user = savedConfig;
  } else if (parsed.flags.config !== undefined) {
    user = readConfigFile(String(parsed.flags.config));
  }
  const config = resolveTaskConfig(task.spec, { ...user, ...parsed.config });
  await prepareOutDir(out, { overwrite: parsed.flags.overwrite === true, runId });
  const r = await task.train(config as unknown as Record<string, unknown>, { out, runId, resume: parsed.flags.resume === true, progress });
  const metrics = r.metrics ? Object.entries(r.metrics).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ') : 'none';
  console.log(`heed train: ${r.steps} steps in ${r.seconds.toFixed(0)} s (${Math.round(r.tokensPerSecond)} tokens/s), stopped by ${r.stoppedBy}; last validation: ${metrics}.`);
  const resumable = existsSync(join(out, 'last')) ? ` (resumable state in ${join(out, 'last')})` : '';
  console.log(`Model saved to ${out}${resumable}. Try: heed eval ${out}   heed predict ${out} <input>`);
  return r.stoppedBy === 'interrupt' ? 130 : 0;
}

export const trainCommand: Command = {
  summary: 'train a task (g2p, ...) with config keys as flags; saves a model directory',
  get usage() {
    return trainUsage(); // read when asked: a --task-module may have registered tasks since load
  },
  run: runTrain,
};
