/**
 * A process-wide counter of in-place weight changes, so that code that keeps a derived copy of
 * weights (FusedEncoder's packed q|k|v GEMM weights, src/models/fused-encoder.ts) knows when the
 * copy may be stale without comparing every value.
 *
 *   const v = weightsVersion();   // remember it beside the copy
 *   ...
 *   if (weightsVersion() !== v) rebuild();
 *
 * What bumps it: everything in heed that writes weights in place (Optimizer.step, loadStateDict,
 * Module.train/eval, magnitude pruning, LoRA merge/unmerge, PEFT adapter loading). Replacing a
 * weight tensor or a module is caught by the copy's owner comparing identities, not by this counter.
 * Code outside heed that writes into a weight's .data directly calls markWeightsChanged() after.
 */
let version = 0;

/** Declares that some weights changed in place (derived copies must be rebuilt). */
export function markWeightsChanged(): void {
  version++;
}

/** The current count of in-place weight changes. */
export function weightsVersion(): number {
  return version;
}

/**
 * What a derived weight copy was made from: weightsVersion() then, and every module, tensor and
 * storage it read (in a fixed order). The copy is current while both are unchanged.
 */
export interface WeightsSnapshot { readonly version: number; readonly sources: readonly unknown[] }

/** A snapshot of `sources` at the current weightsVersion(). */
export function snapshotWeights(sources: readonly unknown[]): WeightsSnapshot {
  return { version, sources };
}

/** True while no weight changed in place since `snap` and `now` lists the same objects. */
export function isSnapshotCurrent(snap: WeightsSnapshot, now: readonly unknown[]): boolean {
  return snap.version === version && now.length === snap.sources.length && now.every((s, i) => s === snap.sources[i]);
}
