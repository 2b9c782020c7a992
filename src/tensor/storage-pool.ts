/**
 * Storage accounting and a buffer pool for tensor storage.
 *
 * Every tensor storage made by dtype.ts (alloc / allocUninit) is counted here, so a benchmark or a
 * test can ask how many bytes a training step allocates (`storageStats()`).
 *
 * The pool lets a training step reuse the previous step's buffers instead of asking V8 for new
 * ones (no zero-fill of large buffers, no external-memory pressure, no GC to free them). It works
 * by scopes, which only a caller that knows what outlives a step may open (src/train/step-memory.ts):
 *
 *   const scope = openStorageScope();        // from here on, every storage allocated is recorded
 *   ... forward, backward, optimizer.step() ...
 *   scope.close(liveStorages);               // recorded storages not in liveStorages go to the pool
 *                                            // (a list of storages, or a LiveBuffers test by ArrayBuffer)
 *
 * `liveStorages` must name every storage that may still be read after the step (parameters,
 * their .grad, tensors that modules keep). Liveness is by ArrayBuffer, so a view that shares
 * memory with a recorded storage keeps it alive. A recorded storage that is live at one close is
 * carried to the next close and checked again there (a parameter's .grad, dropped by the next
 * step's zeroGrad, is released one step later). Free buffers are kept by exact dtype and length
 * (each still its own ArrayBuffer at offset 0); at close the pool keeps only the sizes asked for
 * in this step and the one before (recurring shapes), so it holds at most one step's working set,
 * and none of a batch whose padded length will not come back.
 *
 * HEED_POOL=0 turns reuse off (allocation as without a pool; the counters still run).
 * HEED_POOL=check releases nothing for reuse and fills released float buffers with NaN instead, so
 * a storage wrongly treated as dead shows up as NaN in whatever still reads it (a test of the
 * liveness rule, not a mode to train in).
 */
// The storage types are spelled out here (the DType and Storage of the dtype module, which imports this file).
type DType = 'float32' | 'float64' | 'int32' | 'bool' | 'int8';
type Storage = Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array;

/** A liveness test by ArrayBuffer (src/tensor/live-storages.ts `liveBuffers` makes one). */
export interface LiveBuffers {
  hasBuffer(buffer: ArrayBufferLike): boolean;
}

export interface StorageStats {
  /** Storages handed out (new or reused). */
  allocations: number;
  /** Bytes of newly allocated storage (not counting reused buffers). */
  bytes: number;
  /** Storages served from the pool. */
  reused: number;
  /** Bytes served from the pool. */
  reusedBytes: number;
}

type Mode = 'on' | 'off' | 'check';

function modeFromEnv(): Mode {
  const v = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.HEED_POOL;
  return v === '0' || v === 'off' ? 'off' : v === 'check' ? 'check' : 'on';
}

let mode: Mode = modeFromEnv();
/**
 * The counters: allocations, bytes, reused, reusedBytes. A Float64Array, not an object's fields: a byte
 * count passes the small-integer range (2^30) within tens of training steps, and a field that does
 * so changes representation, which deoptimizes the allocation path inlined into every op (it then
 * runs unoptimized for tens of steps more).
 */
const counts = new Float64Array(4);
const ALLOCATIONS = 0, BYTES = 1, REUSED = 2, REUSED_BYTES = 3;
/** Free buffers: sizeKey(dtype, length) → stack of storages. */
const free = new Map<number, Storage[]>();
/**
 * The open scope's number (0 when no scope is open) and its record: every storage it handed out,
 * new or from the pool, in entries [0, recorded) of one list kept with its capacity from scope to
 * scope (its entries cleared at close: a list made per scope was regrown, ~10 KB of garbage, every
 * training step). The (dtype, length) keys asked for in the scope, which decide what the pool keeps,
 * are read off this record at close (every request ends in a recorded storage), not noted per request.
 */
let recording = 0;
let scopesOpened = 0;
let recorded = 0;
/**
 * When each key was last asked for, by scope close number: 2·n when the close numbered n was the
 * last to ask for it, 2·n + 1 when the close before it (n − 1) asked for it too. One map kept from
 * close to close (a value rewritten in place allocates nothing; a Set per close grew its table anew).
 */
const askedAt = new Map<number, number>();
/** Scope closes so far (clearStoragePool skips a number, so that no close is "the one before" across it). */
let closes = 0;
const DTYPE_CODE: Record<DType, number> = { float32: 0, float64: 1, int32: 2, bool: 3, int8: 4 };
/** One number per (dtype, length): a string key would be built on every allocation. */
const sizeKey = (dtype: DType, n: number): number => n * 8 + DTYPE_CODE[dtype];
const dtypeOfStorage = (s: Storage): DType => s instanceof Float32Array ? 'float32' : s instanceof Float64Array ? 'float64' : s instanceof Int32Array ? 'int32' : s instanceof Uint8Array ? 'bool' : 'int8';
/**
 * An empty list of storages whose elements kind is already "objects": a fresh `[]` holds small
 * integers until its first push, and the optimized push (takeFromPool's and noteAllocation's, inlined
 * into every op that allocates) deoptimizes when a step's first storage lands in such an array; the
 * allocation path then runs unoptimized for a hundred steps more.
 */
function storageList(): Storage[] {
  const list: Storage[] = [EMPTY_STORAGE];
  list.length = 0;
  return list;
}
const EMPTY_STORAGE = new Float32Array(0);
const record = storageList();
function noteRecorded(s: Storage): void {
  if (recorded < record.length) record[recorded] = s;
  else record.push(s);
  recorded++;
}
/** Ends the open scope's record: its entries cleared (the list keeps no storage past its scope). */
function endRecord(): void {
  recording = 0;
  for (let i = 0; i < recorded; i++) record[i] = EMPTY_STORAGE;
  recorded = 0;
}
/** Storages recorded by earlier scopes that were still live at their close. */
let carried: Storage[] = storageList();
let carriedLen = 0;
/** The list the next close fills with what it carries (carried and spare swap at each close, keeping their capacity). */
let spare: Storage[] = storageList();
/**
 * Guard against releasing one buffer twice: true for exactly the storages on the free lists; false for
 * a storage taken from them that an open scope or the carried list still holds (the entry goes when
 * the storage leaves the pool's care: evicted, forgotten by an inference scope, abandoned). A Map
 * rewritten in place, not a Set added to at every release and deleted from at every take: a Set shrinks
 * and regrows its table (rehashing every storage it holds) as a step takes and returns its buffers.
 */
const inPool = new Map<Storage, boolean>();

/** A copy of the allocation counters since the process started (or the last reset). */
export function storageStats(): StorageStats {
  return { allocations: counts[ALLOCATIONS], bytes: counts[BYTES], reused: counts[REUSED], reusedBytes: counts[REUSED_BYTES] };
}

export function resetStorageStats(): void {
  counts.fill(0);
}

/** Whether released buffers are reused ('on'), not at all ('off'), or poisoned with NaN ('check'). */
export function poolMode(): Mode {
  return mode;
}

/** Sets the pool mode (tests compare pooled and unpooled runs); returns the previous one. */
export function setPoolMode(m: Mode): Mode {
  const prev = mode;
  mode = m;
  if (m !== 'on') {
    free.clear();
    inPool.clear();
  }
  return prev;
}

/** Called by dtype.ts: a free buffer of exactly this dtype and length (inside a scope only), or null. Counts the hand-out. */
export function takeFromPool(dtype: DType, n: number): Storage | null {
  // Only a scope takes from the pool: it records what it takes, so the buffer comes back at its
  // close. A buffer handed out with no scope open would leave the pool for good.
  if (recording === 0) return null;
  if (mode !== 'on' || n === 0) return null;
  const stack = free.get(sizeKey(dtype, n));
  if (stack === undefined || stack.length === 0) return null;
  const s = stack.pop()!;
  inPool.set(s, false);
  counts[ALLOCATIONS]++;
  counts[REUSED]++;
  counts[REUSED_BYTES] += s.byteLength;
  noteRecorded(s);
  return s;
}

/** Called by dtype.ts after a new allocation. */
export function noteAllocation(s: Storage): void {
  counts[ALLOCATIONS]++;
  counts[BYTES] += s.byteLength;
  if (recording !== 0) noteRecorded(s);
}

/** Puts s on the free list of `key` (its sizeKey). */
function release(s: Storage, key: number): void {
  if (inPool.get(s) === true || s.length === 0) return;
  if (mode === 'check') {
    if (s instanceof Float32Array || s instanceof Float64Array) s.fill(NaN);
    return;
  }
  if (mode !== 'on') return;
  const stack = free.get(key);
  if (stack === undefined) free.set(key, [s]);
  else stack.push(s);
  inPool.set(s, true);
}

export interface StorageScope {
  /**
   * Ends the scope: every storage recorded since it opened (and every one carried from an earlier
   * close) whose ArrayBuffer is not among `live`'s goes back to the pool. Returns the bytes released.
   */
  close(live: Iterable<Storage> | LiveBuffers): number;
  /** Ends the scope releasing nothing (a step that threw: what it made may still be referenced). */
  abandon(): void;
}

export interface StorageScopeOptions {
  /**
   * What happens to a recorded storage that is live at close. 'carry' (a training step's scope):
   * it is remembered and checked again at the next close, where it goes to the pool if nothing
   * live names it then. 'forget' (an inference call's scope, src/autograd/inference.ts): it is
   * dropped from the record and never pooled, so a result handed to the caller is left to the GC
   * like any tensor, however long the caller keeps it. Default 'carry'.
   */
  live?: 'carry' | 'forget';
}

/**
 * Starts recording the storages allocated from now on. Only one scope is open at a time; opening
 * another while one is open gives a scope that records and releases nothing.
 */
export function openStorageScope(options: StorageScopeOptions = {}): StorageScope {
  if (recording !== 0) return { close: () => 0, abandon: () => undefined };
  const carry = (options.live ?? 'carry') === 'carry';
  const id = ++scopesOpened;
  recording = id;
  recorded = 0;
  return {
    abandon(): void {
      if (recording !== id) return;
      for (let i = 0; i < recorded; i++) if (inPool.get(record[i]) === false) inPool.delete(record[i]); // out of the pool's care
      endRecord();
    },
    close(live: Iterable<Storage>): number {
      if (recording !== id) return 0;
      recording = 0; // nothing allocated from here on is recorded (nor taken from the pool)
      try {
        return closeRecord(live, recorded, carry);
      } finally {
        endRecord();
      }
    },
  };
}

/** The body of a scope's close: the scope's record is entries [0, nRec) of `record`. */
function closeRecord(live: Iterable<Storage> | LiveBuffers, nRec: number, carry: boolean): number {
  const rec = record;
  let keep: LiveBuffers;
  if ('hasBuffer' in live) {
    keep = live as LiveBuffers;
  } else {
    const buffers = new Set<ArrayBufferLike>();
    for (const s of live) buffers.add(s.buffer);
    keep = { hasBuffer: (b) => buffers.has(b) };
  }
  const stillLive = spare;
  let nLive = 0;
  let released = 0;
  // No storage is in both lists, nor twice in one: a scope records a storage when it is
  // allocated or taken from the pool, and only a released one goes back to the pool.
  // The sizes this scope asked for are those of every storage it handed out (noted in `askedAt`).
  const now = ++closes;
  const n0 = carry ? carriedLen : 0;
  for (let i = 0; i < n0 + nRec; i++) {
    const s = i < n0 ? carried[i] : rec[i - n0];
    const key = sizeKey(dtypeOfStorage(s), s.length);
    if (i >= n0) {
      const at = askedAt.get(key);
      if (at === undefined) askedAt.set(key, 2 * now);
      else if (at < 2 * now) askedAt.set(key, at >= 2 * now - 2 ? 2 * now + 1 : 2 * now);
    }
    if (keep.hasBuffer(s.buffer)) {
      if (carry) {
        if (nLive < stillLive.length) stillLive[nLive] = s;
        else stillLive.push(s);
        nLive++;
      }
      else if (inPool.get(s) === false) inPool.delete(s); // forgotten: out of the pool's care
      continue;
    }
    released += s.byteLength;
    release(s, key);
  }
  if (carry) {
    for (let i = 0; i < carriedLen; i++) carried[i] = EMPTY_STORAGE;
    spare = carried;
    carried = stillLive;
    carriedLen = nLive;
  }
  // Keep only the sizes asked for in this step and in the one before: a size that recurs
  // (fixed batch shapes; parameter-shaped gradients) will be asked for again, while the
  // activations of a batch padded to its own length would only sit in the pool through the
  // next step, beside that step's own buffers, and raise the peak.
  const both = 2 * now + 1;
  askedAt.forEach((at, key) => {
    if (at < 2 * now) askedAt.delete(key); // not asked for now: the next close has no use for it
  });
  free.forEach((stack, key) => {
    if (askedAt.get(key) === both) return;
    for (let i = 0; i < stack.length; i++) inPool.delete(stack[i]);
    free.delete(key); // deleting the entry being visited is allowed during Map.forEach
  });
  return released;
}

/**
 * Empties the free lists (their buffers become garbage, for the GC to free). The Trainer calls it
 * before an evaluation, whose batches have other shapes: the pool refills within two steps after.
 */
export function clearStoragePool(): void {
  for (const stack of free.values()) for (const s of stack) inPool.delete(s);
  free.clear();
  closes++; // the next close has no "close before" whose sizes it keeps
}

/** Bytes held in the pool's free lists. */
export function pooledBytes(): number {
  let b = 0;
  for (const stack of free.values()) for (const s of stack) b += s.byteLength;
  return b;
}
