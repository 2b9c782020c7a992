/**
 * A bound on how many elements tensor storage may allocate while a function runs.
 *
 * Loading a checkpoint builds its model from config.json before the weights can be copied in, and
 * a model's constructor allocates and initialises every parameter. A config edited to say
 * `numLayers: 1e6` or `dModel: 1e9` would hang or exhaust memory before any check on the weights
 * ran. The loader therefore builds the model under a limit derived from the weights file: every
 * storage allocation (dtype.ts alloc/allocUninit) is charged before it happens, and the first one
 * past the limit throws the error the caller chose, so nothing larger is ever allocated.
 *
 *   withAllocationLimit(2 * headerElements, (asked, limit) => new CheckpointError(...), () => Model.fromConfig(cfg));
 *
 * Synchronous only: the limit applies to everything allocated until `fn` returns.
 */

interface ActiveLimit {
  remaining: number;
  limit: number;
  onExceed: (requested: number, limit: number) => Error;
}

let active: ActiveLimit | null = null;

/** Charges an allocation of `n` elements against the active limit, if any (called by alloc). */
export function chargeAllocation(n: number): void {
  if (active === null) return;
  active.remaining -= n;
  if (active.remaining < 0) {
    const { onExceed, limit } = active;
    throw onExceed(limit - active.remaining, limit);
  }
}

/**
 * Runs `fn`, throwing `onExceed(requested, limit)` as soon as the elements it allocates in total
 * would pass `maxElements`. Limits nest: the inner one applies until it returns.
 */
export function withAllocationLimit<T>(maxElements: number, onExceed: (requested: number, limit: number) => Error, fn: () => T): T {
  const outer = active;
  active = { remaining: maxElements, limit: maxElements, onExceed };
  try {
    return fn();
  } finally {
    active = outer;
  }
}
