/**
 * The G2P training step's GEMM calls (d 256, batch 64), recorded for replay: bench/gemm-step.ts and
 * bench/gemm-steal-ab.ts time them one by one, outside the step.
 */
import { heedStep, makeTrainBatch, TRAIN_CONFIGS } from './train.ts';
import { k } from '../src/backend/registry.ts';

export type Params = Record<string, unknown>;
export interface GemmCall { name: string; p: Params }
export const STEP_GEMMS = ['sgemm', 'linearFused', 'linearBackward'] as const;

/**
 * One step's calls of `names`, with their parameters, after two warm-up steps. The buffers are the
 * step's own: later steps reuse them from the storage pool at the same sizes, so replaying a call
 * reads and writes memory of the step's layout. The kernel table is restored afterwards.
 */
export async function recordStepGemmCalls(names: readonly string[] = STEP_GEMMS): Promise<GemmCall[]> {
  const table = k as unknown as Record<string, (p: Params) => unknown>;
  const h = await heedStep(makeTrainBatch(), TRAIN_CONFIGS[0]);
  for (let i = 0; i < 2; i++) h.step();
  const calls: GemmCall[] = [];
  const saved = new Map<string, (p: Params) => unknown>();
  for (const name of names) {
    const fn = table[name];
    saved.set(name, fn);
    table[name] = (p) => { calls.push({ name, p: { ...p } }); return fn(p); };
  }
  try {
    h.step();
  } finally {
    for (const [name, fn] of saved) table[name] = fn;
  }
  return calls;
}
