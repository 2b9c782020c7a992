/**
 * The import graph of src/, read with the TypeScript parser (no type checking): one edge per
 * relative import or re-export, type-only ones included (a type import is still a dependency
 * a reader has to follow), plus dynamic import('...') calls.
 *
 * Used by test/core/layers.test.ts (cycles and layering) and test/core/methods.test.ts
 * (which modules load the Tensor methods).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

export const ROOT = resolve(import.meta.dirname, '..', '..');

export interface ImportEdge {
  /** Importing file, relative to the repo root with forward slashes: 'src/nn/linear.ts'. */
  from: string;
  /** Imported file, same form. */
  to: string;
  typeOnly: boolean;
  line: number;
}

export interface ImportGraph {
  files: string[];
  edges: ImportEdge[];
  /** from → its direct imports. */
  out: Map<string, ImportEdge[]>;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const rel = (abs: string): string => relative(ROOT, abs).split(sep).join('/');

/** Every .ts file under src/ and the edges between them. */
export function buildImportGraph(): ImportGraph {
  const files = walk(join(ROOT, 'src')).map(rel);
  const known = new Set(files);
  const edges: ImportEdge[] = [];
  for (const file of files) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
    const add = (spec: string, typeOnly: boolean, node: ts.Node): void => {
      if (!spec.startsWith('.')) return; // a package (node:fs, fastify, ...)
      const to = rel(resolve(ROOT, dirname(file), spec)).replace(/\.js$/, '.ts');
      if (!known.has(to)) throw new Error(`${file}: import '${spec}' resolves to ${to}, which is not a file under src/`);
      edges.push({ from: file, to, typeOnly, line: sf.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
    };
    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
        const clause = node.importClause;
        // `import type {..}` or `import { type A, type B }` (every name a type) loads nothing at run time.
        const typeOnly = clause !== undefined && (clause.isTypeOnly || (clause.name === undefined && clause.namedBindings !== undefined &&
          ts.isNamedImports(clause.namedBindings) && clause.namedBindings.elements.length > 0 && clause.namedBindings.elements.every((e) => e.isTypeOnly)));
        add(node.moduleSpecifier.text, typeOnly, node);
      } else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
        add(node.moduleSpecifier.text, node.isTypeOnly, node);
      } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments.length === 1 && ts.isStringLiteral(node.arguments[0])) {
        add(node.arguments[0].text, false, node);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  const out = new Map<string, ImportEdge[]>(files.map((f) => [f, []]));
  for (const e of edges) out.get(e.from)!.push(e);
  return { files, edges, out };
}

/** The files `start` loads at run time, itself included (type-only imports load nothing). */
export function runtimeClosure(g: ImportGraph, start: string): Set<string> {
  const seen = new Set([start]);
  const stack = [start];
  while (stack.length > 0) {
    for (const e of g.out.get(stack.pop()!) ?? []) {
      if (!e.typeOnly && !seen.has(e.to)) {
        seen.add(e.to);
        stack.push(e.to);
      }
    }
  }
  return seen;
}

/** Strongly connected components with more than one node (Tarjan), each sorted. */
export function cycles(nodes: readonly string[], succ: (n: string) => Iterable<string>): string[][] {
  let next = 0;
  const index = new Map<string, number>(), low = new Map<string, number>(), onStack = new Set<string>();
  const stack: string[] = [];
  const found: string[][] = [];
  const strong = (v: string): void => {
    index.set(v, next); low.set(v, next); next++;
    stack.push(v); onStack.add(v);
    for (const w of succ(v)) {
      if (!index.has(w)) { strong(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do { w = stack.pop()!; onStack.delete(w); scc.push(w); } while (w !== v);
      if (scc.length > 1) found.push(scc.sort());
    }
  };
  for (const v of nodes) if (!index.has(v)) strong(v);
  return found;
}
