/**
 * The kernel spec format: one declaration per kernel says what it takes, and everything
 * else is derived from it (see ./specs/ for the declarations):
 *   - the TypeScript type of its parameter object (`ParamsOf<S>`), hence the kernel table;
 *   - the registry's fallbacks to the reference kernel (./registry.ts);
 *   - the flat argument order at the addon boundary (./native/load.ts);
 *   - the native argument checks: scripts/gen-native-specs.ts turns every spec into a C++
 *     struct `<Name>Args` and a check table in native/kernel_specs.gen.h, which one generic
 *     checker in native/binding.cpp interprets.
 *
 * A spec is `kernel(name, { arg: role(dtype, rules), ... })`; the order of the args is the
 * order of the C++ struct fields. Roles:
 *   input(dtype)    an array the kernel reads          C++ `const T*`
 *   output(dtype)   an array the kernel writes (or reads and writes)   C++ `T*`
 *   shape()         a dimension: integer in [0, 2^40]   C++ `int64_t`
 *   scalar(kind)    'int' | 'float' | 'double' number   C++ `int64_t` | `float` | `double`
 *   option()        a boolean (0/1 accepted natively)   C++ `bool`
 *   intList()       an Array of integers ≥ 0, ≤ 16 entries (more → reference)  C++ `const int64_t*`
 *   inputList(dtype) / outputList(dtype)
 *                   an Array of typed arrays the kernel reads / writes (a multi-tensor kernel: one
 *                   call over every parameter)   C++ `spec::List<const T>` / `spec::List<T>`:
 *                   `data[i]`, `len[i]` (entry i's pointer and length) and `size` (entry count)
 *   derived(expr)   not passed from TypeScript: computed natively from the others  C++ `int64_t`
 * Array dtypes: 'f32', 'f64' (per-entry hyper-parameters, never a fallback), 'i32', 'i8', and 'numeric' (Float32Array | Int32Array | Uint8Array in
 * TypeScript; the native kernel takes f32 only, other arrays run on the reference).
 *
 * Rules are integer expressions over the args (see ExprDoc below): `len` (exact length),
 * `minLen`, `values` (every entry of an int array in [min, max), or equal to `except`),
 * `min`/`max` for scalars, and kernel-level `checks` with a message. Lists: `size` (exact entry
 * count) and `sameLengths` (entry i has the length of entry i of another list arg); every entry
 * must be the list's dtype (a TypeError naming the entry otherwise).
 */

/** Expression grammar, shared by every rule (compiled by scripts/gen-native-specs.ts):
 *   integers, arg names (a dim, int scalar or bool as 0/1), len(array) (0 for null),
 *   size(list) (entries of an int list or array list), prod(list), extent(list, strides) = Σ (list[d] − 1)·strides[d] over list[d] > 0,
 *   isPerm(list), + − * / %, comparisons, && || !, and c ? a : b.
 * Every operand is evaluated (no short circuit); x / 0 and x % 0 are 0; a product or sum
 * past 2^53 is a RangeError naming the expression. */
export type Expr = string;

export type ArrayDType = 'f32' | 'f64' | 'i32' | 'i8' | 'numeric';
export type ScalarKind = 'int' | 'float' | 'double';

interface ArgBase {
  /** Short description shown in docs and errors. */
  readonly doc?: string;
}

export interface ArraySpec extends ArgBase {
  readonly role: 'input' | 'output';
  readonly dtype: ArrayDType;
  /** May be null (an optional array, e.g. a bias). */
  readonly nullable: boolean;
  /** Exact length, or minimum length; checked only when the array is not null. */
  readonly len?: Expr;
  readonly minLen?: Expr;
  /** Int arrays: every entry e must satisfy min ≤ e < max, unless e == except. */
  readonly values?: { readonly min: Expr; readonly max: Expr; readonly except?: Expr; readonly what?: string };
}

export interface ShapeSpec extends ArgBase {
  readonly role: 'shape';
}

export interface ScalarSpec extends ArgBase {
  readonly role: 'scalar';
  readonly kind: ScalarKind;
  /** Inclusive bounds (numbers); maxExclusive makes max exclusive. */
  readonly min?: number;
  readonly max?: number;
  readonly maxExclusive?: boolean;
  /** Reject NaN and ±Infinity (float kinds). */
  readonly finite?: boolean;
}

export interface OptionSpec extends ArgBase {
  readonly role: 'option';
}

export interface IntListSpec extends ArgBase {
  readonly role: 'intList';
}

/** An Array of typed arrays of one dtype (entries may be empty, the list may be empty). */
export interface ListSpec extends ArgBase {
  readonly role: 'inputList' | 'outputList';
  readonly dtype: 'f32';
  /** Exact entry count. */
  readonly size?: Expr;
  /** The name of another list arg: entry i must have the length of its entry i. */
  readonly sameLengths?: string;
}

export interface DerivedSpec extends ArgBase {
  readonly role: 'derived';
  readonly expr: Expr;
}

export type ArgSpec = ArraySpec | ShapeSpec | ScalarSpec | OptionSpec | IntListSpec | ListSpec | DerivedSpec;

export interface Check {
  /** Must be nonzero. */
  readonly ok: Expr;
  /** Said when it is not: what was expected and why. */
  readonly message: string;
}

export interface KernelSpec<A extends Record<string, ArgSpec> = Record<string, ArgSpec>> {
  readonly name: string;
  readonly args: A;
  /** Cross-argument conditions the native side enforces. */
  readonly checks: readonly Check[];
  /** Calls whose `arg` holds fewer than `elements` entries run on the reference: crossing into
   * the addon costs more than a short JS loop. */
  readonly referenceBelow?: { readonly arg: string; readonly elements: number };
  /** Only the TypeScript reference exists (no native struct, check table or entry point). */
  readonly referenceOnly?: boolean;
}

/** The most dims the native layer takes; intList args longer than this run on the reference. */
export const NATIVE_MAX_DIMS = 16;

export function input<D extends ArrayDType>(dtype: D, rules: Omit<ArraySpec, 'role' | 'dtype' | 'nullable'> = {}): ArraySpec & { role: 'input'; dtype: D; nullable: false } {
  return { role: 'input', dtype, nullable: false, ...rules };
}
export function optionalInput<D extends ArrayDType>(dtype: D, rules: Omit<ArraySpec, 'role' | 'dtype' | 'nullable'> = {}): ArraySpec & { role: 'input'; dtype: D; nullable: true } {
  return { role: 'input', dtype, nullable: true, ...rules };
}
export function output<D extends ArrayDType>(dtype: D, rules: Omit<ArraySpec, 'role' | 'dtype' | 'nullable'> = {}): ArraySpec & { role: 'output'; dtype: D; nullable: false } {
  return { role: 'output', dtype, nullable: false, ...rules };
}
export function optionalOutput<D extends ArrayDType>(dtype: D, rules: Omit<ArraySpec, 'role' | 'dtype' | 'nullable'> = {}): ArraySpec & { role: 'output'; dtype: D; nullable: true } {
  return { role: 'output', dtype, nullable: true, ...rules };
}
export function shape(doc?: string): ShapeSpec {
  return doc === undefined ? { role: 'shape' } : { role: 'shape', doc };
}
export function scalar<K extends ScalarKind>(kind: K, rules: Omit<ScalarSpec, 'role' | 'kind'> = {}): ScalarSpec & { kind: K } {
  return { role: 'scalar', kind, ...rules };
}
export function option(doc?: string): OptionSpec {
  return doc === undefined ? { role: 'option' } : { role: 'option', doc };
}
export function intList(doc?: string): IntListSpec {
  return doc === undefined ? { role: 'intList' } : { role: 'intList', doc };
}
export function inputList(dtype: 'f32', rules: Omit<ListSpec, 'role' | 'dtype'> = {}): ListSpec & { role: 'inputList'; dtype: 'f32' } {
  return { role: 'inputList', dtype, ...rules };
}
export function outputList(dtype: 'f32', rules: Omit<ListSpec, 'role' | 'dtype'> = {}): ListSpec & { role: 'outputList'; dtype: 'f32' } {
  return { role: 'outputList', dtype, ...rules };
}
export function derived(expr: Expr, doc?: string): DerivedSpec {
  return doc === undefined ? { role: 'derived', expr } : { role: 'derived', expr, doc };
}

export function kernel<const N extends string, const A extends Record<string, ArgSpec>>(
  name: N, args: A,
  extra: { checks?: readonly Check[]; referenceBelow?: { arg: keyof A & string; elements: number }; referenceOnly?: boolean } = {},
): KernelSpec<A> & { name: N } {
  return Object.freeze({ name, args, checks: extra.checks ?? [], ...extra });
}

// ---- TypeScript types derived from a spec ----

type ArrayType<D> = D extends 'f32' ? Float32Array : D extends 'f64' ? Float64Array : D extends 'i32' ? Int32Array : D extends 'i8' ? Int8Array
  : Float32Array | Int32Array | Uint8Array;

type TsType<S> =
  S extends ArraySpec ? (S['nullable'] extends true ? ArrayType<S['dtype']> | null : ArrayType<S['dtype']>)
  : S extends OptionSpec ? boolean
  : S extends IntListSpec ? readonly number[]
  : S extends ListSpec ? readonly ArrayType<S['dtype']>[]
  : number;

/** The parameter object of a kernel: one field per arg that is not derived. */
export type ParamsOf<S extends KernelSpec> = {
  readonly [K in keyof S['args'] as S['args'][K] extends DerivedSpec ? never : K]: TsType<S['args'][K]>;
};

/** A kernel implementation: takes its parameter object, writes its outputs, returns nothing. */
export type KernelFn<S extends KernelSpec> = (p: ParamsOf<S>) => void;

/** The names of the args passed from TypeScript, in spec (= C++ struct) order. */
export function passedArgs(spec: KernelSpec): string[] {
  return Object.entries(spec.args).filter(([, a]) => a.role !== 'derived').map(([n]) => n);
}
