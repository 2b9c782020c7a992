/**
 * Every Hugging Face architecture heed reads and writes, by its class name (config.json's
 * `architectures[0]`): which heed model builds it (`heedModel`, resolved in
 * models/pretrained.ts), its name map, and its config translation both ways.
 *
 *   const arch = hfArchitecture('RobertaForTokenClassification');
 *   arch.nameMap.rules            // heed path ↔ HF path (for PEFT's target modules too)
 */
import { ConfigError } from '../../errors.js';
import { HfConfigReader, type HfConfig } from './config.js';
import type { NameMap } from './names.js';
import { BERT_ARCHITECTURES, bertConfigFromHf, bertConfigToHf, bertNameMap, type BertFlavor, type BertHead } from './bert.js';
import { GPT2_ARCHITECTURES, gpt2ConfigFromHf, gpt2ConfigToHf, gpt2NameMap, type Gpt2Head } from './gpt2.js';
import { VIT_ARCHITECTURE, vitConfigFromHf, vitConfigToHf, vitNameMap } from './vit.js';

/** The heed classes an HF architecture is built from (models/index.ts exports each). */
export type HeedModelName = 'Bert' | 'BertForMaskedLM' | 'BertForSequenceClassification' | 'BertForTokenClassification' | 'GPT' | 'ViT';

export interface HfArchitecture {
  /** HF class name, e.g. 'GPT2LMHeadModel'. */
  name: string;
  /** config.json's model_type. */
  modelType: string;
  heedModel: HeedModelName;
  /** HF's base_model_prefix: the attribute the family's head models keep the backbone under. */
  basePrefix: string;
  /** A base model (BertModel, GPT2Model): its keys carry no basePrefix. */
  isBase: boolean;
  nameMap: NameMap;
  /** heed config keys from a config.json. */
  configFromHf(r: HfConfigReader): Record<string, unknown>;
  /** config.json from heed config keys, over `extras` (the loaded file's keys heed does not model). */
  configToHf(c: Readonly<Record<string, unknown>>, extras: HfConfig): HfConfig;
}

const BERT_HEED: Record<BertHead, HeedModelName> = {
  base: 'Bert', 'masked-lm': 'BertForMaskedLM', 'sequence-classification': 'BertForSequenceClassification', 'token-classification': 'BertForTokenClassification',
};

function build(): Map<string, HfArchitecture> {
  const out = new Map<string, HfArchitecture>();
  for (const flavor of Object.keys(BERT_ARCHITECTURES) as BertFlavor[]) {
    for (const head of Object.keys(BERT_HEED) as BertHead[]) {
      const name = BERT_ARCHITECTURES[flavor][head];
      out.set(name, {
        name, modelType: flavor, heedModel: BERT_HEED[head], basePrefix: flavor, isBase: head === 'base', nameMap: bertNameMap(flavor, head),
        configFromHf: (r) => bertConfigFromHf(r, flavor, head), configToHf: (c, e) => bertConfigToHf(c, head, e),
      });
    }
  }
  for (const head of Object.keys(GPT2_ARCHITECTURES) as Gpt2Head[]) {
    const name = GPT2_ARCHITECTURES[head];
    out.set(name, {
      name, modelType: 'gpt2', heedModel: 'GPT', basePrefix: 'transformer', isBase: head === 'base', nameMap: gpt2NameMap(head),
      configFromHf: (r) => gpt2ConfigFromHf(r, head), configToHf: (c, e) => gpt2ConfigToHf(c, head, e),
    });
  }
  out.set(VIT_ARCHITECTURE, {
    name: VIT_ARCHITECTURE, modelType: 'vit', heedModel: 'ViT', basePrefix: 'vit', isBase: false, nameMap: vitNameMap(),
    configFromHf: (r) => vitConfigFromHf(r), configToHf: (c, e) => vitConfigToHf(c, e),
  });
  return out;
}

export const HF_ARCHITECTURES: ReadonlyMap<string, HfArchitecture> = build();

/** The architecture of a class name; a ConfigError listing the supported ones otherwise. */
export function hfArchitecture(name: string, source = 'config.json'): HfArchitecture {
  const a = HF_ARCHITECTURES.get(name);
  if (a === undefined) {
    throw new ConfigError(`${source}: architecture '${name.slice(0, 80)}' is not supported. heed reads ${[...HF_ARCHITECTURES.keys()].join(', ')}. Fix: pass { architecture } to fromPretrained to load the weights into a supported head of the same model_type.`);
  }
  return a;
}

/** The architecture of a parsed config.json: `architectures[0]`, or `override`, checked against model_type. */
export function architectureOf(config: HfConfig, source: string, override?: string): HfArchitecture {
  const modelType = config.model_type;
  const types = [...new Set([...HF_ARCHITECTURES.values()].map((a) => a.modelType))];
  if (typeof modelType !== 'string' || !types.includes(modelType)) {
    throw new ConfigError(`${source}: model_type ${typeof modelType === 'string' ? `'${modelType.slice(0, 60)}'` : 'is missing or not a string, so it'} is not supported. heed reads model_type ${types.map((t) => `'${t}'`).join(', ')}.`);
  }
  let name = override;
  if (name === undefined) {
    const list = config.architectures;
    if (!Array.isArray(list) || typeof list[0] !== 'string') {
      throw new ConfigError(`${source}: 'architectures' is missing, so the head is unknown. Fix: pass { architecture: '...' } to fromPretrained (for model_type '${modelType}': ${[...HF_ARCHITECTURES.values()].filter((a) => a.modelType === modelType).map((a) => a.name).join(', ')}).`);
    }
    name = list[0] as string;
  }
  const arch = hfArchitecture(name, source);
  if (arch.modelType !== modelType) {
    throw new ConfigError(`${source}: architecture '${arch.name}' is a '${arch.modelType}' model but model_type is '${modelType}'. Fix: choose a ${modelType} architecture.`);
  }
  return arch;
}

/** Reads the heed config of `arch` from config.json. */
export function heedConfigOf(arch: HfArchitecture, config: HfConfig, source: string): Record<string, unknown> {
  return arch.configFromHf(new HfConfigReader(config, source));
}
