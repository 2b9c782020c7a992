/**
 * Hugging Face checkpoint layouts: the name maps (heed path ↔ HF path, per architecture and
 * head), config.json translation, and the directory reader / writer (files.ts).
 */
export { heedToHf, hfToHeed, requireHfName, isIgnoredHfKey } from './names.js';
export type { NameMap, NameRule, MappedName } from './names.js';
export { HF_ARCHITECTURES, hfArchitecture, architectureOf, heedConfigOf } from './architectures.js';
export type { HfArchitecture, HeedModelName } from './architectures.js';
export { bertNameMap, BERT_ARCHITECTURES } from './bert.js';
export type { BertFlavor, BertHead } from './bert.js';
export { gpt2NameMap, GPT2_ARCHITECTURES } from './gpt2.js';
export type { Gpt2Head } from './gpt2.js';
export { vitNameMap, VIT_ARCHITECTURE } from './vit.js';
export type { HfConfig } from './config.js';
export { readHfConfig, readHfWeights, writeHfDirectory, isHfDirectory, HF_CONFIG_FILE, HF_WEIGHTS_FILE, HF_INDEX_FILE } from './files.js';
export type { HfWeights, WriteHfOptions } from './files.js';
