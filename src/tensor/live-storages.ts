/**
 * What outlives a storage scope (src/tensor/storage-pool.ts): every tensor storage reachable from
 * some roots (a model, an optimizer, a call's result, a KV cache) through object fields, arrays and
 * Map values. A training step's scope (src/train/step-memory.ts) and an inference call's scope
 * (src/autograd/inference.ts) pass this to close(), so nothing they can still reach goes to the pool.
 *
 * A Tensor contributes its storage and its .grad's; its gradFn (an autograd graph) is not followed.
 * Storage held only in a closure, a WeakMap or a module-level variable is invisible here: code that
 * keeps tensors there must not run inside a scope (HEED_POOL=check finds such a case by poisoning).
 *
 * Roots that persist across calls (the model, the optimizer) are walked once and the walk is cached
 * (`liveBuffers`): the next call re-reads only the object-valued contents of the containers the walk
 * passed through (a module's fields, an array's entries, a Map's values) and compares them by
 * identity with what it saw. Any change anywhere (a field assigned, a parameter replaced, a layer
 * swapped, a tensor a module caches in a field during a forward) fails that check, and the root is
 * walked again, so the cache never hides a live storage. Parameters themselves are not revisited:
 * a Tensor's storage cannot change (`data` is readonly), and only its .grad is read again.
 */
import { Tensor } from './tensor.js';
import type { Storage } from './dtype.js';
import type { LiveBuffers } from './storage-pool.js';

export type { LiveBuffers };

/** Every storage reachable from `roots` through object fields and arrays, stopping at tensors. */
export function liveStorages(...roots: unknown[]): Storage[] {
  const out: Storage[] = [];
  walk(roots, (s) => out.push(s), null);
  return out;
}

/**
 * The buffers reachable from `transient` (walked afresh: a call's result) and from each of
 * `persistent` (walked once, then revalidated and reused; see the file header).
 */
export function liveBuffers(transient: unknown, persistent: readonly unknown[]): LiveBuffers {
  const fresh = new Set<ArrayBufferLike>();
  walk([transient], (s) => fresh.add(s.buffer), null);
  const walks: RootWalk[] = [];
  for (const root of persistent) {
    if (root === null || typeof root !== 'object') continue;
    if (root instanceof Tensor || ArrayBuffer.isView(root)) {
      walk([root], (s) => fresh.add(s.buffer), null); // a leaf: nothing to cache
      continue;
    }
    const w = cachedWalk(root);
    walks.push(w);
    // .grad is the one thing about a Tensor that changes (a training step assigns new gradients).
    for (const t of w.tensors) if (t.grad !== null) fresh.add(t.grad.data.buffer);
  }
  return {
    hasBuffer(buffer: ArrayBufferLike): boolean {
      if (fresh.has(buffer)) return true;
      for (const w of walks) if (w.buffers.has(buffer)) return true;
      return false;
    },
  };
}

/** One persistent root's walk: the containers it passed through and what each held, and what it found. */
interface RootWalk {
  /**
   * Every object walked into (not tensors or typed arrays), and its object-valued contents then:
   * those of containers[i] are contents[ends[i - 1] .. ends[i]) (one flat array, read in order at
   * revalidation instead of one array per container: after a kernel has streamed through the
   * caches, each separate array is a separate miss).
   */
  containers: object[];
  contents: unknown[];
  ends: number[];
  /** Every Tensor found (their .grad is read on every use). */
  tensors: Tensor[];
  /** The ArrayBuffers of every tensor's storage and every typed array found. */
  buffers: Set<ArrayBufferLike>;
}

const rootWalks = new WeakMap<object, RootWalk>();

/** Counters for tests and benchmarks: walks made and walks reused since the process started. */
export const liveWalkStats = { walks: 0, reused: 0 };

function cachedWalk(root: object): RootWalk {
  const cached = rootWalks.get(root);
  if (cached !== undefined && unchanged(cached)) {
    liveWalkStats.reused++;
    return cached;
  }
  const w: RootWalk = { containers: [], contents: [], ends: [], tensors: [], buffers: new Set() };
  walk([root], (s) => w.buffers.add(s.buffer), w);
  rootWalks.set(root, w);
  liveWalkStats.walks++;
  return w;
}

/** Whether every container of a cached walk still holds exactly the objects it held. */
function unchanged(w: RootWalk): boolean {
  let start = 0;
  for (let i = 0; i < w.containers.length; i++) {
    const end = w.ends[i];
    if (!holdsExactly(w.containers[i], w.contents, start, end)) return false;
    start = end;
  }
  return true;
}

const isObject = (x: unknown): x is object => x !== null && typeof x === 'object';

/**
 * The object-valued contents of a container, in a stable order: a Map's values, an array's
 * entries, an object's enumerable properties (numbers and strings cannot hold storage).
 */
function objectContents(v: object): unknown[] {
  const out: unknown[] = [];
  if (v instanceof Map) {
    for (const x of v.values()) if (isObject(x)) out.push(x);
  } else if (Array.isArray(v)) {
    for (const x of v) if (isObject(x)) out.push(x);
  } else {
    const o = v as Record<string, unknown>;
    for (const key in o) if (isObject(o[key])) out.push(o[key]);
  }
  return out;
}

/** objectContents(v) equals then[start .. end), element by element, without building it (this runs per call). */
function holdsExactly(v: object, then: unknown[], start: number, end: number): boolean {
  let j = start;
  if (v instanceof Map) {
    for (const x of v.values()) if (isObject(x) && (j === end || then[j++] !== x)) return false;
  } else if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (isObject(v[i]) && (j === end || then[j++] !== v[i])) return false;
  } else {
    const o = v as Record<string, unknown>;
    for (const key in o) if (isObject(o[key]) && (j === end || then[j++] !== o[key])) return false;
  }
  return j === end;
}

/**
 * Depth-first over `roots`: calls `found` for every storage (a tensor's and its .grad's when
 * `record` is null; a tensor's alone when recording, since grads are read at use), and, when
 * `record` is given, notes the containers, their contents and the tensors.
 */
function walk(roots: unknown[], found: (s: Storage) => void, record: RootWalk | null): void {
  const seen = new Set<object>();
  const stack: unknown[] = [...roots];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object' || seen.has(v)) continue;
    seen.add(v);
    if (v instanceof Tensor) {
      found(v.data);
      if (record !== null) record.tensors.push(v);
      else if (v.grad !== null) found(v.grad.data);
      continue; // its gradFn (the step's graph) is not followed
    }
    if (ArrayBuffer.isView(v)) {
      found(v as Storage);
      continue;
    }
    const contents = objectContents(v);
    if (record !== null) {
      record.containers.push(v);
      for (const x of contents) record.contents.push(x);
      record.ends.push(record.contents.length);
    }
    for (const x of contents) stack.push(x);
  }
}
