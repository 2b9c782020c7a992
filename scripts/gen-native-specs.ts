/**
 * Writes native/kernel_specs.gen.h from the kernel specs in src/backend/specs (format:
 * src/backend/spec.ts). For every kernel it emits:
 *   - `struct <Name>Args`, the kernel's C++ parameter struct, fields in spec order;
 *   - the check table that the generic checker in native/binding.cpp interprets (arg roles,
 *     dtypes, ranges, and every rule compiled to a small stack program);
 *   - one line of HEED_KERNEL_LIST(X), from which the kernel table, its ISA entries and the
 *     bindings are expanded.
 *
 *   node --import tsx scripts/gen-native-specs.ts           write the header
 *   node --import tsx scripts/gen-native-specs.ts --check   exit 1 when it is stale
 * `npm run build:native` runs it when tsx is installed; test/native/specs.test.ts fails when
 * the committed header differs from what the specs give.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as specs from '../src/backend/specs/index.js';
import type { ArgSpec, KernelSpec } from '../src/backend/spec.js';
import { NATIVE_MAX_DIMS } from '../src/backend/spec.js';

export const HEADER_PATH = fileURLToPath(new URL('../native/kernel_specs.gen.h', import.meta.url));

// ---- expressions: tokenize, parse (precedence climbing), emit a stack program ----

type Node =
  | { t: 'num'; v: number }
  | { t: 'var'; name: string }
  | { t: 'call'; fn: string; args: string[] }
  | { t: 'un'; op: string; x: Node }
  | { t: 'bin'; op: string; a: Node; b: Node }
  | { t: 'sel'; c: Node; a: Node; b: Node };

const FUNCTIONS: Record<string, number> = { len: 1, size: 1, prod: 1, extent: 2, isPerm: 1 };
const BINARY: string[][] = [['||'], ['&&'], ['==', '!='], ['<', '<=', '>', '>='], ['+', '-'], ['*', '/', '%']];

function tokenize(src: string): string[] {
  const re = /\s*(\d+|[A-Za-z_]\w*|\|\||&&|==|!=|<=|>=|[-+*/%<>!?:(),])/y;
  const out: string[] = [];
  let at = 0;
  while (at < src.length) {
    if (/^\s*$/.test(src.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(src);
    if (!m) throw new Error(`expression '${src}': cannot read from '${src.slice(at)}'`);
    out.push(m[1]);
    at = re.lastIndex;
  }
  return out;
}

function parse(src: string): Node {
  const toks = tokenize(src);
  let i = 0;
  const peek = () => toks[i];
  const take = (want?: string) => {
    const t = toks[i++];
    if (want !== undefined && t !== want) throw new Error(`expression '${src}': expected '${want}', found '${t ?? 'end'}'`);
    return t;
  };
  const primary = (): Node => {
    const t = take();
    if (t === undefined) throw new Error(`expression '${src}': ends early`);
    if (t === '(') { const e = ternary(); take(')'); return e; }
    if (t === '!' || t === '-') return { t: 'un', op: t, x: primary() };
    if (/^\d+$/.test(t)) return { t: 'num', v: Number(t) };
    if (/^[A-Za-z_]/.test(t)) {
      if (peek() !== '(') return { t: 'var', name: t };
      if (!(t in FUNCTIONS)) throw new Error(`expression '${src}': unknown function ${t}; expected one of ${Object.keys(FUNCTIONS).join(', ')}`);
      take('(');
      const args: string[] = [];
      while (peek() !== ')') { args.push(take()); if (peek() === ',') take(','); }
      take(')');
      if (args.length !== FUNCTIONS[t]) throw new Error(`expression '${src}': ${t} takes ${FUNCTIONS[t]} argument(s)`);
      return { t: 'call', fn: t, args };
    }
    throw new Error(`expression '${src}': unexpected '${t}'`);
  };
  const binary = (level: number): Node => {
    if (level === BINARY.length) return primary();
    let a = binary(level + 1);
    while (BINARY[level].includes(peek())) {
      const op = take();
      a = { t: 'bin', op, a, b: binary(level + 1) };
    }
    return a;
  };
  const ternary = (): Node => {
    const c = binary(0);
    if (peek() !== '?') return c;
    take('?');
    const a = ternary();
    take(':');
    return { t: 'sel', c, a, b: ternary() };
  };
  const e = ternary();
  if (i !== toks.length) throw new Error(`expression '${src}': unexpected '${toks[i]}'`);
  return e;
}

const OPCODE: Record<string, string> = {
  '+': 'Add', '-': 'Sub', '*': 'Mul', '/': 'Div', '%': 'Mod', '<': 'Lt', '<=': 'Le', '>': 'Gt', '>=': 'Ge',
  '==': 'Eq', '!=': 'Ne', '&&': 'And', '||': 'Or',
};

interface Ctx { kernel: string; index: Map<string, number>; args: [string, ArgSpec][] }

function argIndex(ctx: Ctx, name: string, want: (a: ArgSpec) => boolean, what: string, src: string): number {
  const i = ctx.index.get(name);
  if (i === undefined || !want(ctx.args[i][1])) throw new Error(`${ctx.kernel}: expression '${src}': '${name}' is not ${what}`);
  return i;
}

/** Emits the stack program of an expression as C++ initializers {op, a, b}. */
function compile(ctx: Ctx, src: string): string[] {
  const out: string[] = [];
  const isArray = (a: ArgSpec) => a.role === 'input' || a.role === 'output';
  const isList = (a: ArgSpec) => a.role === 'intList';
  const isSized = (a: ArgSpec) => a.role === 'intList' || a.role === 'inputList' || a.role === 'outputList';
  const isInt = (a: ArgSpec) => a.role === 'shape' || a.role === 'option' || a.role === 'derived' || (a.role === 'scalar' && a.kind === 'int');
  const emit = (n: Node): void => {
    switch (n.t) {
      case 'num': out.push(`{Op::Const, ${n.v}, 0}`); return;
      case 'var': out.push(`{Op::Var, ${argIndex(ctx, n.name, isInt, 'an integer, dim or option', src)}, 0}`); return;
      case 'call': {
        const fn = n.fn;
        if (fn === 'len') out.push(`{Op::Len, ${argIndex(ctx, n.args[0], isArray, 'an array', src)}, 0}`);
        else if (fn === 'extent') out.push(`{Op::Extent, ${argIndex(ctx, n.args[0], isList, 'an int list', src)}, ${argIndex(ctx, n.args[1], isList, 'an int list', src)}}`);
        else if (fn === 'size') out.push(`{Op::Size, ${argIndex(ctx, n.args[0], isSized, 'an int list or array list', src)}, 0}`);
        else out.push(`{Op::${fn[0].toUpperCase() + fn.slice(1)}, ${argIndex(ctx, n.args[0], isList, 'an int list', src)}, 0}`);
        return;
      }
      case 'un': emit(n.x); out.push(n.op === '!' ? '{Op::Not, 0, 0}' : '{Op::Neg, 0, 0}'); return;
      case 'bin': emit(n.a); emit(n.b); out.push(`{Op::${OPCODE[n.op]}, 0, 0}`); return;
      case 'sel': emit(n.c); emit(n.a); emit(n.b); out.push('{Op::Select, 0, 0}'); return;
    }
  };
  emit(parse(src));
  let depth = 0, deepest = 0;
  for (const ins of out) {
    const op = ins.slice(5, ins.indexOf(','));
    depth += ['Const', 'Var', 'Len', 'Size', 'Prod', 'Extent', 'IsPerm'].includes(op) ? 1 : op === 'Not' || op === 'Neg' ? 0 : op === 'Select' ? -2 : -1;
    deepest = Math.max(deepest, depth);
  }
  if (deepest > MAX_STACK) throw new Error(`${ctx.kernel}: expression '${src}' needs a stack of ${deepest}, the checker holds ${MAX_STACK}`);
  return out;
}

/** How an expression reads in a message: a·b for a * b, − for -. */
const pretty = (src: string) => src.replace(/\s*\*\s*/g, '·').replace(/ - /g, ' − ');
const cstr = (s: string) => JSON.stringify(s);

// ---- C++ types ----

const ARRAY_CTYPE: Record<string, string> = { f32: 'float', f64: 'double', numeric: 'float', i32: 'int32_t', i8: 'int8_t' };
const DTYPE_ENUM: Record<string, string> = { f32: 'F32', f64: 'F64', numeric: 'F32', i32: 'I32', i8: 'I8' };

function fieldType(a: ArgSpec): string {
  switch (a.role) {
    case 'input': return `const ${ARRAY_CTYPE[a.dtype]}*`;
    case 'output': return `${ARRAY_CTYPE[a.dtype]}*`;
    case 'shape': case 'derived': return 'int64_t';
    case 'option': return 'bool';
    case 'intList': return 'const int64_t*';
    case 'inputList': return `spec::List<const ${ARRAY_CTYPE[a.dtype]}>`;
    case 'outputList': return `spec::List<${ARRAY_CTYPE[a.dtype]}>`;
    case 'scalar': return a.kind === 'int' ? 'int64_t' : a.kind === 'float' ? 'float' : 'double';
  }
}

function fieldComment(a: ArgSpec): string {
  const parts: string[] = [a.role];
  if (a.role === 'input' || a.role === 'output') {
    if (a.nullable) parts.push('or null');
    if (a.len) parts.push(`length ${pretty(a.len)}`);
    if (a.minLen) parts.push(`length ≥ ${pretty(a.minLen)}`);
  }
  if (a.role === 'derived') parts.push(`= ${pretty(a.expr)}`);
  if (a.role === 'intList') parts.push(`≤ ${NATIVE_MAX_DIMS} entries`);
  if (a.role === 'inputList' || a.role === 'outputList') {
    parts.push(`Array of ${a.dtype} arrays`);
    if (a.size) parts.push(`${pretty(a.size)} entries`);
    if (a.sameLengths) parts.push(`entry i as long as ${a.sameLengths}[i]`);
  }
  if (a.doc) parts.push(a.doc);
  return parts.join(', ');
}

const structName = (name: string) => name[0].toUpperCase() + name.slice(1) + 'Args';

function num(x: number | undefined, fallback: string): string {
  if (x === undefined) return fallback;
  if (Number.isInteger(x)) return `${x}.0`;
  return String(x);
}

function kernelBlock(spec: KernelSpec): { struct: string; table: string } {
  const args = Object.entries(spec.args);
  const ctx: Ctx = { kernel: spec.name, index: new Map(args.map(([n], i) => [n, i])), args };
  const S = structName(spec.name);
  const struct = [
    `// ${spec.name}: the parameters in spec order (src/backend/specs).`,
    `struct ${S} {`,
    ...args.map(([n, a]) => `  ${fieldType(a)} ${n};  // ${fieldComment(a)}`),
    '};',
  ].join('\n');

  const code: string[] = [];
  const exprRef = (src: string | undefined): string => {
    if (src === undefined) return '{0, 0, nullptr}';
    const prog = compile(ctx, src);
    const at = code.length;
    code.push(...prog);
    return `{${at}, ${prog.length}, ${cstr(pretty(src))}}`;
  };
  for (const [n, a] of args) {
    if ((a.role === 'input' || a.role === 'output') && a.values && a.dtype !== 'i32') throw new Error(`${spec.name}.${n}: values rules need an 'i32' array`);
  }
  let lists = 0, arrayLists = 0;
  const argRows = args.map(([n, a]) => {
    const role = { input: 'Input', output: 'Output', shape: 'Shape', scalar: 'Scalar', option: 'Option', intList: 'IntList', inputList: 'InputList', outputList: 'OutputList', derived: 'Derived' }[a.role];
    const isArr = a.role === 'input' || a.role === 'output';
    const isArrList = a.role === 'inputList' || a.role === 'outputList';
    const dtype = isArr || isArrList ? DTYPE_ENUM[a.dtype] : 'None';
    const kind = a.role === 'scalar' ? { int: 'Int', float: 'Float', double: 'Double' }[a.kind] : 'Int';
    const nullable = isArr && a.nullable;
    const list = a.role === 'intList' ? lists++ : isArrList ? arrayLists++ : -1;
    let same = -1;
    if (isArrList && a.sameLengths !== undefined) {
      same = argIndex(ctx, a.sameLengths, (b) => b.role === 'inputList' || b.role === 'outputList', 'an array list', `sameLengths: ${a.sameLengths}`);
    }
    const sc = a.role === 'scalar' ? a : undefined;
    const intDefault = a.role === 'scalar' && a.kind === 'int';
    const min = num(sc?.min, intDefault ? '-9007199254740992.0' : '-INFINITY');
    const max = num(sc?.max, intDefault ? '9007199254740992.0' : 'INFINITY');
    const rows = [
      cstr(n), `Role::${role}`, `DType::${dtype}`, `Kind::${kind}`, String(nullable), `offsetof(${S}, ${n})`, String(list),
      min, max, String(sc?.maxExclusive ?? false), String(sc?.finite ?? false),
      exprRef(isArr ? a.len : undefined), exprRef(isArr ? a.minLen : undefined),
      exprRef(isArr ? a.values?.min : undefined), exprRef(isArr ? a.values?.max : undefined), exprRef(isArr ? a.values?.except : undefined),
      cstr(isArr ? a.values?.what ?? '' : ''), exprRef(a.role === 'derived' ? a.expr : undefined),
      exprRef(isArrList ? a.size : undefined), String(same),
    ];
    return `    {${rows.join(', ')}},`;
  });
  if (args.length > MAX_ARGS) throw new Error(`${spec.name}: ${args.length} args, the checker holds at most ${MAX_ARGS}`);
  if (lists > MAX_LISTS) throw new Error(`${spec.name}: ${lists} intList args, the checker holds at most ${MAX_LISTS}`);
  if (arrayLists > MAX_ARRAY_LISTS) throw new Error(`${spec.name}: ${arrayLists} array list args, the checker holds at most ${MAX_ARRAY_LISTS}`);
  const checkRows = spec.checks.map((c) => `    {${exprRef(c.ok)}, ${cstr(c.message)}},`);
  const id = spec.name;
  const table = [
    `namespace ${id}_spec {`,
    `inline const Instr code[] = {${code.length ? '\n' + chunks(code, 6).map((c) => '    ' + c.join(', ') + ',').join('\n') + '\n' : '{Op::Const, 0, 0}'}};`,
    '// {name, role, dtype, kind, nullable, offset, list, min, max, maxExclusive, finite, len, minLen, valMin, valMax, valExcept, valWhat, derived, size, sameLengths}',
    `inline const Arg args[] = {`,
    ...argRows,
    '};',
    ...(checkRows.length ? ['inline const Check checks[] = {', ...checkRows, '};'] : []),
    `inline const Kernel kernel = {${cstr(id)}, code, args, ${args.length}, ${args.filter(([, a]) => a.role !== 'derived').length}, ${checkRows.length ? 'checks' : 'nullptr'}, ${checkRows.length}};`,
    `}  // namespace ${id}_spec`,
  ].join('\n');
  return { struct, table };
}

/** The C++ a spec generates (struct and check table); throws what the generator would. */
export function compileForTest(spec: KernelSpec): string {
  const b = kernelBlock(spec);
  return b.struct + '\n' + b.table;
}

const MAX_LISTS = 4;
const MAX_ARRAY_LISTS = 4;
const MAX_ARGS = 48; // attentionBackwardStrided: 38 (four strided layouts)
const MAX_STACK = 32;

function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

export function generate(): string {
  const all = (Object.values(specs) as KernelSpec[]).filter((s) => !s.referenceOnly);
  const blocks = all.map(kernelBlock);
  return [
    '// GENERATED by scripts/gen-native-specs.ts from src/backend/specs: do not edit.',
    '// Regenerate: node --import tsx scripts/gen-native-specs.ts (npm run build:native does it).',
    '#pragma once',
    '#include <cmath>',
    '#include <cstddef>',
    '#include <cstdint>',
    '',
    '#include "spec.h"',
    '',
    'namespace heed {',
    '',
    ...blocks.map((b) => b.struct + '\n'),
    '// X(name, ArgsStruct) for every kernel, in barrel order.',
    '#define HEED_KERNEL_LIST(X) \\',
    ...all.map((s, i) => `  X(${s.name}, ${structName(s.name)})${i < all.length - 1 ? ' \\' : ''}`),
    '',
    'namespace spec {',
    `constexpr int kMaxArgs = ${MAX_ARGS};`,
    `constexpr int kMaxStack = ${MAX_STACK};`,
    `constexpr int kMaxLists = ${MAX_LISTS};`,
    `constexpr int kMaxArrayLists = ${MAX_ARRAY_LISTS};`,
    `constexpr int kMaxDims = ${NATIVE_MAX_DIMS};`,
    '',
    ...blocks.map((b) => b.table + '\n'),
    '}  // namespace spec',
    '}  // namespace heed',
    '',
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = generate();
  if (process.argv.includes('--check')) {
    let old = '';
    try { old = readFileSync(HEADER_PATH, 'utf8'); } catch { /* missing counts as stale */ }
    if (old !== text) {
      console.error(`${HEADER_PATH} is stale: run node --import tsx scripts/gen-native-specs.ts`);
      process.exit(1);
    }
  } else {
    writeFileSync(HEADER_PATH, text);
    console.log(`wrote ${HEADER_PATH}`);
  }
}
