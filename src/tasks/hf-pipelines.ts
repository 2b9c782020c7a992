/**
 * A Hugging Face checkpoint directory as a Predictor, so `heed predict`, `heed serve` and
 * `heed viz` take one as they take a heed model directory. The task is HF's pipeline task of the
 * architecture (what `pipeline(model=dir)` picks):
 *
 *   *ForMaskedLM                → 'fill-mask'            input 'Paris is the [MASK] of France.'
 *   *ForSequenceClassification  → 'text-classification'  input 'a fine film'
 *   *ForTokenClassification     → 'token-classification' input 'Ada lives in Paris'
 *   GPT2LMHeadModel, GPT2Model  → 'text-generation'      input 'Once upon a time' (greedy, nBest = new tokens, default 20)
 *   ViTForImageClassification   → 'image-classification' input { pixels: number[] } (C·H·W floats, already
 *                                                          resized and normalised as the model's image processor does)
 *
 * Text is tokenized by the directory's tokenizer (tokenizer.json, vocab.txt or vocab.json +
 * merges.txt, data/tokenizers), checked against the model's vocab_size. A model with weights the
 * checkpoint lacked (a newly initialized head) is refused: it would serve random answers.
 * Attention maps come from the AttentionRecorder, labelled with the tokens (or patches).
 */
import { Tensor } from '../tensor/tensor.js';
import { tensor } from '../tensor/creation.js';
import { noGrad } from '../autograd/mode.js';
import { softmax } from '../ops/softmax.js';
import { AttentionRecorder } from '../nn/attention/recorder.js';
import { fromPretrained, type PretrainedModel } from '../models/pretrained.js';
import { GPT } from '../models/gpt.js';
import { ViT } from '../models/vit.js';
import { BertForMaskedLM, BertForSequenceClassification, BertForTokenClassification } from '../models/bert.js';
import { architectureOf, readHfConfig, type HfConfig } from '../io/hf/index.js';
import { loadTokenizer } from '../data/tokenizers/load.js';
import { checkTokenizerVocabSize } from '../data/tokenizers/check-vocab-size.js';
import type { Tokenizer } from '../data/tokenizers/tokenizer.js';
import type { Encoding } from '../data/tokenizers/encoding.js';
import { CheckpointError, ConfigError, ValueError } from '../errors.js';
import { preview } from '../io/json.js';
import { hfMaxTokens } from './hf-finetune.js';
import type { AttentionMap, PredictOptions, Prediction, Predictor } from './predictor.js';

export type HfPipelineTask = 'fill-mask' | 'text-classification' | 'token-classification' | 'text-generation' | 'image-classification';

/** The pipeline task of a heed model class. */
function taskOfModel(m: PretrainedModel): HfPipelineTask | null {
  if (m instanceof BertForMaskedLM) return 'fill-mask';
  if (m instanceof BertForSequenceClassification) return 'text-classification';
  if (m instanceof BertForTokenClassification) return 'token-classification';
  if (m instanceof GPT) return 'text-generation';
  if (m instanceof ViT) return 'image-classification';
  return null;
}

/** Label names from config.json's id2label (LABEL_i when absent). */
function labelNames(config: HfConfig, n: number): string[] {
  const m = config.id2label as Record<string, unknown> | undefined;
  return Array.from({ length: n }, (_, i) => (m && typeof m[String(i)] === 'string' ? (m[String(i)] as string) : `LABEL_${i}`));
}

function topK(row: ArrayLike<number>, k: number): [number, number][] {
  return Array.from(row, (s, i): [number, number] => [s, i]).sort((a, b) => b[0] - a[0]).slice(0, k);
}

export class HfPipelinePredictor implements Predictor {
  private constructor(
    readonly task: HfPipelineTask,
    readonly dir: string,
    readonly config: Readonly<HfConfig>,
    private readonly model: PretrainedModel,
    private readonly tokenizer: Tokenizer | null,
  ) {}

  /** Loads `dir` (config.json + weights + tokenizer files) for its architecture's pipeline task. */
  static async load(dir: string): Promise<HfPipelinePredictor> {
    const config = readHfConfig(dir);
    const arch = architectureOf(config, `${dir}/config.json`);
    let missing: string[] = [];
    const model = await fromPretrained(dir, { onReport: (r) => { missing = r.missingKeys; } });
    if (missing.length > 0) {
      throw new CheckpointError(`${dir}: ${arch.name} lacks weights (${missing.slice(0, 4).join(', ')}${missing.length > 4 ? ', …' : ''}); serving it would give random answers. Fix: fine-tune the model first (its head is newly initialized), then serve the saved directory.`);
    }
    const task = taskOfModel(model);
    if (task === null) {
      throw new ConfigError(`${dir}/config.json: ${arch.name} has no pipeline task (it outputs hidden states). Fix: serve a checkpoint with a head (…ForMaskedLM, …ForSequenceClassification, …ForTokenClassification).`);
    }
    let tokenizer: Tokenizer | null = null;
    if (task !== 'image-classification') {
      tokenizer = loadTokenizer(dir);
      checkTokenizerVocabSize(tokenizer, model instanceof GPT ? model.config.vocabSize : (model as BertForMaskedLM).config.vocabSize, dir);
    }
    return new HfPipelinePredictor(task, dir, Object.freeze({ ...config }), model, tokenizer);
  }

  private get maxLen(): number {
    return hfMaxTokens((this.model as { config: { maxLen?: number; padId?: number; positions?: string } }).config);
  }

  private encode(input: unknown): Encoding {
    if (typeof input !== 'string' || input.trim() === '') throw new ValueError(`${this.task}: input is ${preview(input, 60)}, expected a non-empty string.`);
    const add = this.task !== 'text-generation';
    return this.tokenizer!.encode(input, null, { addSpecialTokens: add, truncation: true, maxLength: this.maxLen });
  }

  private maskId(): number {
    const t = this.tokenizer!;
    const id = t.tokenToId('[MASK]') ?? t.tokenToId('<mask>');
    if (id === undefined) throw new ConfigError(`${this.dir}: the tokenizer has no mask token ([MASK] or <mask>), so fill-mask cannot mark the blank.`);
    return id;
  }

  private image(input: unknown): Tensor {
    const c = (this.model as ViT).config;
    const n = c.inChannels * c.imageSize * c.imageSize;
    const px = (input as { pixels?: unknown } | null)?.pixels;
    if (!Array.isArray(px) || px.length !== n || !px.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new ValueError(`image-classification: input must be { pixels: number[] } with ${n} finite numbers (${c.inChannels}×${c.imageSize}×${c.imageSize}, channels first, normalised as the model's image processor does), received ${preview(input, 60)}.`);
    }
    return tensor(px as number[], [1, c.inChannels, c.imageSize, c.imageSize]); // (1, C, I, I)
  }

  validateInput(input: unknown): void {
    if (this.task === 'image-classification') {
      this.image(input);
      return;
    }
    const e = this.encode(input);
    if (this.task === 'fill-mask' && !e.ids.includes(this.maskId())) {
      throw new ValueError(`fill-mask: input ${preview(input, 60)} holds no mask token; write the blank as ${this.tokenizer!.idToToken(this.maskId())}.`);
    }
  }

  predict(inputs: readonly unknown[], options: PredictOptions = {}): Prediction[] {
    this.model.eval();
    return inputs.map((input) => {
      this.validateInput(input);
      const rec = options.attention ? new AttentionRecorder(this.model) : null;
      const out = noGrad(() => (rec ? rec.record(() => this.predictOne(input, options)) : this.predictOne(input, options)));
      if (rec) out.prediction.attention = rec.toAttentionMaps(0, out.labels, out.labels) as AttentionMap[];
      return out.prediction;
    });
  }

  private predictOne(input: unknown, o: PredictOptions): { prediction: Prediction; labels: string[] } {
    if (this.task === 'image-classification') {
      const m = this.model as ViT;
      const probs = softmax(m.forward(this.image(input)), -1).data; // (1, K)
      const names = labelNames(this.config, probs.length);
      const order = topK(probs, o.nBest ?? names.length);
      const N = (m.config.imageSize / m.config.patchSize) ** 2;
      return { prediction: { input, output: names[order[0][1]], alternatives: order.map(([s, i]) => ({ output: names[i], score: s })) },
        labels: ['[CLS]', ...Array.from({ length: N }, (_, i) => `patch ${i}`)] };
    }
    const e = this.encode(input);
    const ids = tensor(e.ids, [1, e.ids.length], { dtype: 'int32' }); // (1, T)
    const labels = e.tokens;
    if (this.task === 'text-generation') {
      const m = this.model as GPT;
      const room = m.config.maxLen - e.ids.length;
      const n = Math.min(o.nBest ?? 20, room);
      if (n <= 0) throw new ValueError(`text-generation: the prompt has ${e.ids.length} tokens, the model's context is ${m.config.maxLen}; nothing is left to generate. Fix: shorten the prompt.`);
      const out = Array.from(m.generate(ids, { maxNewTokens: n, temperature: 0 }).data as Int32Array);
      return { prediction: { input, output: this.tokenizer!.decode(out) }, labels };
    }
    const types = tensor(e.typeIds, [1, e.typeIds.length], { dtype: 'int32' });
    const mask = tensor(e.attentionMask, [1, e.ids.length], { dtype: 'int32' });
    const hasTypes = (this.model as BertForMaskedLM).config.typeVocabSize > 0;
    const call = { attentionMask: mask, tokenTypeIds: hasTypes ? types : null };
    if (this.task === 'text-classification') {
      const probs = softmax((this.model as BertForSequenceClassification).forward(ids, call), -1).data; // (1, K)
      const names = labelNames(this.config, probs.length);
      const order = topK(probs, o.nBest ?? names.length);
      return { prediction: { input, output: names[order[0][1]], alternatives: order.map(([s, i]) => ({ output: names[i], score: s })) }, labels };
    }
    if (this.task === 'token-classification') {
      const probs = softmax((this.model as BertForTokenClassification).forward(ids, call), -1); // (1, T, K)
      const K = probs.shape[2], names = labelNames(this.config, K), text = input as string;
      const tokens = e.ids.flatMap((_, t) => {
        if (e.specialTokensMask[t]) return [];
        const [s, i] = topK(probs.data.subarray(t * K, (t + 1) * K), 1)[0];
        const [start, end] = e.offsets[t];
        return [{ token: e.tokens[t], word: text.slice(start, end), entity: names[i], score: s, start, end }];
      });
      return { prediction: { input, output: tokens }, labels };
    }
    // fill-mask: the most probable tokens at the first blank, each as the completed text
    const logits = (this.model as BertForMaskedLM).forward(ids, call); // (1, T, V)
    const V = logits.shape[2], maskId = this.maskId();
    const blanks = e.ids.flatMap((id, t) => (id === maskId ? [t] : []));
    const fill = (t: number, k: number) => topK(softmax(new Tensor(logits.data.slice(t * V, (t + 1) * V), [V]), -1).data, k);
    const filled = [...e.ids];
    for (const t of blanks.slice(1)) filled[t] = fill(t, 1)[0][1];
    const alternatives = fill(blanks[0], o.nBest ?? 5).map(([s, id]) => {
      filled[blanks[0]] = id;
      return { output: this.tokenizer!.decode(filled, { skipSpecialTokens: true }), score: s };
    });
    return { prediction: { input, output: alternatives[0].output, alternatives }, labels };
  }
}

/** Loads a Hugging Face checkpoint directory as a Predictor (see the file header for the tasks). */
export function loadHfPredictor(dir: string): Promise<HfPipelinePredictor> {
  return HfPipelinePredictor.load(dir);
}
