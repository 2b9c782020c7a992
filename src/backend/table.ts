/**
 * The kernel table's types, derived from the specs (./specs): a kernel's name, its
 * parameter object, and the table of every kernel. The reference kernels in ./js take
 * `Params<'name'>`; ops call `k.name({ ... })` on a `KernelTable`.
 */
import type * as specs from './specs/index.js';
import type { ParamsOf } from './spec.js';

/** Every kernel's name. */
export type KernelName = keyof typeof specs;
/** The parameter object of kernel N, derived from its spec. */
export type Params<N extends KernelName> = ParamsOf<(typeof specs)[N]>;
/** The table of every kernel: each takes its parameter object. */
export type KernelTable = { readonly [N in KernelName]: (p: Params<N>) => void };
