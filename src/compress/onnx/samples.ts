/**
 * sampleInputsFor(model): a small valid input for the forward of each exportable model, for
 * exportOnnx when no real input is at hand (heed export on a task without its own loadModel, or a
 * Hugging Face directory). The values only let heed run its own input checks before exporting;
 * the graphs take any batch and sequence length.
 *
 *   exportOnnx(model, sampleInputsFor(model))
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Module } from '../../nn/module.js';
import { EncoderClassifier } from '../../models/encoder-classifier.js';
import { TokenTagger } from '../../models/token-tagger.js';
import { ViT } from '../../models/vit.js';
import { GPT } from '../../models/gpt.js';
import { Seq2SeqTransformer } from '../../models/seq2seq.js';
import { LstmAttentionSeq2Seq } from '../../models/lstm-seq2seq.js';
import { CnnClassifier } from '../../models/cnn.js';
import { Bert, BertForMaskedLM, BertForSequenceClassification, BertForTokenClassification } from '../../models/bert.js';
import { MaskedLM } from '../../models/masked-lm.js';
import { MultimodalFusion } from '../../models/multimodal.js';
import { PatchTSTForecaster } from '../../models/forecaster.js';
import { SASRec } from '../../models/sasrec.js';
import { WordTagger } from '../../models/word-tagger.js';
import { LSTM } from '../../nn/lstm.js';
import { GRU } from '../../nn/gru.js';
import { NUM_CALENDAR_FIELDS } from '../../data/calendar.js';
import { OnnxExportError } from '../../errors.js';

/** One row of `n` token ids padId + 1 … (kept inside the vocabulary), (1, n) int32. */
function tokens(n: number, padId: number, vocabSize: number): Tensor {
  return new Tensor(Int32Array.from({ length: n }, (_, i) => (padId + 1 + i) % vocabSize || 1), [1, n]);
}

const image = (c: number, size: number): Tensor => new Tensor(new Float32Array(c * size * size).fill(0.5), [1, c, size, size]);

/** A valid input for model.forward (see the file header); OnnxExportError for a model with no exporter. */
export function sampleInputsFor(model: Module): Tensor[] {
  const m = model as never;
  switch (model.constructor) {
    case EncoderClassifier: case TokenTagger: case MaskedLM: {
      const c = (m as EncoderClassifier).config;
      return [tokens(Math.min(3, c.maxLen - 1), c.padId, c.vocabSize)];
    }
    case Bert: case BertForMaskedLM: case BertForSequenceClassification: case BertForTokenClassification: {
      const c = (m as Bert).config;
      return [tokens(Math.min(3, c.maxLen - c.padId - 2), c.padId, c.vocabSize)];
    }
    case GPT: return [tokens(2, 0, (m as GPT).config.vocabSize)];
    case ViT: { const c = (m as ViT).config; return [image(c.inChannels, c.imageSize)]; }
    case CnnClassifier: { const c = (m as CnnClassifier).config; return [image(c.inChannels, c.imageSize)]; }
    case Seq2SeqTransformer: { const c = (m as Seq2SeqTransformer).config; return [tokens(3, c.padId, c.srcVocabSize), tokens(1, c.padId, c.tgtVocabSize)]; }
    case LstmAttentionSeq2Seq: { const c = (m as LstmAttentionSeq2Seq).config; return [tokens(3, c.padId, c.srcVocabSize), tokens(1, c.padId, c.tgtVocabSize)]; }
    case LSTM: case GRU: { const r = m as LSTM; return [new Tensor(new Float32Array(2 * r.inputSize), r.batchFirst ? [1, 2, r.inputSize] : [2, 1, r.inputSize])]; }
    case MultimodalFusion: { const c = (m as MultimodalFusion).config; return [tokens(2, c.padId, c.vocabSize), image(c.inChannels, c.imageSize)]; }
    case PatchTSTForecaster: {
      const c = (m as PatchTSTForecaster).config;
      return [new Tensor(Float32Array.from({ length: c.contextLength }, (_, t) => 1 + Math.sin(t)), [1, c.contextLength]), new Tensor(new Int32Array(c.horizon * NUM_CALENDAR_FIELDS), [1, c.horizon, NUM_CALENDAR_FIELDS])];
    }
    case SASRec: return [new Tensor(Int32Array.from([1, Math.min(2, (m as SASRec).config.numItems)]), [1, 2]), new Tensor(Int32Array.from([2]), [1])];
    case WordTagger: {
      const w = m as WordTagger, words = new Tensor(Int32Array.from([1, 1]), [1, 2]), shapes = new Tensor(new Int32Array(2), [1, 2]);
      return w.ngramEmbed ? [words, shapes, new Tensor(Int32Array.from([1]), [1]), new Tensor(Float32Array.from([1, 1]), [2, 1])] : [words, shapes];
    }
    default:
      throw new OnnxExportError(`exportOnnx: ${model.constructor.name} has no ONNX exporter, so heed has no sample input for it.`, model.constructor.name, '');
  }
}
