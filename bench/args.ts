/**
 * The bench scripts' command-line reader: each script declares its flags (name, kind, default,
 * allowed range or values, help), and gets them typed and checked.
 *
 *   const args = readArgs(import.meta.url, {
 *     rounds: { kind: 'int', default: 9, min: 1, help: 'interleaved rounds' },
 *     out: { kind: 'string', default: '', help: 'write the raw results here (JSON)' },
 *     cpu: { kind: 'bool', help: 'time on the process CPU clock' },
 *   });
 *   args.rounds; // number
 *
 * Kinds: `number`, `int`, `string`, `bool` (present or not), and comma-separated lists `ints`,
 * `numbers`, `strings` (`--threads 1,2`); a `strings` flag with `repeat: true` is given once per
 * value instead (`--model a=x --model b=y`). `--flag value` and `--flag=value` both work; a flag
 * named `max-steps` is `args.maxSteps`. Words that are not flags are `args._` when the script
 * declares `positional`, else an error.
 *
 * An unknown flag, a flag given twice, a missing value, a value that is not of its kind or
 * outside its range or choices: the script prints what it received, what it expected and what to
 * do, and exits with code 2 before measuring anything (`--warm abc` used to become NaN). `--help`
 * (or `-h`) prints the script's own doc comment and its flags.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ValueError } from '../src/errors.ts';
import { editDistance } from '../src/train/metrics.ts';

interface Common { help: string }
export type FlagSpec = Common & (
  | { kind: 'bool' }
  | { kind: 'number' | 'int'; default?: number; min?: number; max?: number; choices?: readonly number[] }
  | { kind: 'string'; default?: string; choices?: readonly string[] }
  | { kind: 'numbers' | 'ints'; default?: readonly number[]; min?: number; max?: number }
  | { kind: 'strings'; default?: readonly string[]; choices?: readonly string[]; repeat?: boolean }
);
export type FlagSpecs = Record<string, FlagSpec>;

/** Words after the flags (file names, a list of directories). */
export interface PositionalSpec { name: string; help: string; min?: number; max?: number }

type Camel<S extends string> = S extends `${infer A}-${infer B}` ? `${A}${Capitalize<Camel<B>>}` : S;
type ValueOf<F extends FlagSpec> =
  F extends { kind: 'bool' } ? boolean
    : F extends { kind: 'number' | 'int' } ? (F extends { default: number } ? number : number | undefined)
      : F extends { kind: 'string' } ? (F extends { default: string } ? (F extends { choices: readonly (infer C)[] } ? C : string) : string | undefined)
        : F extends { kind: 'numbers' | 'ints' } ? number[]
          : string[];
/** The parsed flags: each flag's value under its camelCase name, and `_` the positional words. */
export type Args<S extends FlagSpecs> = { -readonly [K in keyof S & string as Camel<K>]: ValueOf<S[K]> } & { _: string[] };

/** A command line a bench script cannot run with. */
export class BenchArgsError extends ValueError {
  override readonly code: string = 'HEED_BENCH_ARGS';
}

const camel = (s: string) => s.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** Closest declared flag within 2 edits (a typo), for "did you mean". */
function nearest(word: string, names: readonly string[]): string | undefined {
  let best: string | undefined, bestD = 3;
  for (const n of names) { const x = editDistance(word, n); if (x < bestD) { best = n; bestD = x; } }
  return best;
}

/** What a flag expects, in words: "an integer ≥ 1", "one of fp32, int8", "a comma-separated list of numbers in [0, 1]". */
export function expected(spec: FlagSpec): string {
  const range = (s: { min?: number; max?: number }) => (s.min !== undefined && s.max !== undefined ? ` in [${s.min}, ${s.max}]`
    : s.min !== undefined ? ` ≥ ${s.min}` : s.max !== undefined ? ` ≤ ${s.max}` : '');
  switch (spec.kind) {
    case 'bool': return 'no value (a switch)';
    case 'int': return spec.choices ? `one of ${spec.choices.join(', ')}` : `an integer${range(spec)}`;
    case 'number': return spec.choices ? `one of ${spec.choices.join(', ')}` : `a number${range(spec)}`;
    case 'ints': return `a comma-separated list of integers${range(spec)}`;
    case 'numbers': return `a comma-separated list of numbers${range(spec)}`;
    case 'string': return spec.choices ? `one of ${spec.choices.join(', ')}` : 'a value';
    case 'strings': return `${spec.repeat ? 'a value (the flag may be repeated)' : 'a comma-separated list'}${spec.choices ? ` of ${spec.choices.join(', ')}` : ''}`;
  }
}

const shown = (v: unknown) => (Array.isArray(v) ? v.join(',') : String(v));

/** The flags' help: one line each, with the kind, range and default. */
export function usage(script: string, specs: FlagSpecs, positional?: PositionalSpec): string {
  const lines = [`Usage: node --import tsx ${script}${positional ? ` [${positional.name}…]` : ''} [flags]`, ''];
  if (positional) lines.push(`  ${positional.name}: ${positional.help}`);
  for (const [name, s] of Object.entries(specs)) {
    const d = 'default' in s && s.default !== undefined && !(typeof s.default === 'string' && s.default === '') ? ` (default ${shown(s.default)})` : '';
    const value = s.kind === 'bool' ? '' : s.kind === 'int' || s.kind === 'number' ? ' N' : s.kind === 'ints' || s.kind === 'numbers' ? ' N,N' : ' VALUE';
    const kind = s.kind === 'bool' || (s.kind === 'string' && !s.choices) ? '' : `; ${expected(s)}`;
    lines.push(`  --${name}${value}  ${s.help}${d}${kind}`);
  }
  lines.push('  --help  this text');
  return lines.join('\n');
}

function parseNumber(script: string, name: string, spec: FlagSpec & { min?: number; max?: number; choices?: readonly number[] }, text: string, int: boolean): number {
  const v = text.trim() === '' ? NaN : Number(text);
  const ok = Number.isFinite(v) && (!int || Number.isInteger(v)) && (spec.min === undefined || v >= spec.min) && (spec.max === undefined || v <= spec.max)
    && (spec.choices === undefined || spec.choices.includes(v));
  if (!ok) {
    throw new BenchArgsError(`${script}: --${name} ${JSON.stringify(text)}: expected ${expected(spec)} (${spec.help}). `
      + `Fix: pass e.g. --${name} ${'default' in spec && spec.default !== undefined ? shown(spec.default) : spec.min ?? 1}, or see --help.`);
  }
  return v;
}

/**
 * Reads `argv` (the words after the script's name) against `specs`. Throws a BenchArgsError on an
 * unknown flag, a repeated one, a missing value, a bad value; `--help` is not handled here (readArgs).
 */
export function parseArgs<const S extends FlagSpecs>(script: string, specs: S, argv: readonly string[], positional?: PositionalSpec): Args<S> {
  const out: Record<string, unknown> = { _: [] as string[] };
  const seen = new Set<string>();
  const names = Object.keys(specs);
  const fixUnknown = `Run \`node --import tsx ${script} --help\` for its flags.`;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (!word.startsWith('--') || word === '--') {
      if (!positional) throw new BenchArgsError(`${script}: unexpected argument ${JSON.stringify(word)}: this script takes only flags (${names.map((n) => `--${n}`).join(', ') || 'none'}). ${fixUnknown}`);
      (out._ as string[]).push(word);
      continue;
    }
    const eq = word.indexOf('=');
    const name = eq > 0 ? word.slice(2, eq) : word.slice(2);
    const spec = specs[name] as FlagSpec | undefined;
    if (!spec) {
      const near = nearest(name, names);
      throw new BenchArgsError(`${script}: unknown flag --${name}. Expected ${names.length ? `one of ${names.map((n) => `--${n}`).join(', ')}` : 'no flags'}`
        + `${near ? `; did you mean --${near}?` : '.'} ${fixUnknown}`);
    }
    const repeatable = spec.kind === 'strings' && spec.repeat === true;
    if (seen.has(name) && !repeatable) throw new BenchArgsError(`${script}: --${name} given twice; expected it once. Fix: keep one of them.`);
    seen.add(name);
    if (spec.kind === 'bool') {
      const v = eq > 0 ? word.slice(eq + 1) : 'true';
      if (!['true', 'false', '1', '0'].includes(v)) throw new BenchArgsError(`${script}: --${name}=${v}: --${name} is a switch (${spec.help}); expected it alone, or =true / =false. Fix: write --${name}.`);
      out[camel(name)] = v === 'true' || v === '1';
      continue;
    }
    let text: string;
    if (eq > 0) text = word.slice(eq + 1);
    else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        throw new BenchArgsError(`${script}: --${name} needs a value (${expected(spec)}: ${spec.help}) and got ${next === undefined ? 'nothing (it is the last word)' : `the flag ${next} next`}. Fix: write --${name} VALUE.`);
      }
      text = next;
      i++;
    }
    switch (spec.kind) {
      case 'int': case 'number': out[camel(name)] = parseNumber(script, name, spec, text, spec.kind === 'int'); break;
      case 'ints': case 'numbers': {
        // an empty value is an empty list (`--fwd ''`: no forward lengths)
        const parts = text === '' ? [] : text.split(',');
        out[camel(name)] = parts.map((p) => {
          try { return parseNumber(script, name, spec, p, spec.kind === 'ints'); }
          catch { throw new BenchArgsError(`${script}: --${name} ${JSON.stringify(text)}: item ${JSON.stringify(p)} is not allowed; expected ${expected(spec)} (${spec.help}). Fix: pass e.g. --${name} ${spec.default ? shown(spec.default) : '1,2'}, or see --help.`); }
        });
        break;
      }
      case 'string':
        if (spec.choices && !spec.choices.includes(text)) {
          throw new BenchArgsError(`${script}: --${name} ${JSON.stringify(text)}: expected ${expected(spec)} (${spec.help}). Fix: pick one of them${spec.default !== undefined ? `, or leave the flag out for ${spec.default}` : ''}.`);
        }
        out[camel(name)] = text;
        break;
      case 'strings': {
        const items = spec.repeat ? [text] : text.split(',').map((s) => s.trim()).filter(Boolean);
        const bad = spec.choices ? items.filter((x) => !spec.choices!.includes(x)) : [];
        if (bad.length || items.length === 0) {
          throw new BenchArgsError(`${script}: --${name} ${JSON.stringify(text)}: ${bad.length ? `${bad.join(', ')} not allowed` : 'empty'}; expected ${expected(spec)} (${spec.help}). Fix: see --help.`);
        }
        out[camel(name)] = spec.repeat ? [...((out[camel(name)] as string[] | undefined) ?? []), ...items] : items;
        break;
      }
    }
  }
  for (const [name, spec] of Object.entries(specs)) {
    const key = camel(name);
    if (key in out) continue;
    const list = spec.kind === 'strings' || spec.kind === 'ints' || spec.kind === 'numbers';
    out[key] = spec.kind === 'bool' ? false : 'default' in spec && spec.default !== undefined ? (Array.isArray(spec.default) ? [...spec.default] : spec.default) : list ? [] : undefined;
  }
  const n = (out._ as string[]).length;
  if (positional && ((positional.min !== undefined && n < positional.min) || (positional.max !== undefined && n > positional.max))) {
    const want = positional.min === positional.max ? `${positional.min}` : positional.max === undefined ? `at least ${positional.min}` : `${positional.min ?? 0} to ${positional.max}`;
    throw new BenchArgsError(`${script}: got ${n} ${positional.name} (${(out._ as string[]).map((s) => JSON.stringify(s)).join(' ') || 'none'}), expected ${want} (${positional.help}). ${fixUnknown}`);
  }
  return out as Args<S>;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A script's doc comment (its first `/** … *\/`), as text. */
function docComment(file: string): string {
  try {
    const m = /\/\*\*([\s\S]*?)\*\//.exec(readFileSync(file, 'utf8'));
    return m ? m[1].split('\n').map((l) => l.replace(/^\s*\* ?/, '')).join('\n').trim() : '';
  } catch { return ''; }
}

/**
 * The script's flags from `process.argv` (or `argv`): on `--help` prints the script's doc comment
 * and the flags and exits 0; on a bad command line prints the error and exits 2.
 * `meta` is the script's `import.meta.url`.
 */
export function readArgs<const S extends FlagSpecs>(meta: string, specs: S, opts: { positional?: PositionalSpec; argv?: readonly string[] } = {}): Args<S> {
  const file = fileURLToPath(meta);
  const script = relative(root, file);
  const argv = opts.argv ?? process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    const doc = docComment(file);
    console.log(`${doc ? `${doc}\n\n` : ''}${usage(script, specs, opts.positional)}`);
    process.exit(0);
  }
  try {
    return parseArgs(script, specs, argv, opts.positional);
  } catch (err) {
    if (!(err instanceof BenchArgsError)) throw err;
    console.error(err.message);
    process.exit(2);
  }
}

/** For a check readArgs cannot declare (positional words, flags that go together): print `script: message` and exit 2. */
export function argsError(meta: string, message: string): never {
  console.error(`${relative(root, fileURLToPath(meta))}: ${message}`);
  process.exit(2);
}
