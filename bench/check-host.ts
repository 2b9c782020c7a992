/**
 * The host's memory speed, measured with no heed code: a streaming copy between two typed arrays
 * (`TypedArray.prototype.set`, V8's memmove), in GB/s (bytes read + bytes written per second).
 *
 * Why (bench/check.ts, step 4): this VM runs the same code in a fast and a slow mode minutes apart
 * (the 1-thread training step reads ~100 or ~113 ms) while the FMA probe reads the same, so a heed
 * row's ratio to the FMA peak moves with the host's memory speed, not only with heed. The guard
 * measures this copy beside each module of each pass and keeps, for every heed row with a ratio to
 * the peak, a second ratio to it: the row's GFLOP/s over the copy's GB/s, taken in the same minute.
 * A fall against the peak while the row held against this probe is the host's, not heed's. The probe
 * is heed-free on purpose: a reference that heed's own kernels computed would slow down with heed.
 */

/** The probe's name as a reference in the guard's ratios (`workload|threads|against`). */
export const HOST_PROBE = 'host memory probe';
/** Bytes of each array: above this VM's L2 (1 MiB per core), near the working sets of the small attention rows. */
export const HOST_PROBE_BYTES = 8 * 2 ** 20;

let arrays: { src: Float64Array; dst: Float64Array } | undefined;

/**
 * GB/s of copying HOST_PROBE_BYTES (`bytes` to override) from one array to another: the best of
 * `reps` copies after one warm-up, so a descheduled copy does not count. About 10 ms at the default.
 */
export function hostProbe(reps = 9, bytes = HOST_PROBE_BYTES): number {
  if (!arrays || arrays.src.byteLength !== bytes) {
    const n = bytes / 8;
    arrays = { src: new Float64Array(n), dst: new Float64Array(n) };
    for (let i = 0; i < n; i++) arrays.src[i] = i;
  }
  const { src, dst } = arrays;
  dst.set(src);
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    dst.set(src);
    best = Math.min(best, performance.now() - t0);
  }
  return (2 * bytes) / (best * 1e6);
}
