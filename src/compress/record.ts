/**
 * The compression record of a checkpoint (io/checkpoint.ts CompressionRecord): how a compressed
 * model differs structurally from the architecture its config.model describes. Saving derives it
 * from the model; loading replays it on the freshly built model, so the weights fit:
 *
 *   build config.model → prune the recorded heads → quantize the recorded layers (static: with a
 *   placeholder input scale each) → loadStateDict
 *
 * Heads are pruned before quantizing, as they were compressed (only float projections can shrink).
 */
import { Module } from '../nn/module.js';
import { QuantizedLinear } from '../nn/quantized-linear.js';
import type { CompressionRecord } from '../io/checkpoint.js';
import { CheckpointError } from '../errors.js';
import { pruneHeads, prunedHeadsOf } from './prune-heads.js';
import { quantizeDynamic } from './quantize-dynamic.js';

/** The structural part of a model's compression record: pruned heads and int8 layers (empty when neither). */
export function compressionOf(model: Module): CompressionRecord {
  const out: CompressionRecord = {};
  const heads = prunedHeadsOf(model);
  if (Object.keys(heads).length > 0) out.prunedHeads = heads;
  const quantized = model.namedModules().filter(([, m]) => m instanceof QuantizedLinear).map(([n]) => n);
  const isStatic = model.namedModules().some(([, m]) => m instanceof QuantizedLinear && m.inputScale !== null);
  if (quantized.length > 0) out.quantized = { dtype: 'int8', scheme: isStatic ? 'static' : 'dynamic', modules: quantized };
  return out;
}

/**
 * Replays a checkpoint's compression record on a model just built from its config.model, before
 * its weights are loaded. Errors are CheckpointErrors: the record names layers the model lacks.
 */
export function applyCompression(model: Module, record: CompressionRecord | undefined, where = 'config.json'): void {
  if (record === undefined) return;
  try {
    if (record.prunedHeads) pruneHeads(model, record.prunedHeads);
    if (record.quantized) {
      const names = record.quantized.modules;
      if (names.length > 0) quantizeDynamic(model, { modules: names.map((n) => new RegExp(`^${n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)) });
      // Static: a placeholder input scale per layer, so the state dict's calibrated inputScale loads into it.
      if (record.quantized.scheme === 'static') for (const [, m] of model.namedModules()) if (m instanceof QuantizedLinear && m.inputScale === null) m.setInputScale(1);
    }
  } catch (err) {
    throw new CheckpointError(`${where}: the compression record does not fit config.model: ${(err as Error).message} Fix: restore config.json, or recompress the original model.`);
  }
}
