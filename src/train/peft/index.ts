/**
 * Parameter-efficient fine-tuning: LoRA, bottleneck adapters and prefix tuning over a frozen heed
 * model, with adapter-only checkpoints in HF peft's layout. See peft-model.ts.
 */
export { LoraLinear } from './lora.js';
export { LoraEmbedding } from './lora-embedding.js';
export type { LoraOptions } from './lora.js';
export { BottleneckAdapter, attachBottleneck, detachBottleneck } from './bottleneck.js';
export { PrefixAttention } from './prefix.js';
export { PeftModel, getPeftModel, resolvePeftConfig, matchesTarget, PEFT_TYPES, PEFT_DEFAULTS } from './peft-model.js';
export type { PeftConfig, PeftType } from './peft-model.js';
export { savePeftAdapter, loadPeftAdapter, readAdapterConfig, baseFingerprint, ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE } from './checkpoint.js';
export type { AdapterConfigFile, AdapterKeyNames } from './checkpoint.js';
