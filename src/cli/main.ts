/**
 * The `heed` command line. Each subcommand lives in its own file under src/cli/
 * and is registered in COMMANDS; main() parses nothing itself beyond the command name.
 */
import { VERSION } from '../version.js';
import { backendInfo } from '../backend/registry.js';
import { ConfigError, HeedError } from '../errors.js';
import { demoCommand } from './commands/demo.js';
import { trainCommand } from './commands/train.js';
import { evalCommand } from './commands/eval.js';
import { predictCommand } from './commands/predict.js';
import { compressCommand } from './commands/compress.js';
import { exportCommand } from './commands/export.js';
import { pretrainCommand } from './commands/pretrain.js';
import type { Command } from './commands/command.js';
import { runServe } from './serve.js';
import { runViz } from './viz.js';
import { importTaskModules } from '../tasks/registry.js';

/** One entry per subcommand; each lives in src/cli/commands/<name>.ts. */
export const COMMANDS: Record<string, Command> = {
  demo: demoCommand,
  train: trainCommand,
  eval: evalCommand,
  predict: predictCommand,
  compress: compressCommand,
  export: exportCommand,
  pretrain: pretrainCommand,
  serve: { summary: 'serve models over HTTP: auth, batching, limits, metrics, /ui page', usage: 'heed serve <model-dir|name=dir>... [--port 8080] [--host 127.0.0.1] [--api-key-file f] [--workers n] [--max-batch-size n] ...', run: runServe },
  viz: { summary: 'attention maps and training curves of one model in a local browser page', usage: 'heed viz <model-dir> [--port 8081] [--host 127.0.0.1]', run: runViz },
};

function versionText(): string {
  const b = backendInfo();
  return `heed ${VERSION} (node ${process.version}; backend ${b.backend}, isa ${b.isa}, threads ${b.threads}` +
    (b.nativeAvailable ? '' : `; native unavailable: ${b.nativeError}`) + ')';
}

function helpText(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'Usage: heed <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Options:',
    '  --help, -h     show help (also: heed <command> --help)',
    '  --version, -v  print the version, backend, ISA and thread count',
    '  --task-module <file.js>  import an ES module that registers tasks (heed.registerTask) first;',
    '                 any command, repeatable; heed serve\'s workers import it too',
    '',
    'Environment: HEED_BACKEND=js|native, HEED_NUM_THREADS=n',
  ].join('\n');
}

/** Takes every `--task-module <file>` (or `--task-module=<file>`) out of argv. */
export function takeTaskModules(argv: readonly string[]): { modules: string[]; rest: string[] } {
  const modules: string[] = [], rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--task-module') {
      if (i + 1 >= argv.length) throw new ConfigError('--task-module needs a file: heed --task-module ./my-task.js train my-task');
      modules.push(argv[++i]);
    } else if (a.startsWith('--task-module=')) modules.push(a.slice('--task-module='.length));
    else rest.push(a);
  }
  return { modules, rest };
}

export async function main(argvWithModules: string[]): Promise<number> {
  let argv: string[];
  try {
    const taken = takeTaskModules(argvWithModules);
    await importTaskModules(taken.modules);
    argv = taken.rest;
  } catch (e) {
    if (e instanceof HeedError) {
      console.error(`heed: ${e.name}: ${e.message}`);
      return 1;
    }
    throw e;
  }
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(helpText());
    return cmd === undefined ? 1 : 0;
  }
  if (cmd === '--version' || cmd === '-v') {
    console.log(versionText());
    return 0;
  }
  // Own properties only: 'heed constructor' must not find Object.prototype.constructor.
  const command = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
  if (command === undefined) {
    console.error(`heed: unknown command '${cmd}'. Valid commands: ${Object.keys(COMMANDS).join(', ')}. See 'heed --help'.`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`Usage: ${command.usage}\n\n${command.summary}`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof HeedError) {
      console.error(`heed ${cmd}: ${e.name}: ${e.message}`);
      return 1;
    }
    if (e instanceof Error && (e as NodeJS.ErrnoException).code === 'EPIPE') return 0;
    throw e;
  }
}
