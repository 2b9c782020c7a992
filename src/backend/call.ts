/**
 * The call into a native kernel, built from its spec: takes the named parameter object,
 * decides whether the reference must run instead, and otherwise calls the addon with the
 * args flat, in spec order. Reading a dozen properties of a JS object inside Node-API
 * costs more than passing them as arguments, so the object is flattened here, in JS.
 *
 * The fallbacks to the reference kernel, all derived from the spec:
 *   - any 'f32' array that is a Float64Array (gradcheck runs in float64; native is float32);
 *   - any 'numeric' array that is not a Float32Array (e.g. permute moving int32 ids);
 *   - any intList longer than NATIVE_MAX_DIMS;
 *   - spec.referenceBelow: fewer elements than that in the named array.
 *
 * The function is generated as source so that it reads fixed property names: each load is
 * monomorphic and the whole check inlines (bench/dispatch.ts measures it).
 */
import { NATIVE_MAX_DIMS, passedArgs, type KernelSpec } from './spec.js';
import type { FlatKernel } from './native/load.js';

/** A kernel taking its parameter object. */
export type ObjectKernel = (p: Record<string, unknown>) => void;

const IDENT = /^[A-Za-z_$][\w$]*$/;

/** The conditions, as JS source over `p`, under which the reference must run. */
function fallbackConditions(spec: KernelSpec): string[] {
  const cond: string[] = [];
  if (spec.referenceBelow) cond.push(`p.${spec.referenceBelow.arg}.length < ${spec.referenceBelow.elements}`);
  for (const [n, a] of Object.entries(spec.args)) {
    if ((a.role === 'input' || a.role === 'output') && a.dtype === 'f32') cond.push(`p.${n} instanceof Float64Array`);
    if ((a.role === 'input' || a.role === 'output') && a.dtype === 'numeric') cond.push(`!(p.${n} instanceof Float32Array)`);
    if (a.role === 'intList') cond.push(`p.${n}.length > ${NATIVE_MAX_DIMS}`);
  }
  return cond;
}

/**
 * `(p) => native(p.a, p.b, ...)`, and when `reference` is given, that call preceded by the
 * spec's fallbacks to `reference(p)`.
 */
export function nativeCall(spec: KernelSpec, native: FlatKernel, reference?: ObjectKernel): ObjectKernel {
  const names = passedArgs(spec);
  for (const n of [spec.name, ...names]) if (!IDENT.test(n)) throw new Error(`kernel spec '${spec.name}': '${n}' is not an identifier`);
  const cond = reference === undefined ? [] : fallbackConditions(spec);
  const body = [
    ...(cond.length ? [`if (${cond.join(' || ')}) return reference(p);`] : []),
    `native(${names.map((n) => `p.${n}`).join(', ')});`,
  ].join('\n  ');
  // Source built from identifiers of our own specs only (checked above).
  return new Function('native', 'reference', `return function ${spec.name}(p) {\n  ${body}\n};`)(native, reference) as ObjectKernel;
}
