/**
 * Module: the base class of every layer and model (torch.nn.Module, in camelCase).
 *
 * Registration is by assignment, with no Proxy and no decorators: when a Module
 * walks its parameters it scans its own fields in insertion order (the order the
 * constructor assigned them, as PyTorch's registration order), and
 *   - a field holding a Parameter is a parameter,
 *   - a field holding a Module is a submodule,
 *   - a field named with registerBuffer() is a buffer (saved in the state dict),
 *   - fields starting with '_', null fields and anything else are ignored.
 * So `this.weight = new Parameter(...)` and `this.proj = new Linear(...)` are all it takes.
 *
 * Dotted names join field names: `layers.0.selfAttn.qProj.weight`. They are the
 * checkpoint keys, so loading a checkpoint is a key copy (nanoGPT). They are
 * PyTorch's names in camelCase; tools/fixtures/make_nn_fixtures.py holds the map.
 *
 * Subclasses implement forward(...). Callers use m.call(...) (runs forward hooks,
 * as torch's __call__) or m.forward(...) (no hooks).
 */
import { Tensor } from '../tensor/tensor.js';
import { Parameter } from './parameter.js';
import { toFloat } from '../ops/elementwise.js';
import { CheckpointError, NotImplementedError, ValueError, fmtShape } from '../errors.js';
import { sameShape } from '../tensor/shape.js';
import { isFloat } from '../tensor/dtype.js';
import { markWeightsChanged } from './weights-version.js';

/** A forward hook sees the module, its call arguments and its output; returning a value replaces the output. */
export type ForwardHook = (module: Module, args: unknown[], output: unknown) => unknown;

export interface HookHandle {
  remove(): void;
}

export interface LoadStateDictOptions {
  /** Throw on missing or unexpected keys (default true, as PyTorch). */
  strict?: boolean;
}

export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/** A name pattern: a RegExp, or a glob where `*` matches any run of characters and `?` one. */
export type NamePattern = string | RegExp;

/** The RegExp a name pattern stands for (a glob matches the whole dotted name). */
export function toRegExp(p: NamePattern): RegExp {
  if (p instanceof RegExp) return p;
  const esc = p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${esc}$`);
}

export class Module {
  /** Whether the module is in training mode (dropout active). Set with train()/eval(). */
  training = true;
  private _hooks: ForwardHook[] = [];
  private _buffers = new Set<string>();

  /** Computes the module's output. Every subclass that can be called implements it. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  forward(..._args: any[]): any {
    throw new NotImplementedError(`${this.constructor.name}.forward is not implemented. Fix: implement forward() in the subclass, or call its children.`);
  }

  /** Runs forward(...args) and then the forward hooks (a hook's non-undefined return replaces the output). */
  call(...args: Parameters<this['forward']>): ReturnType<this['forward']> {
    let out: unknown = this.forward(...args);
    if (this._hooks.length === 0) return out as ReturnType<this['forward']>; // the common case: no copy of the hook list
    for (const h of [...this._hooks]) {
      const r = h(this, args, out);
      if (r !== undefined) out = r;
    }
    return out as ReturnType<this['forward']>;
  }

  /** Whether call() runs forward hooks (a fused fast path that skips call() must not skip them). */
  get hasForwardHooks(): boolean {
    return this._hooks.length > 0;
  }

  /** Adds a hook run after every call(); returns a handle whose remove() unregisters it. */
  registerForwardHook(fn: ForwardHook): HookHandle {
    this._hooks.push(fn);
    return { remove: () => { this._hooks = this._hooks.filter((h) => h !== fn); } };
  }

  /** Registers (assigns) a parameter; null registers an absent optional parameter such as a bias. */
  registerParameter(name: string, t: Tensor | null): Parameter | null {
    checkName(name, this);
    const p = t === null ? null : t instanceof Parameter ? t : new Parameter(t);
    (this as unknown as Record<string, unknown>)[name] = p;
    return p;
  }

  /** Registers (assigns) a submodule. */
  registerModule<M extends Module>(name: string, m: M): M {
    checkName(name, this);
    (this as unknown as Record<string, unknown>)[name] = m;
    return m;
  }

  /** Registers a tensor that is state but not trained (running statistics...). persistent=false keeps it out of stateDict. */
  registerBuffer(name: string, t: Tensor, options: { persistent?: boolean } = {}): Tensor {
    checkName(name, this);
    (this as unknown as Record<string, unknown>)[name] = t;
    if (options.persistent ?? true) this._buffers.add(name);
    return t;
  }

  /** This module's own (name, value) entries in registration order. ModuleList overrides it. */
  protected ownEntries(): [string, unknown][] {
    return Object.keys(this).filter((k) => !k.startsWith('_')).map((k) => [k, (this as unknown as Record<string, unknown>)[k]]);
  }

  /** Direct submodules with their field names. */
  namedChildren(): [string, Module][] {
    return this.ownEntries().filter((e): e is [string, Module] => e[1] instanceof Module);
  }

  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** Every module in the tree, depth first, this one first with name ''. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [n, m] of this.namedChildren()) out.push(...m.namedModules(prefix ? `${prefix}.${n}` : n));
    return out;
  }

  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** Own parameters (not recursive) with their field names. */
  private ownParameters(): [string, Parameter][] {
    return this.ownEntries().filter((e): e is [string, Parameter] => e[1] instanceof Parameter);
  }

  /**
   * Every parameter with its dotted name, in registration order. A parameter shared
   * by two modules (tied weights) is listed once, under its first name, as PyTorch.
   */
  namedParameters(): [string, Parameter][] {
    const seen = new Set<Parameter>();
    const out: [string, Parameter][] = [];
    for (const [mn, m] of this.namedModules()) {
      for (const [pn, p] of m.ownParameters()) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([mn ? `${mn}.${pn}` : pn, p]);
      }
    }
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Persistent buffers with their dotted names. */
  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [mn, m] of this.namedModules()) {
      for (const b of m._buffers) {
        const t = (m as unknown as Record<string, unknown>)[b];
        if (t instanceof Tensor) out.push([mn ? `${mn}.${b}` : b, t]);
      }
    }
    return out;
  }

  /** Switches training mode on this module and every submodule. Returns this. */
  train(mode = true): this {
    let changed = false;
    for (const m of this.modules()) {
      changed ||= m.training !== mode;
      m.training = mode;
    }
    // Training may follow (or just ended): derived weight copies are rebuilt. Only on a real switch:
    // predictors call eval() on every request, and each bump made the fused encoder repack its weights.
    if (changed) markWeightsChanged();
    return this;
  }

  /** train(false). */
  eval(): this {
    return this.train(false);
  }

  /**
   * Called on every module after loadStateDict has copied values in (children first, as apply).
   * A module that keeps a derived copy of its state (QuantizedLinear's packed int8 weights)
   * overrides it to rebuild that copy; the default does nothing.
   */
  afterLoadStateDict(): void {}

  /**
   * Every parameter and persistent buffer by dotted name (tied weights appear under
   * each of their names, as PyTorch). The tensors share storage with the module.
   */
  stateDict(): Record<string, Tensor> {
    const sd: Record<string, Tensor> = {};
    for (const [mn, m] of this.namedModules()) {
      for (const [pn, p] of m.ownParameters()) sd[mn ? `${mn}.${pn}` : pn] = p;
    }
    for (const [n, b] of this.namedBuffers()) sd[n] = b;
    return sd;
  }

  /**
   * Copies tensors into the parameters and buffers with the same dotted names.
   * Shapes must match exactly (CheckpointError naming the key and both shapes);
   * values are converted to the parameter's dtype. With strict (default), missing
   * or unexpected keys are a CheckpointError too.
   */
  loadStateDict(sd: Record<string, Tensor>, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = options.strict ?? true;
    // Maps, and only sd's own keys: a checkpoint key such as 'constructor' or '__proto__' must not
    // find Object.prototype's properties (or make 'constructor' look present).
    const own = new Map(Object.entries(this.stateDict()));
    const given = new Map(Object.entries(sd));
    const missingKeys = [...own.keys()].filter((k) => !given.has(k));
    const unexpectedKeys = [...given.keys()].filter((k) => !own.has(k));
    for (const [k, t] of own) {
      const src = given.get(k);
      if (src === undefined) continue;
      if (!(src instanceof Tensor)) {
        throw new CheckpointError(`loadStateDict: key '${k}' holds ${typeof src === 'object' ? (src === null ? 'null' : (src as object).constructor?.name ?? 'an object') : typeof src}, expected a Tensor.`);
      }
      if (!sameShape(src.shape, t.shape)) {
        throw new CheckpointError(`loadStateDict: key '${k}' has shape ${fmtShape(src.shape)} in the checkpoint, expected ${fmtShape(t.shape)} for ${this.constructor.name}. Fix: build the model with the config the checkpoint was saved with (its config.json), or drop that key and load with { strict: false }.`);
      }
      // Float values convert between float dtypes; int8 (quantized) values are copied only from int8,
      // since a float weight copied into int8 storage would be silently truncated.
      if ((src.dtype === 'int8') !== (t.dtype === 'int8')) {
        throw new CheckpointError(`loadStateDict: key '${k}' has dtype ${src.dtype} in the checkpoint, expected ${t.dtype} for ${this.constructor.name}. ` +
          (t.dtype === 'int8' ? 'The model is quantized but the checkpoint is not. Fix: load the fp32 checkpoint into the fp32 model, then quantizeDynamic it.' : 'The checkpoint is quantized but the model is not. Fix: load it with the compression recorded in its config.json (a task loader does this), or quantizeDynamic the model first.'));
      }
    }
    if (strict && (missingKeys.length > 0 || unexpectedKeys.length > 0)) {
      throw new CheckpointError(`loadStateDict: the checkpoint does not match ${this.constructor.name}. Missing keys: ${listKeys(missingKeys)}. Unexpected keys: ${listKeys(unexpectedKeys)}. Fix: check the model config, or pass { strict: false } to load the keys that match.`);
    }
    for (const [k, t] of own) {
      const src = given.get(k);
      if (src !== undefined && src !== t) t.data.set(src.data as ArrayLike<number>);
    }
    markWeightsChanged();
    this.apply((m) => m.afterLoadStateDict());
    return { missingKeys, unexpectedKeys };
  }

  /** Number of parameter elements (tied weights counted once). */
  numParameters(options: { trainableOnly?: boolean } = {}): number {
    return this.parameters().filter((p) => !options.trainableOnly || p.requiresGrad).reduce((s, p) => s + p.size, 0);
  }

  /** Sets requiresGrad=false on parameters whose dotted name matches (all when omitted). Returns the names changed. */
  freeze(pattern: NamePattern = '*'): string[] {
    return this.setTrainable(pattern, false);
  }

  /** Sets requiresGrad=true on parameters whose dotted name matches (all when omitted). Returns the names changed. */
  unfreeze(pattern: NamePattern = '*'): string[] {
    return this.setTrainable(pattern, true);
  }

  private setTrainable(pattern: NamePattern, value: boolean): string[] {
    const re = toRegExp(pattern);
    const names: string[] = [];
    for (const [n, p] of this.namedParameters()) {
      if (re.test(n)) { p.requiresGrad = value; names.push(n); }
    }
    if (names.length === 0) {
      throw new ValueError(`${value ? 'unfreeze' : 'freeze'}: pattern ${String(pattern)} matches no parameter. Parameters are named like '${this.namedParameters()[0]?.[0] ?? '(none)'}'. Fix: use a glob ('encoder.*') or a RegExp.`);
    }
    return names;
  }

  /** Calls fn on every submodule (children first) and then on this one, as PyTorch. Returns this. */
  apply(fn: (m: Module) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  /** Clears the gradient of every parameter. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /**
   * Converts every parameter and float buffer to a float dtype (float64 for gradcheck), in place.
   * Integer buffers (BatchNorm's numBatchesTracked) keep their dtype, as PyTorch's .double(). Tied parameters stay tied.
   */
  to(dtype: 'float32' | 'float64'): this {
    const map = new Map<Tensor, Tensor>();
    for (const m of this.modules()) {
      const rec = m as unknown as Record<string, unknown>;
      for (const [k, v] of m.ownEntries()) {
        if (!(v instanceof Tensor) || v.dtype === dtype || !isFloat(v.dtype) || (!(v instanceof Parameter) && !m._buffers.has(k))) continue;
        let nv = map.get(v);
        if (nv === undefined) {
          const c = toFloat(v.detach(), dtype);
          nv = v instanceof Parameter ? new Parameter(c, v.requiresGrad) : c;
          map.set(v, nv);
        }
        rec[k] = nv;
      }
    }
    return this;
  }
}

/** Keys for an error message: at most 10, each cut at 80 characters. */
function listKeys(keys: readonly string[]): string {
  const shown = keys.slice(0, 10).map((k) => (k.length > 80 ? `${k.slice(0, 80)}…` : k));
  return `[${shown.join(', ')}${keys.length > 10 ? `, … (${keys.length} in all)` : ''}]`;
}

function checkName(name: string, m: Module): void {
  if (name === '' || name.includes('.') || name.startsWith('_')) {
    throw new ValueError(`${m.constructor.name}: cannot register '${name}'; expected a non-empty name without '.' that does not start with '_'.`);
  }
}

/** Submodules held in a list; names are their indices ('0', '1', ...), as torch.nn.ModuleList. */
export class ModuleList<M extends Module = Module> extends Module {
  private _items: M[];

  constructor(modules: Iterable<M> = []) {
    super();
    this._items = [...modules];
  }

  protected override ownEntries(): [string, unknown][] {
    return [...super.ownEntries(), ...this._items.map((m, i): [string, unknown] => [String(i), m])];
  }

  get length(): number {
    return this._items.length;
  }

  get(i: number): M {
    const m = this._items[i < 0 ? this._items.length + i : i];
    if (m === undefined) throw new ValueError(`ModuleList.get: index ${i} is out of range for a list of ${this._items.length} modules.`);
    return m;
  }

  /** Replaces the module at index i (e.g. a Linear by its quantized copy). */
  set(i: number, m: M): this {
    this.get(i);
    this._items[i < 0 ? this._items.length + i : i] = m;
    return this;
  }

  push(m: M): this {
    this._items.push(m);
    return this;
  }

  [Symbol.iterator](): Iterator<M> {
    return this._items[Symbol.iterator]();
  }

  toArray(): M[] {
    return [...this._items];
  }
}

/** Modules applied one after another to a single input, as torch.nn.Sequential. */
export class Sequential extends ModuleList {
  constructor(...modules: Module[]) {
    super(modules);
  }

  override forward(x: Tensor): Tensor {
    let y: unknown = x;
    for (const m of this) y = m.call(y);
    return y as Tensor;
  }
}

export { Parameter };
