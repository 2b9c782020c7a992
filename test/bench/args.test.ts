/**
 * bench/args.ts, the bench scripts' command-line reader: defaults, kinds, ranges and choices, an
 * unknown flag or a bad value as a BenchArgsError that says what was received, what was expected
 * and what to do, --help; and, end to end, a script that exits 2 on a bad value before measuring.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchArgsError, parseArgs, usage, type FlagSpecs } from '../../bench/args.ts';
import { benchOptions } from '../../bench/index.ts';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

const SPECS = {
  rounds: { kind: 'int', default: 9, min: 1, help: 'interleaved rounds' },
  quantile: { kind: 'number', default: 0.25, min: 0, max: 1, help: 'the quantile' },
  out: { kind: 'string', default: '', help: 'raw results file' },
  base: { kind: 'string', help: 'the other build' },
  order: { kind: 'string', default: 'length', choices: ['length', 'input'], help: 'batch order' },
  cpu: { kind: 'bool', help: 'CPU clock' },
  threads: { kind: 'ints', default: [1, 2], min: 1, help: 'thread counts' },
  only: { kind: 'strings', choices: ['d256', 'd128', 'spam'], help: 'workloads' },
  model: { kind: 'strings', repeat: true, help: 'name=dir' },
  d: { kind: 'int', default: 256, choices: [256, 128], help: 'model width' },
  'max-steps': { kind: 'int', default: 1500, min: 1, help: 'training steps' },
} as const satisfies FlagSpecs;

const parse = (argv: string[]) => parseArgs('bench/x.ts', SPECS, argv);
/** The BenchArgsError a command line throws (fails the test if it parses). */
function error(argv: string[]): BenchArgsError {
  try {
    parse(argv);
  } catch (err) {
    assert.ok(err instanceof BenchArgsError, `expected a BenchArgsError, got ${err}`);
    assert.equal(err.code, 'HEED_BENCH_ARGS');
    return err;
  }
  assert.fail(`${argv.join(' ')} parsed`);
}

describe('bench/args.ts: values', () => {
  test('defaults when no flag is given; lists are fresh copies', () => {
    const a = parse([]);
    assert.deepEqual({ ...a }, { _: [], rounds: 9, quantile: 0.25, out: '', base: undefined, order: 'length', cpu: false, threads: [1, 2], only: [], model: [], d: 256, maxSteps: 1500 });
    a.threads.push(3);
    assert.deepEqual(parse([]).threads, [1, 2]);
  });

  test('each kind, with --flag value and --flag=value, kebab-case names as camelCase', () => {
    const a = parse(['--rounds', '3', '--quantile=0.5', '--out', 'f.json', '--order', 'input', '--cpu', '--threads', '2', '--only', 'd128,spam',
      '--model', 'a=x', '--model=b=y', '--d', '128', '--max-steps', '20', '--base', '-x']);
    assert.equal(a.rounds, 3);
    assert.equal(a.quantile, 0.5);
    assert.equal(a.out, 'f.json');
    assert.equal(a.order, 'input');
    assert.equal(a.cpu, true);
    assert.deepEqual(a.threads, [2]);
    assert.deepEqual(a.only, ['d128', 'spam']);
    assert.deepEqual(a.model, ['a=x', 'b=y']);
    assert.equal(a.d, 128);
    assert.equal(a.maxSteps, 20);
    assert.equal(a.base, '-x'); // a value may start with one dash
    assert.equal(parse(['--cpu=false']).cpu, false);
    assert.deepEqual(parse(['--threads', '']).threads, []); // an explicit empty list
  });

  test('positional words only when declared, with their count checked', () => {
    assert.match(error(['file.json']).message, /unexpected argument "file\.json": this script takes only flags/);
    const pos = { name: 'FILE', help: 'profiles', min: 1, max: 2 };
    assert.deepEqual(parseArgs('bench/x.ts', SPECS, ['a', '--rounds', '2', 'b'], pos)._, ['a', 'b']);
    assert.throws(() => parseArgs('bench/x.ts', SPECS, [], pos), /got 0 FILE \(none\), expected 1 to 2 \(profiles\)/);
  });
});

describe('bench/args.ts: errors say what was received, what was expected, what to do', () => {
  test('a value not of its kind (`--warm abc` used to become NaN)', () => {
    const e = error(['--rounds', 'abc']);
    assert.equal(e.message, 'bench/x.ts: --rounds "abc": expected an integer ≥ 1 (interleaved rounds). Fix: pass e.g. --rounds 9, or see --help.');
    assert.match(error(['--rounds', '2.5']).message, /--rounds "2\.5": expected an integer ≥ 1/);
    assert.match(error(['--quantile', '']).message, /--quantile "": expected a number in \[0, 1\]/);
    assert.match(error(['--threads', '1,x']).message, /--threads "1,x": item "x" is not allowed; expected a comma-separated list of integers ≥ 1/);
  });

  test('a value out of range or not among the choices', () => {
    assert.match(error(['--rounds', '0']).message, /--rounds "0": expected an integer ≥ 1/);
    assert.match(error(['--quantile', '1.5']).message, /--quantile "1\.5": expected a number in \[0, 1\]/);
    assert.match(error(['--order', 'random']).message, /--order "random": expected one of length, input \(batch order\)\. Fix: pick one of them, or leave the flag out for length\./);
    assert.match(error(['--only', 'd256,d512']).message, /--only "d256,d512": d512 not allowed; expected a comma-separated list of d256, d128, spam/);
    assert.match(error(['--d', '300']).message, /--d "300": expected one of 256, 128 \(model width\)/);
  });

  test('an unknown flag names the flags there are, and the near one', () => {
    const e = error(['--wram', '3']);
    assert.equal(e.message, 'bench/x.ts: unknown flag --wram. Expected one of --rounds, --quantile, --out, --base, --order, --cpu, --threads, --only, --model, --d, --max-steps. '
      + 'Run `node --import tsx bench/x.ts --help` for its flags.');
    assert.match(error(['--roundz', '3']).message, /unknown flag --roundz\. .*did you mean --rounds\? Run `node --import tsx bench\/x\.ts --help` for its flags\./);
    assert.doesNotMatch(error(['--zzzzzz']).message, /did you mean/);
  });

  test('a missing value, a repeated flag, a value given to a switch', () => {
    assert.match(error(['--rounds']).message, /--rounds needs a value \(an integer ≥ 1: interleaved rounds\) and got nothing \(it is the last word\)\. Fix: write --rounds VALUE\./);
    assert.match(error(['--out', '--cpu']).message, /--out needs a value .* and got the flag --cpu next/);
    assert.match(error(['--rounds', '2', '--rounds', '3']).message, /--rounds given twice; expected it once/);
    assert.match(error(['--cpu=yes']).message, /--cpu=yes: --cpu is a switch \(CPU clock\); expected it alone, or =true \/ =false/);
  });
});

describe('bench/args.ts: --help and scripts', () => {
  test('usage lists every flag with its default and what it takes', () => {
    const u = usage('bench/x.ts', SPECS);
    assert.match(u, /^Usage: node --import tsx bench\/x\.ts \[flags\]/);
    assert.match(u, /--rounds N {2}interleaved rounds \(default 9\); an integer ≥ 1/);
    assert.match(u, /--threads N,N {2}thread counts \(default 1,2\); a comma-separated list of integers ≥ 1/);
    assert.match(u, /--order VALUE {2}batch order \(default length\); one of length, input/);
    assert.match(u, /--cpu {2}CPU clock\n/);
  });

  test('a script exits 2 on a bad value before measuring, and prints its comment and flags on --help', () => {
    const run = (...a: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'bench/check-sim.ts', ...a], { cwd: root, encoding: 'utf8' });
    const bad = run('--seeds', 'abc');
    assert.equal(bad.status, 2, bad.stderr);
    assert.equal(bad.stdout, ''); // nothing simulated
    assert.match(bad.stderr, /bench\/check-sim\.ts: --seeds "abc": expected an integer ≥ 1 \(simulated runs per scenario\)\. Fix: pass e\.g\. --seeds 40/);
    const unknown = run('--sed', '3');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown flag --sed\. Expected one of --seeds, --k, --confirm, --host-slow, --out; did you mean --seeds\?/);
    const help = run('--help');
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /The `--check` guard \(bench\/check\.ts\) on simulated runs/);
    assert.match(help.stdout, /--confirm N {2}confirmation passes/);
  });

  test('npm run bench: its flags through the same reader, and the ones that do not go together', () => {
    assert.deepEqual(benchOptions([]), {});
    assert.deepEqual(benchOptions(['--only', 'gemm,attention', '--threads=1', '--repeat', '2']), { only: ['gemm', 'attention'], threads: [1], repeat: 2 });
    assert.deepEqual(benchOptions(['--check', '--confirm', '4']), { check: true, quick: true, confirm: 4 });
    assert.deepEqual(benchOptions(['--write-baseline', '--baseline', 'b.json']), { writeBaseline: true, quick: true, repeat: 3, baseline: 'b.json' });
    assert.throws(() => benchOptions(['--only', 'gemm,foo']), /--only "gemm,foo": foo not allowed; expected a comma-separated list of peak, dispatch, gemm/);
    assert.throws(() => benchOptions(['--repeat', '0']), /--repeat "0": expected an integer ≥ 1/);
    assert.throws(() => benchOptions(['--baseline']), /--baseline needs a value/);
    assert.throws(() => benchOptions(['--check', '--write-baseline']), /would compare a run with itself/);
    assert.throws(() => benchOptions(['--write-baseline', '--repeat', '2']), /a baseline needs at least 3 passes/);
  });

  test('no bench script reads a --flag from process.argv by hand', () => {
    // The internal child-process protocols (a parent spawning the same file with --child and positional words) stay as they are.
    const internal = new Set(['bench/compress.ts', 'bench/infer-request-ab.ts', 'bench/compress-onnx.ts', 'bench/compress-onnx-tag.ts']);
    const files: string[] = [];
    const walk = (dir: string) => { for (const n of readdirSync(dir)) { const p = join(dir, n); if (statSync(p).isDirectory()) { if (n !== 'results') walk(p); } else if (n.endsWith('.ts')) files.push(p); } };
    walk(join(root, 'bench'));
    const byHand = files.map((f) => relative(root, f)).filter((f) => !internal.has(f) && f !== 'bench/args.ts')
      .filter((f) => /process\.argv\.(indexOf|includes|find)\(|args\.(indexOf|includes)\(`?'?--/.test(readFileSync(join(root, f), 'utf8')));
    assert.deepEqual(byHand, []);
  });
});
