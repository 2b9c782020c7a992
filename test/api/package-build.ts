/**
 * heed built as a user installs it: the sources compiled by tsc (the `build` script's
 * tsconfig.json) into `<dir>/dist`, beside a copy of package.json, with the rest of the
 * package's "files" and its installed parts (build/Release/heed.node, node_modules) linked
 * from the checkout. A project whose node_modules/heed points at `<dir>` imports heed
 * through package.json "exports", exactly as after `npm install heed`.
 *
 * The build goes to the system temp dir, keyed by a hash of the sources, so it never touches
 * the checkout's dist/ (the CLI tests run from it) and test files share one build: the first
 * to ask builds it, under a lock, and the others wait for it.
 *
 * The same TypeScript program also lists the modules that call Tensor methods (see
 * test/core/methods.test.ts), since type-checking src/ once is most of a build's cost.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import ts from 'typescript';
import { ROOT } from '../core/import-graph.ts';

export interface BuiltPackage {
  /** The package directory (holds package.json and dist/). */
  dir: string;
  /** 'src/x.ts' → 'src/x.ts:LINE calls .name()' for every module that calls a Tensor method (and the canary). */
  methodCallers: Record<string, string>;
}

const METHODS_FILE = 'src/ops/methods.ts';
/** Compiled with src/ (not emitted) so the method-call finder can be checked to find something. */
export const CANARY_FILE = 'test/core/method-canary.ts';
/** Parts of an installed package that are not compiled: linked from the checkout. */
const LINKED = ['build', 'node_modules', 'data', 'native', 'binding.gyp', 'scripts', 'bin'];

function sourceHash(): string {
  const h = createHash('sha256');
  // The build links this checkout's node_modules, build, … (LINKED): another checkout with the same
  // sources (a git worktree, since removed) must not reuse it.
  h.update(ROOT);
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else { h.update(p.slice(ROOT.length)); h.update(readFileSync(p)); }
    }
  };
  walk(join(ROOT, 'src'));
  for (const f of ['tsconfig.json', 'package.json']) h.update(readFileSync(join(ROOT, f)));
  return h.digest('hex').slice(0, 16);
}

/** Compiles src/ into `outDir` and finds the Tensor-method callers; throws on any compile error. */
function compile(outDir: string): Record<string, string> {
  const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), {}, {
    ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); },
  })!;
  const program = ts.createProgram([...config.fileNames, join(ROOT, CANARY_FILE)], { ...config.options, outDir, sourceMap: false, declarationMap: false });
  const emitted = program.emit(undefined, (file, text) => {
    if (!file.startsWith(join(outDir, 'src') + '/')) return; // the canary
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  });
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics];
  if (diagnostics.length > 0) {
    throw new Error('tsc: ' + ts.formatDiagnostics(diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => '\n' }));
  }
  const checker = program.getTypeChecker();
  const methodsPath = join(ROOT, METHODS_FILE);
  const callers: Record<string, string> = {};
  for (const sf of program.getSourceFiles()) {
    if (!sf.fileName.startsWith(join(ROOT, 'src') + '/') && sf.fileName !== join(ROOT, CANARY_FILE)) continue;
    const file = sf.fileName.slice(ROOT.length + 1);
    const visit = (node: ts.Node): void => {
      if (callers[file] === undefined && ts.isPropertyAccessExpression(node)) {
        const decls = checker.getSymbolAtLocation(node.name)?.declarations ?? [];
        if (decls.some((d) => d.getSourceFile().fileName === methodsPath && ts.isMethodSignature(d))) {
          const line = sf.getLineAndCharacterOfPosition(node.getStart()).line + 1;
          callers[file] = `${file}:${line} calls .${node.name.text}()`;
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return callers;
}

/** Builds of earlier source states, untouched for an hour (a running test may still use a newer one). */
function removeOldBuilds(keep: string): void {
  for (const name of readdirSync(tmpdir())) {
    const p = join(tmpdir(), name);
    if (!name.startsWith('heed-package-') || p === keep || p.endsWith('.lock')) continue;
    try {
      if (Date.now() - statSync(p).mtimeMs > 3_600_000) rmSync(p, { recursive: true, force: true });
    } catch { /* removed by another run meanwhile */ }
  }
}

let cached: Promise<BuiltPackage> | undefined;

/** The package built from the current sources (built once per source state). */
export function builtPackage(): Promise<BuiltPackage> {
  cached ??= build();
  return cached;
}

async function build(): Promise<BuiltPackage> {
  const dir = join(tmpdir(), `heed-package-${sourceHash()}`);
  const ready = join(dir, 'method-callers.json');
  const lock = `${dir}.lock`;
  for (let waited = 0; !existsSync(ready); waited += 500) {
    try {
      mkdirSync(lock);
    } catch {
      // Another test file is building it; a lock older than 10 minutes is from a killed run.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 600_000) rmSync(lock, { recursive: true, force: true });
      if (waited > 900_000) throw new Error(`timed out waiting for ${lock}`);
      await sleep(500);
      continue;
    }
    try {
      if (existsSync(ready)) break;
      const work = `${dir}.tmp-${process.pid}`;
      rmSync(work, { recursive: true, force: true });
      mkdirSync(work, { recursive: true });
      const callers = compile(join(work, 'dist'));
      copyFileSync(join(ROOT, 'package.json'), join(work, 'package.json'));
      for (const name of LINKED) if (existsSync(join(ROOT, name))) symlinkSync(join(ROOT, name), join(work, name));
      mkdirSync(join(work, 'src', 'viz'), { recursive: true });
      symlinkSync(join(ROOT, 'src', 'viz', 'page'), join(work, 'src', 'viz', 'page'));
      writeFileSync(join(work, 'method-callers.json'), JSON.stringify(callers, null, 2));
      rmSync(dir, { recursive: true, force: true });
      renameSync(work, dir);
      removeOldBuilds(dir);
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  return { dir, methodCallers: JSON.parse(readFileSync(ready, 'utf8')) as Record<string, string> };
}
