/**
 * The G2P training step's GEMM calls (d 256, batch 64), recorded for replay: bench/gemm-step.ts and
 * bench/gemm-steal-ab.ts time them one by one, outside the step; and each call's FLOPs and shape label,
 * which those two and bench/step-roofline.ts report per shape.
 */
import { heedStep, makeTrainBatch, TRAIN_CONFIGS } from './train.ts';
import { k } from '../src/backend/registry.ts';

export type Params = Record<string, unknown>;
export interface GemmCall { name: string; p: Params }
export const STEP_GEMMS = ['sgemm', 'linearFused', 'linearBackward', 'linearBackwardFused'] as const;

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

const num = (p: Params, key: string) => Number(p[key] ?? 0);

/**
 * A GEMM call's FLOPs: sgemm 2·batch·m·n·k, linearFused 2·rows·outF·inF, linearBackward its two
 * products dx = dy·W and dW = dyᵀ·x, 4·rows·outF·inF; linearBackwardFused 2·rows·outF·inF for each
 * product it was asked for (gx, gw; its bias sums are not FLOPs the peak counts).
 */
export function gemmCallFlop({ name, p }: GemmCall): number {
  if (name === 'sgemm') return 2 * (num(p, 'batch') || 1) * num(p, 'm') * num(p, 'n') * num(p, 'k');
  if (name === 'linearFused') return 2 * num(p, 'rows') * num(p, 'outF') * num(p, 'inF');
  if (name === 'linearBackward' || name === 'linearBackwardFused') return 2 * products({ name, p }).length * num(p, 'rows') * num(p, 'outF') * num(p, 'inF');
  throw new Error(`gemmCallFlop: '${name}' is not one of the step's GEMM kernels (${STEP_GEMMS.join(', ')})`);
}

/** The products a Linear backward call computes: linearBackward both, linearBackwardFused those it got outputs for. */
function products({ name, p }: GemmCall): ('gx' | 'gw')[] {
  return name === 'linearBackward' ? ['gx', 'gw'] : (['gx', 'gw'] as const).filter((x) => p[x] != null);
}

/**
 * A GEMM call's shape label, the m×n×k of each product and its layout: `sgemm [B× ]m×n×k NN[ +bias]`,
 * `linearFused rows×outF×inF NT[ +relu][ +dropout][ +residual]`, `linearBackward rows×inF×outF NN ‖
 * outF×inF×rows TN` (bench/step-roofline.ts, gemm-step.ts and gemm-steal-ab.ts group the calls by it).
 */
export function gemmCallLabel({ name, p }: GemmCall): string {
  if (name === 'sgemm') {
    const batch = num(p, 'batch');
    return `sgemm ${batch > 1 ? `${batch}× ` : ''}${num(p, 'm')}×${num(p, 'n')}×${num(p, 'k')} ${p.transA ? 'T' : 'N'}${p.transB ? 'T' : 'N'}${p.bias ? ' +bias' : ''}`;
  }
  if (name === 'linearFused') {
    return `linearFused ${num(p, 'rows')}×${num(p, 'outF')}×${num(p, 'inF')} NT${num(p, 'activation') ? ' +relu' : ''}${num(p, 'p') > 0 ? ' +dropout' : ''}${p.residual ? ' +residual' : ''}`;
  }
  if (name === 'linearBackward' || name === 'linearBackwardFused') {
    const rows = num(p, 'rows'), inF = num(p, 'inF'), outF = num(p, 'outF');
    const label = { gx: `${rows}×${inF}×${outF} NN`, gw: `${outF}×${inF}×${rows} TN` };
    return `${name} ${products({ name, p }).map((x) => label[x]).join(' ‖ ')}${p.gb ? ' +db' : ''}`;
  }
  throw new Error(`gemmCallLabel: '${name}' is not one of the step's GEMM kernels (${STEP_GEMMS.join(', ')})`);
}
