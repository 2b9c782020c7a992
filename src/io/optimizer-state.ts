/**
 * The saved form of an optimizer's state: what `optimizer.safetensors` holds (buffers as
 * tensors; groups and step counts in its metadata). It is a file format, so it lives in io:
 * src/train/optim produces and consumes it (Optimizer.stateDict / loadStateDict), and
 * src/io/checkpoint.ts writes and reads it without knowing any optimizer.
 */
export interface OptimizerStateDict {
  /** One entry per group: its hyper-parameters and the names of its parameters. */
  paramGroups: { hyper: Record<string, number | boolean>; params: string[] }[];
  /** Per-parameter buffers `<name>.<buffer>` → values. */
  buffers: Record<string, { shape: number[]; data: Float32Array }>;
  /** Per-parameter step counts (Adam), `<name>` → step. */
  steps: Record<string, number>;
}
