/**
 * The one registry of trainable tasks. Built-in tasks (src/tasks/index.ts) and a user's tasks are
 * added by the same call, registerTask, and everything downstream (heed train / eval / predict /
 * serve / viz, loadPredictor) looks tasks up here by name, with no list of its own.
 *
 * registerTask takes the public form ({ name, configSchema, defaults, loadData, buildModel,
 * lossAndMetrics, predictor }, compiled by defineTask) or an already compiled TaskDefinition.
 *
 * A user's task lives in the user's module, so a process that did not import that module (the
 * `heed` CLI, a serve worker thread) cannot know it: `heed --task-module ./my-task.js …` and
 * createServer({ taskModules }) import such modules first; importTaskModules records them so the
 * server's workers import them too. Nothing is ever imported because a file on disk names it.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.js';
import { quoteName } from '../io/json.js';
import type { Module } from '../nn/module.js';
import type { TaskDefinition } from './common.js';
import { defineTask, type CustomTask } from './define-task.js';

const registry = new Map<string, TaskDefinition>();
const importedModules: string[] = [];

function isDefinition(t: unknown): t is TaskDefinition {
  const d = t as TaskDefinition;
  return d !== null && typeof d === 'object' && typeof d.spec === 'object' && typeof d.train === 'function' && typeof d.loadPredictor === 'function';
}

/**
 * Adds a task under its name. Registering a name twice is a ConfigError unless `replace` is set
 * (a module imported twice under different URLs would otherwise shadow a task silently).
 * Returns the compiled definition.
 */
export function registerTask<C extends object, E, M, Mod extends Module>(task: CustomTask<C, E, M, Mod> | TaskDefinition, options: { replace?: boolean } = {}): TaskDefinition {
  const def = isDefinition(task) ? task : defineTask(task);
  const name = def.spec.name;
  if (registry.has(name) && !options.replace) {
    throw new ConfigError(`registerTask: a task named ${quoteName(name)} is already registered. Fix: choose another name, or pass { replace: true }.`);
  }
  registry.set(name, def);
  return def;
}

/** Names of every registered task, in registration order (built-ins first). */
export function taskNames(): string[] {
  return [...registry.keys()];
}

/** Whether `name` is a registered task (a Map lookup: '__proto__' finds nothing). */
export function hasTask(name: string): boolean {
  return registry.has(name);
}

/** The task named `name`; a ConfigError listing the registered tasks when there is none. */
export function getTask(name: string): TaskDefinition {
  const t = registry.get(name);
  if (t === undefined) throw new ConfigError(`unknown task ${quoteName(name)}. Valid tasks: ${taskNames().join(', ')}. A task of your own must be registered first (heed --task-module ./my-task.js).`);
  return t;
}

/**
 * Imports modules that call registerTask (paths relative to the working directory, or file URLs),
 * and remembers them for serve workers. A module that fails to import is a ConfigError naming it.
 */
export async function importTaskModules(modules: readonly string[]): Promise<void> {
  for (const m of modules) {
    const url = m.startsWith('file:') ? m : pathToFileURL(resolve(m)).href;
    try {
      await import(url);
    } catch (err) {
      throw new ConfigError(`--task-module ${quoteName(m)}: the module failed to import (${(err as Error).message.split('\n')[0]}). Fix: check the path; it must be an ES module that calls heed.registerTask.`);
    }
    if (!importedModules.includes(url)) importedModules.push(url);
  }
}

/** URLs of the task modules imported so far (what serve workers import). */
export function taskModuleUrls(): string[] {
  return [...importedModules];
}
