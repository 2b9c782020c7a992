/**
 * PatchTST-style forecaster (Nie et al. 2023, "A Time Series is Worth 64 Words"): the context
 * window is normalised per instance (RevIN), cut into patches, each patch is one token for a
 * Transformer encoder, and a flatten head maps all tokens to the forecast. Channel independence:
 * every series is its own instance, through the same weights (the task puts each (series,
 * origin) pair in the batch).
 *
 * Two additions to the PatchTST paper's model, for daily data with holidays:
 *   - calendar features of each forecast day (day of week, day of year, nth weekday of the month,
 *     last weekday of the month; src/data/calendar.ts) are embedded and added to that day's
 *     hidden vector, so fixed and floating holidays can be learned; with `holidays`, two more:
 *     the US federal holiday within ±3 days and the offset from it, and whether the day is an
 *     observed day off (by weekday), so a holiday is one learned vector, not one per date;
 *   - the head predicts quantiles, not one value. They are ordered by construction: the 0.5
 *     level is the point forecast, and each level above (below) adds (subtracts) a softplus to
 *     its neighbour, so q_0.1 ≤ q_0.5 ≤ q_0.9 for every input. Train with pinballLoss.
 *
 * RevIN (Kim et al. 2022) as in the PatchTST code: mean and std of the context are statistics
 * of the input, not learned (no gradient flows through them), with a learned affine; the output
 * is mapped back with the inverse.
 *
 *   const m = new PatchTSTForecaster({ contextLength: 112, horizon: 28 });
 *   const q = m.forward(context, calendar);   // (B, 112), (B, 28, 6) int32 → (B, 28, 3)
 *
 * Letters: B instances, L context length, P patch length, S patch stride, N = (L − P)/S + 1
 * patches, D dModel, H horizon, E head width, Q quantile levels, F calendar fields.
 */
import { Tensor, empty } from '../tensor/tensor.js';
import { add, sub, mul, div, relu, abs, neg, exp, log, gelu } from '../ops/elementwise.js';
import { reshape, narrow, cat } from '../ops/shape.js';
import { Parameter } from '../nn/parameter.js';
import { Linear } from '../nn/linear.js';
import { Embedding } from '../nn/embedding.js';
import { LayerNorm } from '../nn/norm.js';
import { Dropout } from '../nn/dropout.js';
import { truncNormal } from '../nn/init.js';
import { TransformerEncoder, TransformerEncoderLayer } from '../nn/transformer.js';
import { CALENDAR_FIELDS, NUM_CALENDAR_FIELDS } from '../data/calendar.js';
import { ConfiguredModel, defineModelConfig, type ModelInit } from './config.js';
import { ConfigError, ShapeError, fmtShape } from '../errors.js';

export interface ForecasterConfig {
  /** L: values the model sees before the origin. */
  contextLength: number;
  /** H: values it forecasts. */
  horizon: number;
  /** P and S: patch length and stride; (L − P) must be a multiple of S. */
  patchLength: number;
  patchStride: number;
  dModel: number;
  numHeads: number;
  numLayers: number;
  dimFeedforward: number;
  /** E: width of each forecast day's hidden vector in the head. */
  headDim: number;
  dropout: number;
  /** Quantile levels, comma-separated, ascending in (0, 1), including 0.5 (the point forecast). */
  quantiles: string;
  /** Add calendar embeddings of the forecast days. */
  calendar: boolean;
  /** With calendar: add the holiday and day-off embeddings too (src/data/holidays.ts). */
  holidays: boolean;
}

export const FORECASTER_DEFAULTS: Readonly<ForecasterConfig> = Object.freeze({
  contextLength: 112, // 16 weeks: enough to read the level, trend and weekly shape
  horizon: 28, // the longest horizon reported; shorter ones are its first steps
  patchLength: 7, // one week per token: the daily data's main cycle
  patchStride: 7, // no overlap → N = 16 tokens
  dModel: 64, // a few thousand training windows: a small model
  numHeads: 4, // head dim 16
  numLayers: 2,
  dimFeedforward: 128,
  headDim: 16, // flatten head N·D → H·E stays ~460k weights
  dropout: 0.1,
  quantiles: '0.1,0.5,0.9', // an 80% band around the median
  calendar: true,
  // Holidays as their own features: births dip on them, and the ridge baseline cannot see them.
  holidays: true,
});

export const FORECASTER_CONFIG = defineModelConfig<ForecasterConfig, never>({
  model: 'PatchTSTForecaster',
  schema: {
    contextLength: 'number', horizon: 'number', patchLength: 'number', patchStride: 'number', dModel: 'number', numHeads: 'number', numLayers: 'number',
    dimFeedforward: 'number', headDim: 'number', dropout: 'number', quantiles: 'string', calendar: 'boolean', holidays: 'boolean',
  },
  defaults: FORECASTER_DEFAULTS,
  positiveInts: ['contextLength', 'horizon', 'patchLength', 'patchStride', 'dModel', 'numHeads', 'numLayers', 'dimFeedforward', 'headDim'],
  check: (c) => {
    if (c.patchLength > c.contextLength || (c.contextLength - c.patchLength) % c.patchStride !== 0) {
      throw new ConfigError(`PatchTSTForecaster: contextLength ${c.contextLength} − patchLength ${c.patchLength} must be a non-negative multiple of patchStride ${c.patchStride}. Fix: e.g. contextLength 112, patchLength 7, patchStride 7.`);
    }
    if (c.dModel % c.numHeads !== 0) throw new ConfigError(`PatchTSTForecaster: dModel ${c.dModel} is not divisible by numHeads ${c.numHeads}.`);
    parseQuantiles(c.quantiles);
  },
});

/** '0.1,0.5,0.9' → [0.1, 0.5, 0.9]; a ConfigError unless ascending in (0, 1) and holding 0.5. */
export function parseQuantiles(text: string): number[] {
  const q = text.split(',').map((s) => Number(s.trim()));
  const ok = q.length > 0 && q.every((v, i) => v > 0 && v < 1 && (i === 0 || v > q[i - 1])) && q.includes(0.5);
  if (!ok) throw new ConfigError(`PatchTSTForecaster: quantiles '${text}', expected ascending levels in (0, 1) that include 0.5, e.g. '0.1,0.5,0.9'.`);
  return q;
}

/** Number of patches N for a config. */
export function numPatches(c: Pick<ForecasterConfig, 'contextLength' | 'patchLength' | 'patchStride'>): number {
  return (c.contextLength - c.patchLength) / c.patchStride + 1;
}

/** softplus(x) = log(1 + eˣ), written relu(x) + log(1 + e^−|x|) so it never overflows. */
function softplus(x: Tensor): Tensor {
  return add(relu(x), log(add(exp(neg(abs(x))), 1)));
}

export class PatchTSTForecaster extends ConfiguredModel<ForecasterConfig> {
  readonly levels: number[];
  revinWeight: Parameter;
  revinBias: Parameter;
  patchEmbed: Linear;
  posEmbed: Parameter;
  drop: Dropout;
  encoder: TransformerEncoder;
  head: Linear;
  dayOfWeek: Embedding;
  dayOfYear: Embedding;
  monthWeekday: Embedding;
  lastWeekday: Embedding;
  /** Only with config.holidays. */
  holiday: Embedding | null;
  dayOff: Embedding | null;
  out: Linear;

  /** Args: config: every key defaults to FORECASTER_DEFAULTS. */
  constructor(config: ModelInit<ForecasterConfig, never> = {}) {
    super(FORECASTER_CONFIG, config);
    const c = this.config;
    const N = numPatches(c);
    this.levels = parseQuantiles(c.quantiles);
    this.revinWeight = new Parameter(new Tensor(new Float32Array([1]), [1])); // (1)
    this.revinBias = new Parameter(new Tensor(new Float32Array([0]), [1])); // (1)
    this.patchEmbed = new Linear(c.patchLength, c.dModel);
    this.posEmbed = new Parameter(truncNormal(empty([1, N, c.dModel]), 0, 0.02)); // (1, N, D)
    this.drop = new Dropout(c.dropout);
    this.encoder = new TransformerEncoder(c.numLayers, () => new TransformerEncoderLayer(c.dModel, c.numHeads, {
      dimFeedforward: c.dimFeedforward, dropout: c.dropout, normFirst: true, activation: 'gelu',
    }), new LayerNorm(c.dModel));
    this.head = new Linear(N * c.dModel, c.horizon * c.headDim);
    // Small init: the calendar starts as a perturbation of the context's forecast.
    const table = (n: number) => {
      const e = new Embedding(n, c.headDim);
      truncNormal(e.weight, 0, 0.02);
      return e;
    };
    this.dayOfWeek = table(CALENDAR_FIELDS.dayOfWeek);
    this.dayOfYear = table(CALENDAR_FIELDS.dayOfYear);
    this.monthWeekday = table(CALENDAR_FIELDS.monthWeekday);
    this.lastWeekday = table(CALENDAR_FIELDS.lastWeekday);
    this.holiday = c.holidays ? table(CALENDAR_FIELDS.holiday) : null;
    this.dayOff = c.holidays ? table(CALENDAR_FIELDS.dayOff) : null;
    this.out = new Linear(c.headDim, this.levels.length);
  }

  static fromConfig(saved: Record<string, unknown>): PatchTSTForecaster {
    // A config saved before `holidays` existed describes a model without those tables.
    return new PatchTSTForecaster(FORECASTER_CONFIG.load({ holidays: false, ...saved }));
  }

  /**
   * Args:
   *   context: (B, L) float32, the values before the origin (already globally scaled).
   *   calendar: (B, H, F) int32 calendar indices of the forecast days (src/data/calendar.ts).
   * Returns: (B, H, Q) quantile forecasts in the context's units, ascending along Q.
   */
  override forward(context: Tensor, calendar: Tensor): Tensor {
    const c = this.config;
    const [B, L] = context.shape;
    if (context.ndim !== 2 || L !== c.contextLength) {
      throw new ShapeError(`PatchTSTForecaster: context has shape ${fmtShape(context.shape)}, expected (B, ${c.contextLength}). Fix: pass the last contextLength values before each origin.`);
    }
    if (calendar.ndim !== 3 || calendar.shape[0] !== B || calendar.shape[1] !== c.horizon || calendar.shape[2] !== NUM_CALENDAR_FIELDS || calendar.dtype !== 'int32') {
      throw new ShapeError(`PatchTSTForecaster: calendar has shape ${fmtShape(calendar.shape)} (${calendar.dtype}), expected int32 (${B}, ${c.horizon}, ${NUM_CALENDAR_FIELDS}).`);
    }
    const N = numPatches(c), P = c.patchLength, S = c.patchStride, D = c.dModel, H = c.horizon, E = c.headDim;
    // RevIN statistics and patching read the input only (no gradient), so they are plain loops.
    const x = context.data as Float32Array;
    const mean = new Float32Array(B), std = new Float32Array(B);
    const patches = new Float32Array(B * N * P); // (B, N, P)
    for (let b = 0; b < B; b++) {
      let s = 0;
      for (let t = 0; t < L; t++) s += x[b * L + t];
      const mu = s / L;
      let v = 0;
      for (let t = 0; t < L; t++) v += (x[b * L + t] - mu) ** 2;
      mean[b] = mu;
      std[b] = Math.sqrt(v / L + 1e-5);
      for (let n = 0; n < N; n++) for (let p = 0; p < P; p++) patches[(b * N + n) * P + p] = (x[b * L + n * S + p] - mu) / std[b];
    }
    const normed = add(mul(new Tensor(patches, [B, N, P]), this.revinWeight), this.revinBias); // (B, N, P)
    let h = this.drop.call(add(this.patchEmbed.call(normed), this.posEmbed)); // (B, N, D)
    h = this.encoder.call(h); // (B, N, D)
    let z = reshape(this.head.call(reshape(h, [B, N * D])), [B, H, E]); // (B, H, E)
    if (c.calendar) {
      const field = (k: number) => reshape(narrow(calendar, 2, k, 1), [B, H]); // (B, H)
      z = add(z, this.dayOfWeek.call(field(0))); // (B, H, E)
      z = add(z, this.dayOfYear.call(field(1)));
      z = add(z, this.monthWeekday.call(field(2)));
      z = add(z, this.lastWeekday.call(field(3)));
      if (this.holiday !== null && this.dayOff !== null) {
        z = add(z, this.holiday.call(field(4)));
        z = add(z, this.dayOff.call(field(5)));
      }
    }
    const raw = this.out.call(gelu(z)); // (B, H, Q)
    const q = this.orderedQuantiles(raw); // (B, H, Q)
    // Inverse RevIN: (q − b) / w · std + mean, per instance.
    const w = add(this.revinWeight, 1e-10);
    const scaled = mul(div(sub(q, this.revinBias), w), new Tensor(std, [B, 1, 1])); // (B, H, Q)
    return add(scaled, new Tensor(mean, [B, 1, 1])); // (B, H, Q)
  }

  /** raw (B, H, Q) → quantiles ascending along Q: the 0.5 level as is, neighbours ± softplus steps. */
  private orderedQuantiles(raw: Tensor): Tensor {
    const Q = this.levels.length;
    const mid = this.levels.indexOf(0.5);
    const level = (k: number) => narrow(raw, 2, k, 1); // (B, H, 1)
    const out: Tensor[] = new Array(Q);
    out[mid] = level(mid);
    for (let k = mid + 1; k < Q; k++) out[k] = add(out[k - 1], softplus(level(k)));
    for (let k = mid - 1; k >= 0; k--) out[k] = sub(out[k + 1], softplus(level(k)));
    return Q === 1 ? out[0] : cat(out, 2); // (B, H, Q)
  }
}
